"""Model metadata: what a ``.tflite`` carries so that a device needs nothing else.

Written by ``liveredge.convert``, read by the runtime (no TensorFlow needed to read it). The metadata is a UTF-8
JSON document stored in the model's FlatBuffer as a TFLite ``Model.metadata`` entry named
:data:`METADATA_NAME` whose ``Buffer`` holds the bytes — the standard TFLite mechanism for metadata, so the
interpreter ignores it and tools that list metadata show it.

JSON layout (``schema_version`` 1)::

    {"schema_version": 1, "name": "...", "labels": ["normal", ...],
     "preprocess": {PreprocessSpec.to_dict()},
     "input_quant": {"scale": s, "zero_point": z, "dtype": "int8"} | null,
     "output_quant": {...} | null,
     "operating_point": {"min_confidence": 0.6, "ood_threshold": null, "smoothing_tau_s": 0.5,
                         "not_liver_threshold": null, "energy_threshold": null, "temperature": 1.0},
     "cam_output": null | int, "provenance": {...}, "gate": {...} | null,
     "intensity_reference": null | {IntensityReference.to_dict()}}

``intensity_reference`` (optional; written by ``liveredge convert`` from its calibration frames) holds the tissue
grey-level landmarks of the training distribution that ``liveredge adapt`` maps a new scanner onto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.harmonize import IntensityReference
from liveredge.edge.preprocess.spec import PreprocessSpec

METADATA_NAME = "liveredge.metadata"
SCHEMA_VERSION = 1
TFLITE_IDENTIFIER = b"TFL3"

# vtable slots of the TFLite schema (schema.fbs) that we read: offset = 4 + 2 * field index.
_MODEL_BUFFERS = 12
_MODEL_METADATA = 16
_METADATA_NAME = 4
_METADATA_BUFFER = 6
_BUFFER_DATA = 4


@dataclass(frozen=True)
class QuantParams:
    """Affine quantisation of one tensor: ``real = (q - zero_point) * scale``; dtype "int8" | "uint8"."""

    scale: float
    zero_point: int
    dtype: str


@dataclass(frozen=True)
class OperatingPoint:
    """Decision thresholds chosen on validation data (probabilities are 0..1; times in seconds).

    ``not_liver_threshold`` (probability of the model's ``not_liver`` label) and ``energy_threshold`` (energy
    score of the liver logits) configure the "not a liver" gate (``decisions.liver_gate``); None disables each.
    ``temperature`` calibrates the probabilities: the runtime reports ``p ** (1/T)`` renormalised (= softmax of
    the logits / T); 1 leaves them as the model gives them.
    """

    min_confidence: float = 0.5
    ood_threshold: float | None = None
    smoothing_tau_s: float = 0.5
    not_liver_threshold: float | None = None
    energy_threshold: float | None = None
    temperature: float = 1.0


@dataclass(frozen=True)
class ModelMetadata:
    """Everything the runtime needs to feed a model and read its output."""

    name: str
    labels: tuple[str, ...]
    preprocess: PreprocessSpec
    input_quant: QuantParams | None = None
    output_quant: QuantParams | None = None
    operating_point: OperatingPoint = field(default_factory=OperatingPoint)
    cam_output: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    intensity_reference: IntensityReference | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "labels": list(self.labels),
            "preprocess": self.preprocess.to_dict(),
            "input_quant": None if self.input_quant is None else vars(self.input_quant).copy(),
            "output_quant": None if self.output_quant is None else vars(self.output_quant).copy(),
            "operating_point": vars(self.operating_point).copy(),
            "cam_output": self.cam_output,
            "provenance": self.provenance,
            "gate": self.gate,
            "intensity_reference": None if self.intensity_reference is None else self.intensity_reference.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        try:
            version = int(data.get("schema_version", -1))
            if version != SCHEMA_VERSION:
                raise ModelError(
                    f"model metadata schema {version} is not supported (this build reads {SCHEMA_VERSION})"
                )
            return cls(
                name=str(data["name"]),
                labels=tuple(str(v) for v in data["labels"]),
                preprocess=PreprocessSpec.from_dict(data["preprocess"]),
                input_quant=_quant(data.get("input_quant")),
                output_quant=_quant(data.get("output_quant")),
                operating_point=OperatingPoint(**(data.get("operating_point") or {})),
                cam_output=data.get("cam_output"),
                provenance=dict(data.get("provenance") or {}),
                gate=data.get("gate"),
                intensity_reference=_reference(data.get("intensity_reference")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model metadata is malformed: {exc!r}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelMetadata:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ModelError(f"model metadata is not valid JSON: {exc}") from exc


def _reference(data: dict[str, Any] | None) -> IntensityReference | None:
    try:
        return None if data is None else IntensityReference.from_dict(data)
    except ConfigError as exc:
        raise ModelError(f"model metadata is malformed: {exc}") from exc


def _quant(data: dict[str, Any] | None) -> QuantParams | None:
    if data is None:
        return None
    return QuantParams(scale=float(data["scale"]), zero_point=int(data["zero_point"]), dtype=str(data["dtype"]))


def read_metadata_entries(model: bytes) -> dict[str, bytes]:
    """All ``Model.metadata`` entries of a TFLite FlatBuffer as {name: buffer bytes}."""
    from flatbuffers import encode, number_types, packer
    from flatbuffers.table import Table

    if len(model) < 8 or model[4:8] != TFLITE_IDENTIFIER:
        raise ModelError("not a TFLite model: the FlatBuffer identifier 'TFL3' is missing")
    try:
        buf = bytearray(model)
        root = Table(buf, encode.Get(packer.uoffset, buf, 0))
        buffers = _vector_tables(root, _MODEL_BUFFERS)
        entries: dict[str, bytes] = {}
        for meta in _vector_tables(root, _MODEL_METADATA):
            o = meta.Offset(_METADATA_NAME)
            name = meta.String(o + meta.Pos).decode("utf-8") if o else ""
            o = meta.Offset(_METADATA_BUFFER)
            index = meta.Get(number_types.Uint32Flags, o + meta.Pos) if o else 0
            data_off = buffers[index].Offset(_BUFFER_DATA)
            data = buffers[index].GetVectorAsNumpy(number_types.Uint8Flags, data_off) if data_off else b""
            entries[name] = bytes(data)
        return entries
    except (IndexError, ValueError, UnicodeDecodeError, Exception) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"the TFLite FlatBuffer is corrupt (metadata unreadable): {exc!r}") from exc


def _vector_tables(table: Any, slot: int) -> list[Any]:
    from flatbuffers.table import Table

    o = table.Offset(slot)
    if not o:
        return []
    start, n = table.Vector(o), table.VectorLen(o)
    return [Table(table.Bytes, table.Indirect(start + 4 * i)) for i in range(n)]


def read_metadata(model: bytes | str | Path) -> ModelMetadata | None:
    """The liveredge metadata of a model (bytes or path), or None when it carries none."""
    data = Path(model).read_bytes() if isinstance(model, (str, Path)) else model
    entry = read_metadata_entries(data).get(METADATA_NAME)
    return None if entry is None else ModelMetadata.from_json(entry)
