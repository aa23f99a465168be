"""The float-model sidecar: the one home of its file name rule, its schema and its parser.

Contract (written by ``liveredge train``, read by ``liveredge convert``, calibration and prediction)::

    <name>.liveredge.json = {"name": str, "labels": [str, ...],
                             "preprocess": PreprocessSpec.to_dict(), "cam_output": int | null,
                             "operating_point": {OperatingPoint fields} (optional),
                             "intensity_reference": IntensityReference.to_dict() | null}

``operating_point`` carries what was chosen on VALIDATION data (confidence threshold, the "not a liver" gate's
thresholds, temperature); ``liveredge convert`` copies it into the ``.tflite`` metadata. ``intensity_reference``
(optional) is the tissue grey-level landmarks of the training frames. A SavedModel folder gets the same JSON as
``liveredge.json`` inside it.

A model file's sidecar is its name without the LAST suffix + ``.liveredge.json`` (``liver.v2.keras`` →
``liver.v2.liveredge.json``); ``liveredge train`` (``models.export``), ``liveredge convert`` (``convert.ingest``),
calibration and prediction all find it through :func:`find_sidecar`. No TensorFlow here.
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
        data = {
            "name": self.name,
            "labels": list(self.labels),
            "preprocess": self.preprocess.to_dict(),
            "cam_output": self.cam_output,
            "intensity_reference": ref,
        }
        if self.operating_point is not None:
            data["operating_point"] = vars(self.operating_point).copy()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "sidecar") -> Sidecar:
        try:
            cam, ref, op = data.get("cam_output"), data.get("intensity_reference"), data.get("operating_point")
            return cls(
                str(data["name"]),
                tuple(str(v) for v in data["labels"]),
                PreprocessSpec.from_dict(data["preprocess"]),
                None if cam is None else int(cam),
                None if ref is None else IntensityReference.from_dict(ref),
                None if op is None else OperatingPoint(**op),
            )
        except (KeyError, TypeError, ValueError, AttributeError, ConfigError) as exc:
            raise ModelError(
                f"{source}: malformed liveredge sidecar ({exc!r}); expected keys name, labels, preprocess, cam_output"
            ) from exc


def sidecar_path(model_path: str | Path) -> Path:
    """Where the sidecar of a model file (its name without the LAST suffix + ``.liveredge.json``:
    ``liver.v2.keras`` → ``liver.v2.liveredge.json``) or SavedModel folder (``liveredge.json`` inside) is written."""
    p = Path(model_path)
    if p.is_dir():
        return p / SAVEDMODEL_SIDECAR
    return p.with_name(p.with_suffix("").name + SIDECAR_SUFFIX)


def sidecar_candidates(model_path: str | Path) -> list[Path]:
    """Where a model's sidecar is looked for, in order: for a file, :func:`sidecar_path`; for a SavedModel
    folder ``X/``: ``X.liveredge.json`` beside it, ``<X without _savedmodel>.liveredge.json`` beside it, then
    ``X/liveredge.json`` inside."""
    p = Path(model_path)
    if not p.is_dir():
        return [sidecar_path(p)]
    stem = p.name.removesuffix("_savedmodel")
    return [p.parent / f"{p.name}{SIDECAR_SUFFIX}", p.parent / f"{stem}{SIDECAR_SUFFIX}", p / SAVEDMODEL_SIDECAR]


def find_sidecar(model_path: str | Path) -> Path | None:
    """The first existing :func:`sidecar_candidates` of a model, or None."""
    return next((c for c in sidecar_candidates(model_path) if c.is_file()), None)


def read_sidecar_json(path: str | Path) -> dict[str, Any]:
    """The JSON object of a sidecar file; ModelError naming the file when it is unreadable or not an object."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{p}: cannot read the sidecar ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{p}: sidecar is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{p}: sidecar must be a JSON object, not {type(data).__name__}")
    return data


def write_sidecar(path: str | Path, sidecar: Sidecar) -> Path:
    p = Path(path)
    p.write_text(json.dumps(sidecar.to_dict(), indent=2, sort_keys=True) + "\n")
    return p


def read_sidecar(model_path: str | Path) -> Sidecar | None:
    """The sidecar of a model (see :func:`sidecar_candidates`), or None when there is none."""
    p = find_sidecar(model_path)
    return None if p is None else Sidecar.from_dict(read_sidecar_json(p), str(p))
