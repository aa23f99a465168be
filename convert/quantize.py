"""Float export, calibration and full-integer quantisation with the TFLite converter (MLIR quantiser).

Two steps so the recovery loop can vary the method without re-calibrating from scratch:

1. :func:`calibrate` — the converter's calibrate-only mode records each activation tensor's min/max over the
   representative frames (float32 NHWC, already preprocessed) into a float model;
2. :func:`quantize` — ``mlir_quantize`` turns it into a full-integer model: int8 weights per-channel (or
   per-tensor), int8 activations (or int16 with int8 weights = "16x8"), int8/uint8 I/O; ``float_layers``
   (tensor names) are kept float (CPU/Jetson recovery only).

Percentile calibration (:func:`percentile_ranges`) replaces each recorded min/max with the 0.01/99.99th
percentile of the tensor's values over the calibration frames, computed by running the float model with all
tensors preserved, matched by tensor name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liveredge.edge.errors import ModelError


@dataclass(frozen=True)
class QuantOptions:
    """How to quantise: I/O dtype, per-channel weights, calibration method, activation width, float islands."""

    io: str = "int8"
    per_channel: bool = True
    calibration: str = "max"
    percentile: float = 99.99
    activations: str = "int8"
    float_layers: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        calib = f"percentile {self.percentile:g}" if self.calibration == "percentile" else self.calibration
        parts = [f"io={self.io}", "per-channel" if self.per_channel else "per-tensor", f"calib={calib}"]
        if self.activations == "int16":
            parts.append("16x8")
        if self.float_layers:
            parts.append(f"float layers={len(self.float_layers)}")
        return ", ".join(parts)


def _convert(converter: Any, what: str) -> bytes:
    try:
        return bytes(converter.convert())
    except Exception as exc:
        raise ModelError(f"TFLite {what} conversion failed: {str(exc).splitlines()[0][:300]}") from exc


def float_model(factory: Callable[[], Any], float16: bool = False) -> bytes:
    """Plain float32 (or float16-weight) TFLite model."""
    import tensorflow as tf

    conv = factory()
    if float16:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    return _convert(conv, "float16" if float16 else "float32")


def dynamic_range_model(factory: Callable[[], Any]) -> bytes:
    """Dynamic-range model: int8 weights, float activations and I/O."""
    import tensorflow as tf

    conv = factory()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return _convert(conv, "dynamic-range")


def calibrate(factory: Callable[[], Any], frames: np.ndarray) -> bytes:
    """Float model annotated with per-tensor min/max over ``frames`` (float32 (N, H, W, C))."""
    import tensorflow as tf

    conv = factory()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([frames[i : i + 1].astype(np.float32)] for i in range(len(frames)))
    conv._experimental_calibrate_only = True  # noqa: SLF001 - the documented debugger path uses it too
    return _convert(conv, "calibration")


def quantize(calibrated: bytes, options: QuantOptions) -> bytes:
    """Full-integer model from a calibrated one (see module docstring)."""
    import tensorflow as tf
    from tensorflow.lite.python import convert as tfl_convert
    from tensorflow.lite.python import util

    io = {"int8": tf.int8, "uint8": tf.uint8}[options.io]
    try:
        model = tfl_convert.mlir_quantize(  # float I/O first; the I/O type is then set like the converter does
            calibrated,
            disable_per_channel=not options.per_channel,
            fully_quantize=False,  # float I/O + QUANTIZE/DEQUANTIZE at the edges, rewritten below;
            inference_type=tfl_convert._types_pb2.QUANTIZED_INT8,  # noqa: SLF001 - the body is proven by contract.py
            input_data_type=tf.float32,
            output_data_type=tf.float32,
            denylisted_nodes=list(options.float_layers) or None,
        )
        model = util.modify_model_io_type(model, io, io)
    except Exception as exc:
        raise ModelError(f"int8 quantisation failed ({options.describe()}): {str(exc).splitlines()[0][:300]}") from exc
    return bytes(model)


def quantize_16x8(factory: Callable[[], Any], frames: np.ndarray) -> bytes:
    """16x8 model: int16 activations and I/O, int8 weights (TFLite's experimental 16x8 mode)."""
    import tensorflow as tf

    conv = factory()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([frames[i : i + 1].astype(np.float32)] for i in range(len(frames)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = tf.int16
    conv.inference_output_type = tf.int16
    return _convert(conv, "16x8")


def percentile_ranges(float_tflite: bytes, frames: np.ndarray, percentile: float) -> dict[str, tuple[float, float]]:
    """Per float tensor name: (low, high) percentiles of its values over ``frames``."""
    from liveredge.convert.runner import interpreter, iterate

    interp = interpreter(float_tflite, preserve=True)
    details = [d for d in interp.get_tensor_details() if np.dtype(d["dtype"]) == np.float32]
    values: dict[str, list[np.ndarray]] = {d["name"]: [] for d in details}
    for _ in iterate(interp, frames):
        for d in details:
            try:
                values[d["name"]].append(np.asarray(interp.get_tensor(d["index"]), dtype=np.float32).ravel())
            except ValueError:
                continue
    lo_q, hi_q = 100.0 - percentile, percentile
    return {
        n: (float(np.percentile(np.concatenate(v), lo_q)), float(np.percentile(np.concatenate(v), hi_q)))
        for n, v in values.items()
        if v
    }


def pin_input_range(calibrated: bytes, low: float, high: float) -> bytes:
    """Set the model inputs' recorded range to the spec's full range (pixel 0..255 after normalisation), so the
    int8 input covers every pixel value — for the default spec scale 1/255, zero point -128 — not only the
    values the calibration frames happened to contain."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(calibrated, 0))
    for graph in tree.subgraphs[:1]:
        for i in graph.inputs:
            q = graph.tensors[i].quantization
            if q is not None and q.min is not None and len(q.min) == 1:
                q.min = np.array([low], dtype=np.float32)
                q.max = np.array([high], dtype=np.float32)
    builder = flatbuffers.Builder(len(calibrated) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def apply_ranges(calibrated: bytes, ranges: dict[str, tuple[float, float]], keep: Sequence[str] = ()) -> bytes:
    """Narrow each recorded min/max to the given range (never widen it); tensors in ``keep`` are left alone."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(calibrated, 0))
    for graph in tree.subgraphs:
        io = set(list(graph.inputs) + list(graph.outputs))
        for i, t in enumerate(graph.tensors):
            name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
            q = t.quantization
            if i in io or name in keep or name not in ranges or q is None or q.min is None or len(q.min) != 1:
                continue
            lo, hi = ranges[name]
            q.min = np.array([max(float(q.min[0]), min(lo, 0.0))], dtype=np.float32)
            q.max = np.array([min(float(q.max[0]), max(hi, 0.0))], dtype=np.float32)
    builder = flatbuffers.Builder(len(calibrated) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
