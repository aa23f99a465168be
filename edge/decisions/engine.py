"""The decision engine: raw probabilities + frame quality → reported label, confidence, smoothed probabilities.

Order per frame (time ``t`` in seconds, probabilities 0..1 in the model's label order):

1. image flags (frozen / dark / saturated / no region, from :class:`ImageGate` and preprocessing), the
   out-of-distribution check on the raw probabilities and the "not a liver" gate (:class:`LiverGate`);
2. a FROZEN frame resets smoothing and hysteresis (a frozen scanner is a new view when it thaws); a frame with
   any image flag is not folded into the smoothed probabilities;
3. time-aware EMA (:class:`TimeEma`, tau from the model's operating point) and hysteresis (:class:`Hysteresis`);
4. LOW_CONFIDENCE when the smoothed top probability is below ``min_confidence``;
5. label: :data:`NOT_LIVER` when the gate fired; :data:`UNCERTAIN` when any flag other than UNVERIFIED_MODEL
   is set or no class is reported yet, else the hysteresis class (never ``not_liver`` itself: that class
   speaks only through the gate). Confidence is the smoothed probability of the reported (or top) class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liveredge.edge.decisions.liver_gate import LiverGate
from liveredge.edge.decisions.quality import IMAGE_FLAGS, probability_flags
from liveredge.edge.decisions.smoothing import Hysteresis, TimeEma
from liveredge.edge.errors import ConfigError
from liveredge.edge.events import NOT_LIVER, UNCERTAIN, Quality
from liveredge.edge.model_meta import OperatingPoint


@dataclass(frozen=True)
class Decision:
    """One frame's decision: reported ``label`` (or "uncertain"), ``confidence`` 0..1, smoothed probs, flags."""

    label: str
    class_index: int | None
    confidence: float
    smoothed: tuple[float, ...]
    quality: Quality


@dataclass(frozen=True)
class DecisionConfig:
    """Hysteresis settings: ``margin`` in probability units, ``min_dwell_s`` in seconds."""

    margin: float = 0.1
    min_dwell_s: float = 0.3


class DecisionEngine:
    """Sans-I/O: feed :meth:`decide` with (time, probabilities, image quality) in time order."""

    def __init__(
        self, labels: tuple[str, ...], operating_point: OperatingPoint, config: DecisionConfig = DecisionConfig()
    ) -> None:
        if not labels:
            raise ConfigError("a decision engine needs at least one label")
        self.labels = labels
        self.op = operating_point
        self.ema = TimeEma(operating_point.smoothing_tau_s)
        self.hysteresis = Hysteresis(config.margin, config.min_dwell_s)
        self.liver_gate = LiverGate.for_model(labels, operating_point)

    def decide(
        self, t: float, probs: np.ndarray, image_quality: Quality = Quality.OK, logits: np.ndarray | None = None
    ) -> Decision:
        """Decision for one frame at time ``t`` with raw ``probs`` (n_classes,), its image flags and, for the
        energy check of the liver gate, the model's ``logits``."""
        p = np.asarray(probs, dtype=np.float64)
        if p.shape != (len(self.labels),):
            raise ConfigError(f"expected {len(self.labels)} probabilities, got shape {p.shape}")
        quality = image_quality | probability_flags(p, p, 0.0, self.op.ood_threshold)
        not_liver = self.liver_gate.fires(p, logits)
        if not_liver:
            quality |= Quality.OUT_OF_DISTRIBUTION
        if quality & Quality.FROZEN:
            self.reset()
        if quality & IMAGE_FLAGS:
            smoothed = self.ema.value if self.ema.value is not None else p
            reported = self.hysteresis.reported
        else:
            smoothed = self.ema.update(t, p)
            reported = self.hysteresis.update(t, smoothed)
        if float(np.max(smoothed)) < self.op.min_confidence:
            quality |= Quality.LOW_CONFIDENCE
        top = reported if reported is not None else int(np.argmax(smoothed))
        certain = reported is not None and not (quality & ~Quality.UNVERIFIED_MODEL)
        certain = certain and self.labels[top] != NOT_LIVER
        label = NOT_LIVER if not_liver else (self.labels[top] if certain else UNCERTAIN)
        return Decision(
            label=label,
            class_index=reported if certain else None,
            confidence=float(smoothed[top]),
            smoothed=tuple(float(v) for v in smoothed),
            quality=quality,
        )

    def reset(self) -> None:
        """Forget history (freeze, reconnect, new geometry, new exam)."""
        self.ema.reset()
        self.hysteresis.reset()
