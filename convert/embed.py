"""Write liveredge metadata into a TFLite FlatBuffer (workstation side; the device only reads it).

Uses the TFLite schema's generated object API shipped with ai-edge-litert (``schema_py_generated``) to unpack the
model, add or replace the :data:`~liveredge.edge.model_meta.METADATA_NAME` entry and its buffer, and pack it again
with the ``TFL3`` identifier. Other metadata entries (``min_runtime_version``, ``CONVERSION_METADATA``) are kept.
"""

from __future__ import annotations

import numpy as np

from liveredge.edge.errors import ModelError
from liveredge.edge.model_meta import METADATA_NAME, TFLITE_IDENTIFIER, ModelMetadata


def embed_metadata(model: bytes, meta: ModelMetadata) -> bytes:
    """Return ``model`` with ``meta`` embedded (an existing liveredge entry is replaced)."""
    return embed_entry(model, METADATA_NAME, meta.to_json().encode("utf-8"))


def embed_entry(model: bytes, name: str, payload: bytes) -> bytes:
    """Return ``model`` with a metadata entry ``name`` holding ``payload`` (replacing one of that name)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    if len(model) < 8 or model[4:8] != TFLITE_IDENTIFIER:
        raise ModelError("cannot embed metadata: not a TFLite model (identifier 'TFL3' missing)")
    try:
        tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    except Exception as exc:
        raise ModelError(f"cannot embed metadata: the model FlatBuffer is corrupt ({exc!r})") from exc
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(payload, dtype=np.uint8)
    tree.buffers = list(tree.buffers or [])
    old = [m for m in (tree.metadata or []) if _name(m) == name]
    if old:  # replace in place: reuse the entry's buffer so re-embedding does not grow the file
        tree.buffers[old[0].buffer] = buffer
        tree.metadata = [m for m in tree.metadata if _name(m) != name] + old[:1]
    else:
        tree.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name.encode("utf-8")
        entry.buffer = len(tree.buffers) - 1
        tree.metadata = list(tree.metadata or []) + [entry]
    builder = flatbuffers.Builder(len(model) + len(payload) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def _name(entry: object) -> str:
    raw = getattr(entry, "name", b"") or b""
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
