"""Ingest a float model: Keras 3 ``.keras``, legacy ``.h5`` (tf_keras), a SavedModel folder, or PyTorch ONNX.

Each becomes a :class:`SourceModel`: a factory for a ``tf.lite.TFLiteConverter``, a reference function that
runs the ORIGINAL model on float32 NHWC frames (for the float parity check), the resolved
:class:`PreprocessSpec`, labels, ``cam_output`` and the source SHA-256. ONNX (NCHW) goes through onnx2tf to an
NHWC SavedModel with batch 1 (``not_use_onnxsim=True``: no onnxsim/onnxruntime needed); its reference is the
ONNX reference evaluator (``onnx.reference``) on the NCHW-transposed frames.

Spec resolution (first found): the sidecar ``<stem>.liveredge.json`` beside the model (for a SavedModel folder
``X/``: ``X.liveredge.json`` beside it, then ``X/liveredge.json`` inside); ``--spec FILE.json`` (a sidecar or a
bare PreprocessSpec); ``--mean/--std`` with input size and channels read from the model. Otherwise InputError.

Intermediate models (the batch-1 SavedModel re-export, onnx2tf's NHWC SavedModel) go into ``workdir``, a folder
the CALLER owns and deletes (``convert`` uses a temporary one): nothing is left behind in /tmp or beside the output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, InputError, ModelError
from liveredge.edge.events import CLASSES
from liveredge.edge.model_meta import OperatingPoint
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.edge.sidecar import find_sidecar, read_sidecar_json, sidecar_path

DEFAULT_LABELS = CLASSES


@dataclass(frozen=True)
class SpecSource:
    """Where the spec comes from when the model has no sidecar: a JSON file, or mean/std."""

    spec_file: str | None = None
    mean: float | None = None
    std: float | None = None
    labels: tuple[str, ...] | None = None  # --labels: the model's own class order (output index -> name)


@dataclass(frozen=True)
class SourceModel:
    """An ingested float model. ``reference(x)`` runs the original model: float32 (N,H,W,C) → output 0."""

    kind: str
    path: str
    sha256: str
    name: str
    labels: tuple[str, ...]
    spec: PreprocessSpec
    cam_output: int | None
    channels_note: str
    converter: Callable[[], Any] = field(repr=False)
    reference: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    keras_model: Any = field(default=None, repr=False)
    operating_point: OperatingPoint = field(default_factory=OperatingPoint)


def source_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder (every file's relative path and bytes, in sorted order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def sidecar_for(path: Path) -> Path | None:
    """The model's ``.liveredge.json`` sidecar, if any (:func:`liveredge.edge.sidecar.find_sidecar`)."""
    return find_sidecar(path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the spec JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def resolve_spec(path: Path, shape: tuple[int, int, int], n_out: int, given: SpecSource) -> dict[str, Any]:
    """name, labels, spec, cam_output, channels_note for a model of input ``shape`` (H, W, C)."""
    side = sidecar_for(path)
    data: dict[str, Any] = {}
    if side is not None:
        data = read_sidecar_json(side)
    elif given.spec_file:
        data = _read_json(Path(given.spec_file))
        data = data if "preprocess" in data else {"preprocess": data}
    elif given.mean is not None and given.std is not None:
        data = {
            "preprocess": PreprocessSpec(input_size=shape[:2], channels=1, mean=given.mean, std=given.std).to_dict()
        }
    else:
        raise InputError(
            f"{path}: the model carries no PreprocessSpec (no {sidecar_path(path).name}); "
            "pass --spec FILE.json or --mean M --std S"
        )
    spec = PreprocessSpec.from_dict(data["preprocess"])
    if tuple(spec.input_size) != tuple(shape[:2]):
        raise InputError(
            f"{path}: model input is {shape[0]}x{shape[1]} but its PreprocessSpec says "
            f"{spec.input_size[0]}x{spec.input_size[1]}; fix the spec or the model"
        )
    spec, note = _channels(spec, shape[2], path)
    labels = model_labels(path, data.get("labels"), given.labels, n_out)
    return {
        "name": str(data.get("name") or path.stem.removesuffix("_savedmodel")),
        "labels": labels,
        "spec": spec,
        "cam_output": data.get("cam_output"),
        "channels_note": note,
        "operating_point": _operating_point(data, path),
    }


def model_labels(path: Path, declared: Any, given: tuple[str, ...] | None, n_out: int) -> tuple[str, ...]:
    """The model's class order: ``--labels``, else the sidecar's/spec's ``labels``, else the built-in order (4
    outputs) or class_0..; refused when --labels contradicts the file, a name repeats, or the count is wrong."""
    if given and declared and tuple(declared) != tuple(given):
        raise InputError(
            f"{path}: --labels {','.join(given)} contradicts the labels {list(declared)} in its "
            "sidecar/--spec; give one of them"
        )
    labels = tuple(given or declared or (DEFAULT_LABELS if n_out == 4 else [f"class_{i}" for i in range(n_out)]))
    if len(labels) != n_out:
        raise InputError(f"{path}: {len(labels)} labels {list(labels)} but the model outputs {n_out} classes")
    if len(set(labels)) != len(labels) or not all(isinstance(n, str) and n.strip() for n in labels):
        raise InputError(f"{path}: labels {list(labels)} must be distinct non-empty names")
    return labels


def _operating_point(data: dict[str, Any], path: Path) -> OperatingPoint:
    """The sidecar's operating point (thresholds and calibration chosen on validation data), or the defaults."""
    try:
        return OperatingPoint(**(data.get("operating_point") or {}))
    except TypeError as exc:
        raise InputError(
            f"{path}: the sidecar's operating_point is malformed ({exc}); known keys: "
            f"{', '.join(OperatingPoint.__dataclass_fields__)}"
        ) from exc


def _channels(spec: PreprocessSpec, model_c: int, path: Path) -> tuple[PreprocessSpec, str]:
    if model_c == spec.channels:
        return spec, f"grayscale fed as {model_c} channel{'s' if model_c > 1 else ''} (as the spec says)"
    if model_c == 3 and spec.channels == 1:
        return replace(spec, channels=3), "grayscale replicated to 3 channels (the model expects RGB)"
    if model_c == 1:
        return replace(spec, channels=1), "grayscale fed as 1 channel (the model has 1 input channel)"
    raise InputError(f"{path}: model input has {model_c} channels; only 1 or 3 are supported")


def ingest(path: str | Path, given: SpecSource, workdir: str | Path) -> SourceModel:
    """Load any supported model (see module docstring). ``workdir``: an existing folder for intermediate models,
    which must outlive every use of the returned converter factory (the caller deletes it)."""
    p, work = Path(path), Path(workdir)
    if not p.exists():
        raise InputError(f"{p}: model not found")
    if p.is_dir():
        return _savedmodel(p, given, work)
    ext = p.suffix.lower()
    if ext == ".keras":
        return _keras(p, given, work, legacy=False)
    if ext in (".h5", ".hdf5"):
        return _keras(p, given, work, legacy=True)
    if ext == ".onnx":
        return _onnx(p, given, work)
    raise InputError(f"{p}: unsupported model type; use .keras, .h5, a SavedModel folder or .onnx")


def _shape_of(shape: Any, path: Path) -> tuple[int, int, int]:
    dims = [int(d) if d is not None and int(d) > 0 else -1 for d in list(shape)[1:]]
    if len(dims) != 3 or min(dims) <= 0:
        raise InputError(f"{path}: expected a static NHWC image input (1, H, W, C), got {list(shape)}")
    return dims[0], dims[1], dims[2]


def _batch1_factory(
    call: Callable[[Any], Any], shape: tuple[int, int, int], owner: Any, folder: Path, keras3: bool = False
) -> Callable[[], Any]:
    """Converter factory over a SavedModel re-exported with a fixed (1, H, W, C) float32 input: static shapes
    and batch 1 everywhere (the runtime feeds one frame; the Edge TPU requires it)."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, *shape), tf.float32, name="input")
    if keras3:
        owner.export(str(folder), "tf_saved_model", input_signature=[spec], verbose=False)
    else:
        module = tf.Module()
        module.owner = owner
        module.serve = tf.function(call, input_signature=[spec])
        tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve.get_concrete_function()})
    return lambda: tf.lite.TFLiteConverter.from_saved_model(str(folder))


def _keras(p: Path, given: SpecSource, work: Path, legacy: bool) -> SourceModel:

    try:
        if legacy:
            import tf_keras

            model = tf_keras.models.load_model(p, compile=False)
        else:
            import keras

            model = keras.models.load_model(p, compile=False)
    except Exception as exc:
        raise ModelError(f"{p}: cannot load the Keras model ({exc})") from exc
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    shape = _shape_of(inputs[0].shape, p)
    outs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    info = resolve_spec(p, shape, int(outs[0].shape[-1]), given)

    def reference(x: np.ndarray) -> np.ndarray:
        y = model(x, training=False)
        return np.asarray(y[0] if isinstance(y, (list, tuple)) else y, dtype=np.float32)

    factory = _batch1_factory(lambda x: model(x, training=False), shape, model, work / "batch1", keras3=not legacy)
    return SourceModel(
        "h5" if legacy else "keras",
        str(p),
        source_sha256(p),
        converter=factory,
        reference=reference,
        keras_model=model,
        **info,
    )


def _savedmodel(p: Path, given: SpecSource, work: Path) -> SourceModel:
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(p))
        fn = loaded.signatures["serving_default"]
    except Exception as exc:
        raise ModelError(f"{p}: not a SavedModel with a 'serving_default' signature ({exc})") from exc
    spec_in = next(iter(fn.structured_input_signature[1].values()))
    out_keys = sorted(fn.structured_outputs)
    shape = _shape_of(spec_in.shape, p)
    info = resolve_spec(p, shape, int(fn.structured_outputs[out_keys[0]].shape[-1]), given)

    def reference(x: np.ndarray) -> np.ndarray:
        rows = [fn(tf.constant(x[i : i + 1]))[out_keys[0]].numpy()[0] for i in range(len(x))]
        return np.stack(rows).astype(np.float32)

    factory = _batch1_factory(lambda x: [fn(x)[k] for k in out_keys], shape, loaded, work / "batch1")
    return SourceModel("savedmodel", str(p), source_sha256(p), converter=factory, reference=reference, **info)


def _onnx(p: Path, given: SpecSource, work: Path) -> SourceModel:
    import onnx
    from onnx.reference import ReferenceEvaluator

    try:
        proto = onnx.load(str(p))
    except Exception as exc:
        raise ModelError(f"{p}: cannot read the ONNX model ({exc})") from exc
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or min(dims[1:]) <= 0:
        raise InputError(f"{p}: expected an NCHW image input (1, C, H, W), got {dims}")
    shape = (dims[2], dims[3], dims[1])
    n_out = proto.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    info = resolve_spec(p, shape, int(n_out), given)
    saved = _onnx_to_savedmodel(p, work)
    evaluator = ReferenceEvaluator(proto)
    in_name = proto.graph.input[0].name

    def reference(x: np.ndarray) -> np.ndarray:
        rows = [
            evaluator.run(None, {in_name: np.transpose(x[i : i + 1], (0, 3, 1, 2))})[0][0]  # type: ignore[index]  # onnx types run()'s outputs as a dict or a list
            for i in range(len(x))
        ]
        return np.stack(rows).astype(np.float32)

    import tensorflow as tf

    factory = lambda: tf.lite.TFLiteConverter.from_saved_model(saved)  # noqa: E731 - a factory value
    info["channels_note"] += "; ONNX NCHW transposed to NHWC by onnx2tf (batch fixed to 1)"
    return SourceModel("onnx", str(p), source_sha256(p), converter=factory, reference=reference, **info)


def _onnx_to_savedmodel(p: Path, work: Path) -> str:
    import onnx2tf

    out = str(work / f"{p.stem}_nhwc")
    try:
        onnx2tf.convert(
            input_onnx_file_path=str(p),
            output_folder_path=out,
            not_use_onnxsim=True,
            batch_size=1,
            non_verbose=True,
            output_signaturedefs=True,
        )
    except Exception as exc:
        raise ModelError(f"{p}: onnx2tf could not convert the model to NHWC TensorFlow ({exc})") from exc
    return out
