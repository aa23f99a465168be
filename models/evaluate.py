"""``liveredge evaluate``: run a model on a manifest dataset and write report.json + report.html.

Frames go through the runtime's preprocessing with the MODEL's spec (metadata / sidecar), cached like in
training. Subsets: ``sites`` (e.g. only the held-out site) and/or ``split`` + ``splits_path`` (a run's
``splits.json``: evaluate exactly the patients of one split). Confidence intervals bootstrap over patients.

With ``site`` (a SITE.json from ``liveredge adapt``, refused unless fitted for this model file) the images go
through the site's grey-level LUT first — the same table the runtime composes into its input LUT — and the
report records ``site`` (path, sha256, summary).

report.json (top level): n, labels, macro_auc, balanced_accuracy, accuracy, ece (+ ``*_ci95``), per_class,
confusion, reliability, per_site, plus ``model`` (path, kind, name, input dtype/quant, spec source),
``dataset``, ``manifest_sha256``, ``subset``, ``n_patients``, ``n_boot`` and ``note`` (simulated data only).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, DataError
from liveredge.models import dataset as ds
from liveredge.models.frames import load_frames
from liveredge.models.metrics import summarize
from liveredge.models.predict import Predictor, load_predictor
from liveredge.models.report import NOTE, write_report


@dataclass(frozen=True)
class EvalConfig:
    """Which frames to evaluate and how many bootstrap resamples (0 = no CIs)."""

    sites: tuple[str, ...] = ()
    split: str | None = None
    splits_path: Path | None = None
    region: str = "detect"
    n_boot: int = 500
    seed: int = 0
    site: Path | None = None


def select(manifest: ds.Manifest, cfg: EvalConfig) -> np.ndarray:
    """Frame indices of the requested subset; raises DataError when it is empty or a site is unknown."""
    keep = np.ones(len(manifest.records), dtype=bool)
    if cfg.sites:
        unknown = sorted(set(cfg.sites) - set(manifest.sites.tolist()))
        if unknown:
            raise DataError(f"sites {unknown} are not in the manifest (sites: {sorted(set(manifest.sites.tolist()))})")
        keep &= np.isin(manifest.sites, cfg.sites)
    if cfg.split is not None:
        if cfg.splits_path is None:
            raise ConfigError("--split needs --splits RUN_DIR/splits.json (the patient ids of each split)")
        try:
            splits = json.loads(Path(cfg.splits_path).read_text())
            pids = splits[cfg.split]
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise DataError(f"{cfg.splits_path}: cannot read split {cfg.split!r} ({exc})") from exc
        keep &= np.isin(manifest.patients, pids)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise DataError("no frames left to evaluate after selecting sites/split; check --sites / --split")
    return idx


def evaluate_predictor(
    predictor: Predictor, dataset: str | Path, cfg: EvalConfig
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """(report dict, y_true, probs) for a loaded predictor on the dataset subset."""
    info = predictor.info
    site = _site(cfg.site, info.path)
    manifest = ds.read_manifest(dataset, info.labels)
    idx = select(manifest, cfg)
    images = load_frames(manifest, info.spec, region=cfg.region)[idx]
    if site is not None:
        images = site.lut[images]
    probs = predictor.predict(images)
    y = manifest.y[idx]
    metrics = summarize(
        y,
        probs,
        info.labels,
        sites=manifest.sites[idx],
        groups=manifest.patients[idx],
        n_boot=cfg.n_boot,
        seed=cfg.seed,
    )
    model = {
        "path": str(info.path),
        "kind": info.kind,
        "name": info.name,
        "input_dtype": info.input_dtype,
        "input_quant": list(info.input_quant) if info.input_quant else None,
        "spec_source": info.spec_source,
        "input_shape": list(info.spec.input_shape),
    }
    report = {
        **metrics,
        "model": model,
        "dataset": str(Path(dataset)),
        "manifest_sha256": manifest.sha256,
        "subset": {"sites": list(cfg.sites), "split": cfg.split},
        "n_patients": int(len(set(manifest.patients[idx]))),
        "n_boot": cfg.n_boot,
        "note": NOTE,
        "site": None
        if site is None
        else {"path": site.path, "sha256": site.sha256, "summary": site.document.get("report", {}).get("summary", "")},
    }
    return report, y, probs


def _site(path: Path | None, model_path: Path) -> Any:
    """The site file checked against the model file's SHA-256 (ConfigError when fitted for another model)."""
    if path is None:
        return None
    import hashlib

    from liveredge.edge.site import check_model, read_site

    site = read_site(path)
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest() if Path(model_path).is_file() else ""
    check_model(site, digest, str(model_path))
    return site


def evaluate(model_path: str | Path, dataset: str | Path, out_dir: str | Path, cfg: EvalConfig) -> dict[str, Any]:
    """Load, run, write ``out_dir/report.json`` + ``report.html`` (+ PNGs); return the report dict."""
    predictor = load_predictor(model_path)
    report, y, probs = evaluate_predictor(predictor, dataset, cfg)
    write_report(out_dir, report, y, probs)
    return report


def headline(report: dict[str, Any], keys: Sequence[str] = ("macro_auc", "balanced_accuracy", "ece")) -> str:
    """One line for the terminal: value [CI] per key."""

    def one(k: str) -> str:
        lo, hi = report.get(f"{k}_ci95") or (None, None)
        v = report.get(k)
        ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
        return f"{k} {v:.3f}{ci}" if v is not None else f"{k} n/a"

    return f"{report['n']} frames: " + ", ".join(one(k) for k in keys)
