"""SITE.json: a scanner's fitted grey-level map, bound to one model by its SHA-256 (written by ``liveredge adapt``).

Layout (``format`` = :data:`SITE_FORMAT`, ``version`` 1)::

    {"format": "liveredge-site", "version": 1,
     "model": {"sha256": "<hex>", "name": "...", "path": "..."},
     "source": "<URI the frames came from>", "reference": {"source": "...", "n_frames": N},
     "lut": [256 ints, non-decreasing],
     "report": {"percentiles": [...], "reference": [...], "before": [...], "after": [...],
                "landmark_error_before": e0, "landmark_error_after": e1, "max_grey_shift": k, "identity": bool,
                "summary": "..."},
     "frames": {"requested": N, "read": n, "used": u, "rejected": {"dark": a, "no_region": b, ...}},
     "created": "<UTC ISO time>", "note": "..."}

:func:`apply_site` refuses a site file fitted for another model (hash mismatch) and composes the LUT into the
model's preprocessing table, so it costs nothing per frame. The file's own SHA-256 travels into every result
record and exam summary (``site_sha256``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.harmonize import check_lut, compose

if TYPE_CHECKING:
    from liveredge.edge.runtime.model import LoadedModel

SITE_FORMAT = "liveredge-site"
SITE_VERSION = 1
NOTE = (
    "Grey-level harmonisation fitted without labels; models trained on SIMULATED data, not for clinical use. "
    "It does not replace validation on real data from this scanner."
)


@dataclass(frozen=True)
class SiteFile:
    """A loaded site file: its path and SHA-256, the model hash it is bound to, the LUT and the full document."""

    path: str
    sha256: str
    model_sha256: str
    lut: np.ndarray = dataclasses.field(repr=False)
    document: dict[str, Any] = dataclasses.field(repr=False, default_factory=dict)


def site_document(
    model_sha256: str,
    model_name: str,
    model_path: str,
    source: str,
    lut: np.ndarray,
    report: dict[str, Any],
    frames: dict[str, Any],
    reference: dict[str, Any],
    created: str,
) -> dict[str, Any]:
    """The JSON document of a site file (see the module docstring)."""
    return {
        "format": SITE_FORMAT,
        "version": SITE_VERSION,
        "model": {"sha256": model_sha256, "name": model_name, "path": model_path},
        "source": source,
        "reference": reference,
        "lut": [int(v) for v in check_lut(lut, "site LUT")],
        "report": report,
        "frames": frames,
        "created": created,
        "note": NOTE,
    }


def write_site(path: str | Path, document: dict[str, Any]) -> str:
    """Write the document (atomically); returns the file's SHA-256."""
    data = (json.dumps(document, indent=1) + "\n").encode("utf-8")
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(p)
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot write the site file ({exc.strerror or exc})") from exc
    return hashlib.sha256(data).hexdigest()


def read_site(path: str | Path) -> SiteFile:
    """Load and validate a site file; ConfigError naming the file and what is wrong."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"site file {path}: cannot read it ({exc.strerror or exc})") from exc
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"site file {path}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != SITE_FORMAT:
        raise ConfigError(
            f"site file {path}: not a liveredge site file (format must be {SITE_FORMAT!r}); "
            "make one with 'liveredge adapt'"
        )
    if doc.get("version") != SITE_VERSION:
        raise ConfigError(f"site file {path}: version {doc.get('version')!r} is not supported (reads {SITE_VERSION})")
    model = doc.get("model")
    digest = model.get("sha256") if isinstance(model, dict) else None
    if not isinstance(digest, str) or len(digest) != 64:
        raise ConfigError(f"site file {path}: model.sha256 is missing or not a SHA-256 hex digest")
    lut = check_lut(doc.get("lut"), f"site file {path}: lut")
    return SiteFile(str(path), hashlib.sha256(data).hexdigest(), digest.lower(), lut, doc)


def check_model(site: SiteFile, model_sha256: str, model_path: str) -> None:
    """ConfigError (exit 2) unless the site file was fitted for exactly this model file."""
    if site.model_sha256 != model_sha256.lower():
        raise ConfigError(
            f"site file {site.path} was fitted for the model with sha256 {site.model_sha256[:16]}..., but "
            f"{model_path} has sha256 {model_sha256[:16]}...; re-run 'liveredge adapt' with this model"
        )


def apply_site(model: LoadedModel, site: SiteFile) -> LoadedModel:
    """The model with the site map composed into its 256-entry input table (float models get a float table)."""
    check_model(site, model.sha256, model.path)
    base = model.input_lut if model.input_lut is not None else model.meta.preprocess.float_lut()
    return dataclasses.replace(model, input_lut=compose(base, site.lut), site_sha256=site.sha256)
