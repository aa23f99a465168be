"""Export a trained classifier: ``<name>.keras``, a SavedModel folder, and the ``.liveredge.json`` sidecar.

Sidecar contract (read by the convert toolchain; decided)::

    RUN_DIR/<name>.liveredge.json = {"name": str, "labels": [str, ...],
                                     "preprocess": PreprocessSpec.to_dict(), "cam_output": int | null,
                                     "operating_point": {OperatingPoint fields} (optional),
                                     "intensity_reference": IntensityReference.to_dict() | null}

``operating_point`` carries what was chosen on VALIDATION data (confidence threshold, the "not a liver"
gate's thresholds, temperature); ``liveredge convert`` copies it into the ``.tflite`` metadata.
``intensity_reference`` (optional) is the tissue grey-level landmarks of the training frames, the distribution
``liveredge adapt`` maps a new scanner onto (``liveredge convert`` records its own from the calibration frames).

A SavedModel folder gets the same JSON as ``liveredge.json`` inside it. Output 0 of every model is the
softmax probabilities (batch, n_classes); ``cam_output`` is the index of the class-activation-map output
(batch, h', w', n_classes) or null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.harmonize import IntensityReference
from liveredge.edge.model_meta import OperatingPoint
from liveredge.edge.preprocess.spec import PreprocessSpec

SIDECAR_SUFFIX = ".liveredge.json"
SAVEDMODEL_SIDECAR = "liveredge.json"


@dataclass(frozen=True)
class Sidecar:
    """What a float model needs beside its weights: class names, preprocessing and the CAM output index."""

    name: str
    labels: tuple[str, ...]
    preprocess: PreprocessSpec
    cam_output: int | None = None
    intensity_reference: IntensityReference | None = None
    operating_point: OperatingPoint | None = None

    def to_dict(self) -> dict[str, Any]:
        ref = None if self.intensity_reference is None else self.intensity_reference.to_dict()
        data = {"name": self.name, "labels": list(self.labels), "preprocess": self.preprocess.to_dict(),
                "cam_output": self.cam_output, "intensity_reference": ref}
        if self.operating_point is not None:
            data["operating_point"] = vars(self.operating_point).copy()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "sidecar") -> Sidecar:
        try:
            cam, ref, op = data.get("cam_output"), data.get("intensity_reference"), data.get("operating_point")
            return cls(str(data["name"]), tuple(str(v) for v in data["labels"]),
                       PreprocessSpec.from_dict(data["preprocess"]), None if cam is None else int(cam),
                       None if ref is None else IntensityReference.from_dict(ref),
                       None if op is None else OperatingPoint(**op))
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise ModelError(f"{source}: malformed liveredge sidecar ({exc!r}); expected keys name, labels, "
                             "preprocess, cam_output") from exc


def sidecar_path(model_path: str | Path) -> Path:
    """Where the sidecar of a model file or SavedModel folder lives."""
    p = Path(model_path)
    if p.is_dir():
        return p / SAVEDMODEL_SIDECAR
    return p.with_name(p.name.split(".")[0] + SIDECAR_SUFFIX)


def write_sidecar(path: str | Path, sidecar: Sidecar) -> Path:
    p = Path(path)
    p.write_text(json.dumps(sidecar.to_dict(), indent=2, sort_keys=True) + "\n")
    return p


def read_sidecar(model_path: str | Path) -> Sidecar | None:
    """The sidecar next to (or inside) a model, or None when there is none."""
    p = sidecar_path(model_path)
    if not p.is_file():
        return None
    try:
        return Sidecar.from_dict(json.loads(p.read_text()), str(p))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{p}: sidecar is not valid JSON: {exc}") from exc


def export_model(model: Any, out_dir: str | Path, sidecar: Sidecar, *, savedmodel: bool = True) -> dict[str, Path]:
    """Write ``<name>.keras`` + sidecar (+ ``<name>_savedmodel/`` with ``liveredge.json``). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"keras": out / f"{sidecar.name}.keras", "sidecar": out / f"{sidecar.name}{SIDECAR_SUFFIX}"}
    model.save(paths["keras"])
    write_sidecar(paths["sidecar"], sidecar)
    if savedmodel:
        paths["savedmodel"] = out / f"{sidecar.name}_savedmodel"
        model.export(str(paths["savedmodel"]), format="tf_saved_model", verbose=False)
        write_sidecar(paths["savedmodel"] / SAVEDMODEL_SIDECAR, sidecar)
    return paths
