"""The "not a liver" gate (sans-I/O): is this frame something the model was never meant to diagnose?

A handheld gets pointed at hearts, bladders, pregnancies, thyroids and air; a liver classifier is confidently
wrong on them, so max-softmax and entropy miss most. Two checks, each calibrated on validation data and
recorded in the model's operating point (``model_meta.OperatingPoint``):

- outlier exposure: the model was trained with a :data:`~liveredge.edge.events.NOT_LIVER` class on non-liver
  scenes; the gate fires when that class's probability reaches ``not_liver_threshold``;
- energy score (Liu et al. 2020): ``-logsumexp(logits)`` over the LIVER classes' logits (the global average of
  the class-activation output), high on inputs unlike the training data; fires above ``energy_threshold``.

A firing gate makes the frame OUT_OF_DISTRIBUTION (never folded into smoothing or an exam's disease) and its
label ``not_liver``. Models without either threshold have no gate (the entropy check still applies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveredge.edge.events import NOT_LIVER
from liveredge.edge.model_meta import OperatingPoint


def energy_score(logits: np.ndarray) -> float:
    """``-logsumexp(logits)``: larger means less like anything the model knows."""
    z = np.asarray(logits, dtype=np.float64)
    m = float(z.max())
    return -(m + float(np.log(np.exp(z - m).sum())))


@dataclass(frozen=True)
class LiverGate:
    """The gate of one model: index of the ``not_liver`` label (or None) and the two thresholds."""

    not_liver_index: int | None
    not_liver_threshold: float | None
    energy_threshold: float | None

    @classmethod
    def for_model(cls, labels: tuple[str, ...], op: OperatingPoint) -> LiverGate:
        index = labels.index(NOT_LIVER) if NOT_LIVER in labels else None
        return cls(index, op.not_liver_threshold if index is not None else None, op.energy_threshold)

    @property
    def active(self) -> bool:
        return self.not_liver_threshold is not None or self.energy_threshold is not None

    @property
    def needs_logits(self) -> bool:
        return self.energy_threshold is not None

    def liver_logits(self, logits: np.ndarray) -> np.ndarray:
        """The logits of the liver classes (the ``not_liver`` one left out)."""
        z = np.asarray(logits, dtype=np.float64)
        return np.delete(z, self.not_liver_index) if self.not_liver_index is not None else z

    def fires(self, probs: np.ndarray, logits: np.ndarray | None = None) -> bool:
        """Whether this frame is not a liver (``logits`` needed when the energy check is configured)."""
        if (
            self.not_liver_threshold is not None
            and self.not_liver_index is not None
            and float(probs[self.not_liver_index]) >= self.not_liver_threshold
        ):
            return True
        if self.energy_threshold is not None and logits is not None:
            return energy_score(self.liver_logits(logits)) > self.energy_threshold
        return False
