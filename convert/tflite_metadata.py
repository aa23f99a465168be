"""The standard TFLite metadata (``TFLITE_METADATA``, tflite-support's ``metadata_schema.fbs``, identifier ``M001``)
written beside liveredge's own entry, so Android / MediaPipe / TFLite Support tools read the labels and the input
normalisation without liveredge: the input is a GRAYSCALE (or RGB) image of the spec's size with
``NormalizationOptions`` in pixel units, the probability output carries ``labels.txt`` (TENSOR_AXIS_LABELS),
packed as a zip appended to the model as the schema prescribes.

Only what the standard can say is here: the fan crop, harmonisation and the operating point stay in liveredge's
entry (:mod:`liveredge.edge.model_meta`), which the runtime reads. Built with the ``flatbuffers`` builder; the
field slots follow metadata_schema.fbs (a union field takes two slots: type, then value).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from liveredge.edge.model_meta import ModelMetadata

NAME = "TFLITE_METADATA"
IDENTIFIER = b"M001"
LABELS_FILE = "labels.txt"
MIN_PARSER_VERSION = "1.0.0"
_TENSOR_AXIS_LABELS, _GRAYSCALE, _RGB = 2, 2, 1  # AssociatedFileType, ColorSpaceType values
_IMAGE_PROPERTIES, _NORMALIZATION = 2, 1  # union member indices (0 = NONE)


def _table(b: Any, fields: list[tuple[str, int, Any]]) -> int:
    """One table: (kind, slot, value) with kind "off" (an offset made before), "u32", "i8"; None values skipped."""
    b.StartObject(max((slot for _, slot, _ in fields), default=-1) + 1)
    for kind, slot, value in fields:
        if value is None:
            continue
        {"off": b.PrependUOffsetTRelativeSlot, "u32": b.PrependUint32Slot, "i8": b.PrependInt8Slot}[kind](
            slot, value, 0
        )
    return int(b.EndObject())


def _vector(b: Any, items: list[int]) -> int:
    b.StartVector(4, len(items), 4)
    for item in reversed(items):
        b.PrependUOffsetTRelative(item)
    return int(b.EndVector())


def _floats(b: Any, values: list[float]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependFloat32(v)
    return int(b.EndVector())


def _input(b: Any, meta: ModelMetadata) -> int:
    spec = meta.preprocess
    channels = spec.input_shape[-1]
    mean, std = _pixel_normalisation(meta)
    norm = _table(b, [("off", 0, _floats(b, [mean] * channels)), ("off", 1, _floats(b, [std] * channels))])
    unit = _table(b, [("i8", 0, _NORMALIZATION), ("off", 1, norm)])
    size = _table(b, [("u32", 0, int(spec.input_size[1])), ("u32", 1, int(spec.input_size[0]))])
    props = _table(b, [("i8", 0, _GRAYSCALE if channels == 1 else _RGB), ("off", 1, size)])
    content = _table(b, [("i8", 0, _IMAGE_PROPERTIES), ("off", 1, props)])
    name, about = (
        b.CreateString("image"),
        b.CreateString(
            "Ultrasound image (the liveredge runtime first crops the scan fan; see the LIVEREDGE metadata entry)."
        ),
    )
    return _table(b, [("off", 0, name), ("off", 1, about), ("off", 3, content), ("off", 4, _vector(b, [unit]))])


def _output(b: Any, index: int, meta: ModelMetadata) -> int:
    if index == meta.cam_output:
        return _table(b, [("off", 0, b.CreateString("cam")), ("off", 1, b.CreateString("class activation map"))])
    label_file = _table(
        b,
        [
            ("off", 0, b.CreateString(LABELS_FILE)),
            ("off", 1, b.CreateString("class names in output order")),
            ("i8", 2, _TENSOR_AXIS_LABELS),
        ],
    )
    about = b.CreateString("Class probabilities (softmax). Trained on SIMULATED data: not for clinical use.")
    return _table(
        b, [("off", 0, b.CreateString("probabilities")), ("off", 1, about), ("off", 6, _vector(b, [label_file]))]
    )


def _pixel_normalisation(meta: ModelMetadata) -> tuple[float, float]:
    """liveredge normalises (pixel / 255 - mean) / std; the standard says (pixel - mean') / std' (pixel units)."""
    return 255.0 * float(meta.preprocess.mean), 255.0 * float(meta.preprocess.std)


def build(meta: ModelMetadata, n_outputs: int) -> bytes:
    """The ``M001`` FlatBuffer for a model with one image input and ``n_outputs`` outputs."""
    import flatbuffers

    b = flatbuffers.Builder(1024)
    inputs = _vector(b, [_input(b, meta)])
    outputs = _vector(b, [_output(b, i, meta) for i in range(n_outputs)])
    graph = _table(b, [("off", 2, inputs), ("off", 3, outputs)])
    about = b.CreateString(
        "Liver ultrasound classifier made by liveredge convert. Trained on SIMULATED ultrasound "
        "data: NOT for clinical use."
    )
    root = _table(
        b,
        [
            ("off", 0, b.CreateString(meta.name)),
            ("off", 1, about),
            ("off", 3, _vector(b, [graph])),
            ("off", 7, b.CreateString(MIN_PARSER_VERSION)),
        ],
    )
    b.Finish(root, file_identifier=IDENTIFIER)
    return bytes(b.Output())


def append_labels(model: bytes, labels: tuple[str, ...]) -> bytes:
    """``model`` followed by a zip holding ``labels.txt`` (one label per line), as TFLite Support packs files."""
    buf = io.BytesIO(model)
    buf.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_STORED) as archive:
        # A fixed timestamp: the same model and labels always give the same bytes (a clock in them made two
        # embeddings a second apart differ, and a signed file would not be reproducible).
        info = zipfile.ZipInfo(LABELS_FILE, date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, "\n".join(labels) + "\n", compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
