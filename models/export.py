"""Export a trained classifier: ``<name>.keras``, a SavedModel folder, and the ``.liveredge.json`` sidecar.

The sidecar's contract, file name rule and parser live in :mod:`liveredge.edge.sidecar` (re-exported here).

A SavedModel folder gets the same JSON as ``liveredge.json`` inside it. Output 0 of every model is the
softmax probabilities (batch, n_classes); ``cam_output`` is the index of the class-activation-map output
(batch, h', w', n_classes) or null.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveredge.edge.sidecar import (
    SAVEDMODEL_SIDECAR,
    SIDECAR_SUFFIX,
    Sidecar,
    find_sidecar,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)

__all__ = [
    "SAVEDMODEL_SIDECAR",
    "SIDECAR_SUFFIX",
    "Sidecar",
    "export_model",
    "find_sidecar",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]


def export_model(model: Any, out_dir: str | Path, sidecar: Sidecar, *, savedmodel: bool = True) -> dict[str, Path]:
    """Write ``<name>.keras`` + sidecar (+ ``<name>_savedmodel/`` with ``liveredge.json``). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"keras": out / f"{sidecar.name}.keras"}
    paths["sidecar"] = sidecar_path(paths["keras"])
    model.save(paths["keras"])
    write_sidecar(paths["sidecar"], sidecar)
    if savedmodel:
        paths["savedmodel"] = out / f"{sidecar.name}_savedmodel"
        model.export(str(paths["savedmodel"]), format="tf_saved_model", verbose=False)
        write_sidecar(paths["savedmodel"] / SAVEDMODEL_SIDECAR, sidecar)
    return paths
