"""The standard TFLITE_METADATA written by ``convert`` (beside liveredge's own entry): labels and normalisation
readable without liveredge. The field slots were cross-checked once against Google's own generated reader
(tflite-support 0.4.4, ``metadata_schema_py_generated.ModelMetadataT``: name, GRAYSCALE 128x128 image, mean 0 /
std 255 in pixel units, ``labels.txt`` TENSOR_AXIS_LABELS on the probability output); here they are read back
with flatbuffers' generic table API on the shipped model re-embedded. SIMULATED-data model, not for clinical use.
"""

from __future__ import annotations

import io
import zipfile

import flatbuffers
import numpy as np
import pytest
from flatbuffers.table import Table

from liveredge.convert import tflite_metadata as standard
from liveredge.convert.embed import embed_metadata
from liveredge.edge.model_meta import read_metadata
from liveredge.edge.shipped import default_model

pytest.importorskip("ai_edge_litert")


def _entry(model: bytes, name: str) -> bytes:
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    entry = next(m for m in tree.metadata if m.name.decode() == name)
    return bytes(np.asarray(tree.buffers[entry.buffer].data, dtype=np.uint8))


def _root(buf: bytes) -> Table:
    return Table(bytearray(buf), flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))


def _field(t: Table, slot: int) -> int:
    return int(t.Offset(4 + 2 * slot))


def _child(t: Table, slot: int) -> Table:
    return Table(t.Bytes, t.Indirect(t.Pos + _field(t, slot)))


def _string(t: Table, slot: int) -> str:
    return t.String(t.Pos + _field(t, slot)).decode()


def _items(t: Table, slot: int) -> list[Table]:
    o = _field(t, slot)
    start, n = t.Vector(o), t.VectorLen(o)
    return [Table(t.Bytes, t.Indirect(start + 4 * i)) for i in range(n)]


def _floats(t: Table, slot: int) -> list[float]:
    o = _field(t, slot)
    return list(t.GetVectorAsNumpy(flatbuffers.number_types.Float32Flags, o))


def test_the_standard_entry_carries_labels_and_normalisation_beside_liveredges() -> None:
    model = default_model().read_bytes()
    meta = read_metadata(model)
    assert meta is not None
    out = embed_metadata(model, meta)
    assert read_metadata(out) == meta  # liveredge's entry untouched
    buf = _entry(out, standard.NAME)
    assert buf[4:8] == standard.IDENTIFIER
    root = _root(buf)
    assert _string(root, 0) == meta.name and _string(root, 7) == standard.MIN_PARSER_VERSION
    graph = _items(root, 3)[0]
    image = _items(graph, 2)[0]
    props = _child(_child(image, 3), 1)  # content -> ImageProperties
    assert props.Get(flatbuffers.number_types.Int8Flags, props.Pos + _field(props, 0)) == 2  # GRAYSCALE
    norm = _child(_items(image, 4)[0], 1)  # process unit -> NormalizationOptions
    assert _floats(norm, 0) == [255.0 * meta.preprocess.mean] and _floats(norm, 1) == [255.0 * meta.preprocess.std]
    outputs = _items(graph, 3)
    probs = [o for i, o in enumerate(outputs) if i != meta.cam_output]
    assert len(outputs) == 2 and [_string(o, 0) for o in probs] == ["probabilities"]
    label_file = _items(probs[0], 6)[0]
    assert _string(label_file, 0) == "labels.txt"
    packed = zipfile.ZipFile(io.BytesIO(out)).read("labels.txt").decode().split()
    assert packed == list(meta.labels)


def test_re_embedding_does_not_grow_the_model() -> None:
    model = default_model().read_bytes()
    meta = read_metadata(model)
    assert meta is not None
    once = embed_metadata(model, meta)
    assert embed_metadata(once, meta) == once


def test_the_shipped_model_carries_the_standard_entry_and_labels_file() -> None:
    model = default_model().read_bytes()
    meta = read_metadata(model)
    assert meta is not None
    buf = _entry(model, standard.NAME)  # StopIteration (a failure) when the shipped file lacks the entry
    assert buf[4:8] == standard.IDENTIFIER
    labels = zipfile.ZipFile(io.BytesIO(model)).read("labels.txt").decode().split()
    assert tuple(labels) == meta.labels
