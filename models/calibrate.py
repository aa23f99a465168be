"""Choose a model's operating point on VALIDATION data and record it in its sidecar: temperature scaling
(Guo et al. 2017) so that its probabilities are calibrated, and the thresholds of the "not a liver" gate
(``edge.decisions.liver_gate``) at a chosen false-alarm rate on liver frames.

``liveredge calibrate MODEL.keras DATA --split val`` runs the float model on the validation split (frames
through the runtime's own preprocessing), writes ``operating_point`` into ``MODEL.liveredge.json`` (which
``liveredge convert`` copies into the ``.tflite`` metadata) and a report ``calibration.json`` beside it. The
numpy core (:func:`fit_temperature`, :func:`gate_thresholds`) needs no TensorFlow; the device applies the
temperature with ``edge.decisions.calibration.tempered``.
Validation data chooses here: never pass benchmark frames. Models trained on SIMULATED data: not for
clinical use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.decisions.liver_gate import energy_score
from liveredge.edge.errors import DataError, InputError
from liveredge.edge.events import NOT_LIVER
from liveredge.edge.model_meta import OperatingPoint
from liveredge.models.metrics import ece, roc_auc

FALSE_ALARM = 0.01  # per gate check, on validation liver frames (two checks: <= ~2 % together)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``y`` (grid 0.25-8, then refined)."""
    y = np.asarray(y)

    def nll(t: float) -> float:
        p = softmax(logits, t)[np.arange(len(y)), y]
        return float(-np.log(np.maximum(p, 1e-12)).mean())

    grid = np.geomspace(0.25, 8.0, 61)
    best = float(grid[int(np.argmin([nll(t) for t in grid]))])
    fine = np.geomspace(best / 1.06, best * 1.06, 25)
    return round(float(fine[int(np.argmin([nll(t) for t in fine]))]), 4)


@dataclass(frozen=True)
class GateChoice:
    """Thresholds and what they do on the validation frames."""

    not_liver_threshold: float | None
    energy_threshold: float | None
    liver_flagged: float  # fraction of liver frames the gate flags (false alarms)
    not_liver_caught: float | None  # fraction of non-liver frames it flags
    auroc_not_liver_prob: float | None
    auroc_energy: float | None
    auroc_max_softmax: float | None  # the weak baseline, for comparison


def gate_thresholds(
    probs: np.ndarray, logits: np.ndarray, y: np.ndarray, labels: tuple[str, ...], false_alarm: float = FALSE_ALARM
) -> GateChoice:
    """Each check's threshold at ``false_alarm`` of the liver frames (``y`` != not_liver)."""
    nl = labels.index(NOT_LIVER) if NOT_LIVER in labels else None
    liver = np.asarray(y) != (nl if nl is not None else -1)
    liver_logits = np.delete(logits, nl, axis=1) if nl is not None else logits
    energy = np.array([energy_score(z) for z in liver_logits])
    if liver.sum() < 20:
        raise DataError(f"only {int(liver.sum())} liver frames in the validation split: too few to set a gate")
    e_thr = float(np.quantile(energy[liver], 1.0 - false_alarm))
    p_thr = float(np.clip(np.quantile(probs[liver, nl], 1.0 - false_alarm), 0.05, 0.95)) if nl is not None else None
    flagged = energy > e_thr
    if p_thr is not None:
        flagged |= probs[:, nl] >= p_thr
    neg = ~liver
    auc = lambda s: roc_auc(neg.astype(int), s) if neg.any() else None  # noqa: E731 - a local scorer
    return GateChoice(
        p_thr,
        round(e_thr, 4),
        round(float(flagged[liver].mean()), 4),
        round(float(flagged[neg].mean()), 4) if neg.any() else None,
        auc(probs[:, nl]) if nl is not None else None,
        auc(energy),
        auc(-np.delete(probs, nl, axis=1).max(axis=1) if nl is not None else -probs.max(axis=1)),
    )


@dataclass(frozen=True)
class Calibration:
    """What calibration chose on the validation split, and its effect there."""

    temperature: float
    ece_before: float
    ece_after: float
    gate: GateChoice
    frames: int
    split: str

    def operating_point(self, base: OperatingPoint) -> OperatingPoint:
        return replace(
            base,
            temperature=self.temperature,
            not_liver_threshold=self.gate.not_liver_threshold,
            energy_threshold=self.gate.energy_threshold,
        )


def choose(
    probs: np.ndarray, logits: np.ndarray, y: np.ndarray, labels: tuple[str, ...], split: str = "val"
) -> Calibration:
    """Temperature + gate from validation outputs (numpy only). The gate's probability threshold is chosen on
    the TEMPERED probabilities, which is what the device compares it with; the energy check uses raw logits on
    both sides."""
    t = fit_temperature(logits, y)
    return Calibration(
        t,
        round(ece(y, softmax(logits)), 4),
        round(ece(y, softmax(logits, t)), 4),
        gate_thresholds(tempered(probs, t), logits, y, labels),
        len(y),
        split,
    )


def _outputs(model_path: Path, images: np.ndarray, spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """(probs, logits) of a Keras model with outputs [probs, cam]; logits = the CAM's global average."""
    import keras

    from liveredge.models.augment import to_model_input

    model = keras.models.load_model(model_path, compile=False)
    if len(model.outputs) < 2:
        raise InputError(f"{model_path}: calibration needs the class-activation output (train without --no-cam)")
    probs, logits = [], []
    for s in range(0, len(images), 64):
        p, cam = model(to_model_input(images[s : s + 64], spec), training=False)
        probs.append(np.asarray(p))
        logits.append(np.asarray(cam).mean(axis=(1, 2)))
    return np.concatenate(probs), np.concatenate(logits)


def calibrate(model_path: str | Path, dataset: str | Path, split: str = "val", region: str = "detect") -> Calibration:
    """Calibrate ``model_path`` (``.keras`` with its sidecar) on ``split`` of ``dataset`` (a manifest with a
    split column, or the run's own splits.json beside the model); update the sidecar; write the report."""
    from liveredge.models import dataset as ds
    from liveredge.models.export import read_sidecar, sidecar_path, write_sidecar
    from liveredge.models.frames import load_usable_frames

    path = Path(model_path)
    side = read_sidecar(path)
    if side is None:
        raise InputError(
            f"{path}: no sidecar ({sidecar_path(path).name}); calibrate a model written by liveredge train"
        )
    manifest = ds.read_manifest(dataset, side.labels)
    splits_file = path.parent / "splits.json"
    splits = json.loads(splits_file.read_text()) if splits_file.is_file() else ds.split_patients(manifest)
    all_images, usable = load_usable_frames(manifest, side.preprocess, region=region)
    idx = ds.split_indices(manifest, splits).get(split, np.array([], int))
    idx = idx[usable[idx]]  # frames without a region are never classified on the device
    if len(idx) == 0:
        raise DataError(f"{dataset}: the {split!r} split has no usable frames; calibration needs validation frames")
    images = all_images[idx]
    probs, logits = _outputs(path, images, side.preprocess)
    result = choose(probs, logits, manifest.y[idx], side.labels, split)
    write_sidecar(
        sidecar_path(path),
        replace(side, operating_point=result.operating_point(side.operating_point or OperatingPoint())),
    )
    (path.parent / "calibration.json").write_text(json.dumps(asdict(result), indent=1))
    return result
