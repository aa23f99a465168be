"""Sanity checks around ingestion and calibration: float parity and double normalisation.

* Float parity: the original model and its float32 TFLite export must agree on real frames before any
  quantisation, so a conversion error is never mistaken for a quantisation error. Measured as the maximum
  absolute difference of output 0 (probabilities, 0..1).
* Double normalisation: an in-graph ``Rescaling(1/255)`` (or ``Normalization``) fed data that is already in
  [0, 1] squeezes the input into [0, 0.004]; the symptom is an output that is (near) constant across the
  calibration frames. Both the layer pattern and the constant output are detected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from liveredge.convert import runner
from liveredge.edge.errors import DataError, ModelError

PARITY_ERROR = 1e-3
MIN_FLOAT_AUC = 0.6  # below this the float model itself does not fit the validation set: labels or preprocessing
CONSTANT_STD = 1e-6


@dataclass(frozen=True)
class Parity:
    """Float parity of the TFLite export against the source model: max |diff| of output 0 over ``frames``."""

    max_abs_diff: float
    frames: int
    top1_agreement: float

    def to_dict(self) -> dict[str, float]:
        return {"max_abs_diff": self.max_abs_diff, "frames": self.frames, "top1_agreement": self.top1_agreement}


def float_parity(reference: Any, float_tflite: bytes, x: np.ndarray, source: str) -> Parity:
    """Run both; ModelError when they differ by more than :data:`PARITY_ERROR`."""
    ref = np.asarray(reference(x), dtype=np.float32).reshape(len(x), -1)
    got = runner.predict(float_tflite, x).reshape(len(x), -1)
    if ref.shape != got.shape:
        raise ModelError(
            f"{source}: the TFLite export's output shape {got.shape} differs from the source's {ref.shape}"
        )
    diff = float(np.max(np.abs(ref - got)))
    parity = Parity(diff, len(x), float(np.mean(ref.argmax(1) == got.argmax(1))))
    if diff > PARITY_ERROR:
        raise ModelError(
            f"{source}: the float TFLite export differs from the source model by {diff:.2e} "
            f"(> {PARITY_ERROR}): a conversion error (layout, op lowering), not quantisation"
        )
    return parity


def input_rescaling(keras_model: Any) -> float | None:
    """Scale of a leading Rescaling layer (e.g. 1/255), or None."""
    if keras_model is None:
        return None
    for layer in getattr(keras_model, "layers", [])[:4]:
        if type(layer).__name__ == "Rescaling":
            return float(np.ravel(layer.scale)[0]) if np.size(layer.scale) else None
    return None


def check_double_normalization(keras_model: Any, calib_x: np.ndarray, outputs: np.ndarray, source: str) -> None:
    """DataError on an in-graph 1/255 fed [0, 1] data or a constant output over calibration frames."""
    lo, hi = float(calib_x.min()), float(calib_x.max())
    scale = input_rescaling(keras_model)
    if scale is not None and scale < 0.01 and hi <= 1.5:
        raise DataError(
            f"{source}: double normalisation — the model rescales its input by {scale:g} in-graph but "
            f"the spec already feeds [{lo:.2f}, {hi:.2f}]; use a spec with mean=0, std={1 / 255:.6f} "
            "(raw 0..255 pixels) or remove the Rescaling layer"
        )
    spread = float(np.max(np.std(outputs.reshape(len(outputs), -1), axis=0)))
    if len(outputs) > 1 and spread < CONSTANT_STD:
        raise DataError(
            f"{source}: the model's output is constant over {len(outputs)} calibration frames "
            f"(input range [{lo:.3f}, {hi:.3f}]): double normalisation or wrong mean/std in the spec?"
        )


def warn_small(n: int, minimum: int = 200) -> str | None:
    """Warning text (also emitted) when fewer than ``minimum`` calibration frames are used."""
    if n >= minimum:
        return None
    text = f"only {n} calibration frames (< {minimum}): int8 ranges may not cover real scans"
    print(f"warning: {text}", file=sys.stderr)
    return text


def float_sanity(
    float_tflite: bytes,
    x: np.ndarray,
    y: np.ndarray,
    labels: tuple[str, ...],
    source: str,
    minimum: float = MIN_FLOAT_AUC,
) -> float:
    """The float model's macro one-vs-rest AUC on the validation frames; :class:`DataError` with a hint when it is
    below ``minimum`` (chance is 0.5: the gate would compare int8 against a float model that is already wrong)."""
    from liveredge.models import metrics as M

    auc = M.macro_auc(y, runner.predict(float_tflite, x).reshape(len(x), -1))
    if np.isnan(auc) or auc >= minimum:
        return auc
    raise DataError(
        f"{source}: the FLOAT model scores a validation AUC of {auc:.3f} (< {minimum}; chance is 0.5) "
        f"before any quantisation, with the class order {list(labels)}. Label order? Give the model's "
        "own labels in output order (--labels a,b,c or 'labels' in the sidecar/--spec; e.g. PyTorch "
        "ImageFolder sorts them alphabetically). Preprocessing? Check --mean/--std, the input range "
        "and the channels against training. (--min-float-auc 0 skips this check.)"
    )
