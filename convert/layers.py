"""Per-layer error report: int8 vs float, tensor by tensor, on the TFLite level (every input path, ONNX too).

Both TFLite models (float32 and quantised) run in LiteRT with ``experimental_preserve_all_tensors=True`` on the
same frames; tensors are matched by name (the converter keeps names across both). For each quantised
activation: ``rmse/scale`` = RMS(dequantised int8 - float) / quantisation scale (TF's debugger metric, in
units of one quantisation step) and the cosine similarity of the flattened tensors. Error accumulates with depth,
so a fixed rmse/scale bound flags most layers of a healthy deep model (24 of 30 of the zoo CNN at 0.7); a
*suspect* is a tensor that loses direction (cosine < :data:`SUSPECT_COSINE`) or whose error stands out from the
model's own layers (rmse/scale > :data:`SUSPECT_OUTLIER` x the median, and > 0.7).
Tensor names map to source layer names (``model/conv2d_1/Relu;...`` → ``conv2d_1``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from liveredge.convert.runner import interpreter, iterate

SUSPECT_RMSE_SCALE = 0.7  # below this a tensor is never a suspect (within one rounding step)
SUSPECT_COSINE = 0.99
SUSPECT_OUTLIER = 3.0


@dataclass(frozen=True)
class LayerError:
    """Error of one quantised tensor: its source layer, op output tensor name, rmse/scale, cosine, suspect."""

    layer: str
    tensor: str
    rmse_scale: float
    cosine: float
    suspect: bool


def layer_name(tensor: str) -> str:
    """Source layer of a TFLite tensor name: first fused name, model prefix and op suffix stripped."""
    first = tensor.split(";")[0]
    parts = [p for p in first.split("/") if p]
    if len(parts) >= 3:
        return parts[1]
    return parts[0] if parts else tensor


def _capture(model: bytes, frames: np.ndarray) -> tuple[dict[str, list[np.ndarray]], dict[str, dict[str, Any]]]:
    interp = interpreter(model, preserve=True)
    details = {d["name"]: d for d in interp.get_tensor_details()}
    out: dict[str, list[np.ndarray]] = {n: [] for n in details}
    for _ in iterate(interp, frames):
        for name, d in details.items():
            try:
                out[name].append(np.array(interp.get_tensor(d["index"])))
            except ValueError:
                continue
    return out, details


def layer_errors(float_model: bytes, int8_model: bytes, frames: np.ndarray) -> list[LayerError]:
    """Errors of every quantised activation tensor that also exists (same name, shape) in the float model."""
    f_vals, f_det = _capture(float_model, frames)
    q_vals, q_det = _capture(int8_model, frames)
    rows = []
    for name, d in q_det.items():
        scales = d["quantization_parameters"]["scales"]
        if name not in f_det or len(scales) != 1 or not q_vals[name] or not f_vals.get(name):
            continue
        if np.dtype(f_det[name]["dtype"]) != np.float32 or tuple(f_det[name]["shape"]) != tuple(d["shape"]):
            continue
        zp = float(d["quantization_parameters"]["zero_points"][0])
        deq = (np.stack(q_vals[name]).astype(np.float64) - zp) * float(scales[0])
        ref = np.stack(f_vals[name]).astype(np.float64)
        rmse = float(np.sqrt(np.mean((deq - ref) ** 2))) / float(scales[0])
        denom = float(np.linalg.norm(deq) * np.linalg.norm(ref))
        cosine = float(np.dot(deq.ravel(), ref.ravel()) / denom) if denom > 0 else 1.0
        rows.append(LayerError(layer_name(name), name, rmse, cosine, False))
    return mark_suspects(rows)


def mark_suspects(rows: list[LayerError]) -> list[LayerError]:
    """The rows with ``suspect`` set by the module's rule (direction lost, or an outlier of this model's errors)."""
    if not rows:
        return rows
    bound = max(SUSPECT_RMSE_SCALE, SUSPECT_OUTLIER * float(np.median([r.rmse_scale for r in rows])))
    return [replace(r, suspect=r.cosine < SUSPECT_COSINE or r.rmse_scale > bound) for r in rows]


def worst(rows: list[LayerError], n: int) -> list[LayerError]:
    """The ``n`` tensors with the largest rmse/scale (suspects first)."""
    return sorted(rows, key=lambda r: r.rmse_scale, reverse=True)[:n]


def format_layers(rows: list[LayerError]) -> str:
    lines = [f"{'layer':<28} {'rmse/scale':>10} {'cosine':>8}  tensor"]
    for r in rows:
        flag = "  SUSPECT" if r.suspect else ""
        lines.append(f"{r.layer[:28]:<28} {r.rmse_scale:>10.3f} {r.cosine:>8.4f}  {r.tensor[:60]}{flag}")
    return "\n".join(lines)
