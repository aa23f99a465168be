"""Run a classifier file — Keras ``.keras``, a SavedModel folder, or a ``.tflite`` (float, int8 or uint8 I/O
through the real LiteRT interpreter) — on preprocessed 8-bit images and return class probabilities.

Every predictor takes uint8 (N, h, w) images (steps 1-4 of the model's :class:`PreprocessSpec`, as
:func:`liveredge.models.frames.load_frames` returns them) and returns float32 (N, n_classes) probabilities
(output 0; for a TFLite file the rank-2 output with n_classes columns, dequantised when it is integer).
Integer model inputs are fed ``q = clip(round(x / scale) + zero_point)`` with the input quantisation from the
model's liveredge metadata (``input_quant``) or, when absent, from the input tensor itself.

Where the spec and labels come from: TFLite metadata (``liveredge.metadata``) → the ``.liveredge.json``
sidecar → the default spec and class names (recorded as ``spec_source="default"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.errors import ModelError
from liveredge.edge.model_meta import OperatingPoint
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models.augment import to_model_input
from liveredge.models.dataset import DEFAULT_LABELS


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a model file before running it."""

    path: Path
    kind: str  # "keras" | "savedmodel" | "tflite"
    name: str
    labels: tuple[str, ...]
    spec: PreprocessSpec
    spec_source: str  # "metadata" | "sidecar" | "default"
    input_dtype: str = "float32"
    input_quant: tuple[float, int] | None = None
    temperature: float = 1.0  # from the operating point: predictions are reported at it, as on the device
    not_liver_threshold: float | None = None  # the "not a liver" gate's probability check, when the model has one


class Predictor(Protocol):
    info: ModelInfo

    def predict(self, images: np.ndarray) -> np.ndarray: ...


def check_input(info: ModelInfo, shape: tuple[int | None, ...], outputs: int) -> None:
    """Raise ModelError when the model's input or class count does not match its spec / labels."""
    want = info.spec.input_shape
    got = tuple(shape[1:])
    if len(got) != 3 or any(g is not None and g != w for g, w in zip(got, want, strict=True)):
        raise ModelError(
            f"{info.path}: model input shape {tuple(shape)} does not match the preprocessing spec "
            f"(batch, {want[0]}, {want[1]}, {want[2]}) from its {info.spec_source}; fix the sidecar / "
            "metadata or retrain for this input size"
        )
    if outputs != len(info.labels):
        raise ModelError(
            f"{info.path}: model has {outputs} output classes but its {info.spec_source} lists "
            f"{len(info.labels)} labels {list(info.labels)}"
        )


def _describe(path: Path, kind: str) -> ModelInfo:
    from liveredge.models.export import read_sidecar

    if kind == "tflite":
        from liveredge.edge.model_meta import read_metadata

        meta = read_metadata(path)
        if meta is not None:
            quant = (meta.input_quant.scale, meta.input_quant.zero_point) if meta.input_quant else None
            op = meta.operating_point
            return ModelInfo(
                path,
                kind,
                meta.name,
                meta.labels,
                meta.preprocess,
                "metadata",
                input_quant=quant,
                temperature=op.temperature,
                not_liver_threshold=op.not_liver_threshold,
            )
    sidecar = read_sidecar(path)
    if sidecar is not None:
        op = sidecar.operating_point or OperatingPoint()
        return ModelInfo(
            path,
            kind,
            sidecar.name,
            sidecar.labels,
            sidecar.preprocess,
            "sidecar",
            temperature=op.temperature,
            not_liver_threshold=op.not_liver_threshold,
        )
    return ModelInfo(path, kind, path.name.split(".")[0], DEFAULT_LABELS, PreprocessSpec(), "default")


class KerasPredictor:
    """A ``.keras`` file or SavedModel folder run with TensorFlow (workstation only)."""

    def __init__(self, path: Path, batch: int = 64) -> None:
        kind = "savedmodel" if path.is_dir() else "keras"
        self.info, self.batch = _describe(path, kind), batch
        try:
            if kind == "keras":
                import keras

                self._model: Any = keras.models.load_model(path, compile=False)
                shape, classes = tuple(self._model.inputs[0].shape), int(self._model.outputs[0].shape[-1])
            else:
                import tensorflow as tf

                self._model = tf.saved_model.load(str(path)).signatures["serving_default"]
                self._input_name, spec_in = next(iter(self._model.structured_input_signature[1].items()))
                shape, classes = tuple(spec_in.shape), self._first_output_width()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: cannot load the model ({exc})") from exc
        check_input(self.info, shape, classes)

    def _first_output_width(self) -> int:
        outs = self._model.structured_outputs
        rank2 = [v for v in outs.values() if len(v.shape) == 2]
        if not rank2:
            raise ModelError(f"{self.info.path}: no (batch, classes) output")
        return int(rank2[0].shape[-1])

    def predict(self, images: np.ndarray) -> np.ndarray:
        out = []
        for s in range(0, len(images), self.batch):
            x = to_model_input(images[s : s + self.batch], self.info.spec)
            if self.info.kind == "keras":
                p = self._model(x, training=False)
                p = p[0] if isinstance(p, (list, tuple)) else p
            else:
                import tensorflow as tf

                outs = self._model(**{self._input_name: tf.constant(x)})
                p = outs["output_0"] if "output_0" in outs else [v for v in outs.values() if len(v.shape) == 2][0]
            out.append(np.asarray(p, dtype=np.float32))
        probs = np.concatenate(out) if out else np.zeros((0, len(self.info.labels)), np.float32)
        return tempered(probs, self.info.temperature)


class TFLitePredictor:
    """A ``.tflite`` run frame by frame with ``ai_edge_litert.interpreter.Interpreter``."""

    def __init__(self, path: Path, threads: int = 2) -> None:
        from ai_edge_litert.interpreter import Interpreter

        info = _describe(path, "tflite")
        try:
            self._interp = Interpreter(model_path=str(path), num_threads=threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: LiteRT cannot load the model ({exc})") from exc
        inp = self._interp.get_input_details()[0]
        outs = [d for d in self._interp.get_output_details() if len(d["shape"]) == 2]
        if not outs:
            raise ModelError(f"{path}: no (1, classes) output tensor")
        self._in, self._out = inp, outs[0]
        dtype = np.dtype(inp["dtype"]).name
        quant = info.input_quant
        if dtype in ("int8", "uint8") and quant is None:
            scale, zp = inp["quantization"]
            if not scale:
                raise ModelError(f"{path}: integer input without quantisation parameters")
            quant = (float(scale), int(zp))
        self.info = replace(info, input_dtype=dtype, input_quant=quant)
        check_input(self.info, tuple(int(v) for v in inp["shape"]), int(self._out["shape"][-1]))

    def _feed(self, gray: np.ndarray) -> np.ndarray:
        if self.info.input_quant is None:
            return to_model_input(gray[None], self.info.spec)
        scale, zp = self.info.input_quant
        return self.info.spec.quantize_array(gray, scale, zp, self.info.input_dtype)[None]

    def predict(self, images: np.ndarray) -> np.ndarray:
        out = np.zeros((len(images), len(self.info.labels)), np.float32)
        scale, zp = self._out["quantization"]
        for i, gray in enumerate(images):
            self._interp.set_tensor(self._in["index"], self._feed(gray))
            self._interp.invoke()
            raw = self._interp.get_tensor(self._out["index"])[0]
            out[i] = (raw.astype(np.float32) - zp) * scale if np.issubdtype(raw.dtype, np.integer) else raw
        return tempered(out, self.info.temperature)


def load_predictor(path: str | Path) -> Predictor:
    """Pick the predictor for a model path; raises ModelError for unknown or missing files."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: no such model file or folder")
    if p.suffix == ".tflite":
        return TFLitePredictor(p)
    if p.suffix == ".keras" or (p.is_dir() and (p / "saved_model.pb").is_file()):
        return KerasPredictor(p)
    raise ModelError(f"{p}: unsupported model; give a .keras file, a SavedModel folder or a .tflite file")
