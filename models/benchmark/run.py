"""``liveredge benchmark``: score a model on the fixed generalization suite and write the result files.

Flow: plan the suite (:mod:`.suite`, :mod:`.sweeps`) → render every case with the phantom simulator and
prepare it with the runtime's preprocessing and the MODEL's spec (:mod:`.render`) → run the model
(:func:`liveredge.models.predict.load_predictor`: Keras, SavedModel or ``.tflite`` through LiteRT) and, for an
int8 ``.tflite``, its float twin (``find_float_twin``: ``X.float32.tflite`` beside ``X.tflite``) → scores
(:mod:`.score`) → ``OUT/benchmark.json`` + ``OUT/benchmark.html`` (:mod:`.report`).

The suite's results are REPORTED ONLY: never use them to choose a model, threshold, augmentation or any
setting (that is what the validation seed range is for; see docs/benchmark.md). SIMULATED data only.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections import Counter
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from liveredge.edge.errors import InputError, ModelError
from liveredge.edge.integrity import sha256_file
from liveredge.edge.runtime.bench import find_float_twin
from liveredge.edge.sim.patient import CLASSES
from liveredge.edge.sim.profiles import get_profile
from liveredge.edge.sim.seeds import PURPOSES, seed_range
from liveredge.models.benchmark import score, sweeps
from liveredge.models.benchmark.render import Renderer
from liveredge.models.benchmark.suite import SUITE_VERSION, Case, SuiteConfig, core_cases, digest, suite_profiles
from liveredge.models.metrics import reliability
from liveredge.models.predict import Predictor, TFLitePredictor, load_predictor
from liveredge.models.report import NOTE

PREDICT_CHUNK = 64


def plan(cfg: SuiteConfig) -> list[Case]:
    """Every case of the suite: the per-profile suite, then each sweep (when ``cfg.sweeps``)."""
    cases = core_cases(cfg)
    if cfg.sweeps:
        for build in sweeps.SWEEPS.values():
            cases += build(cfg)
        cases += sweeps.ood_cases(cfg)
    return cases


def output_dir(out: str | Path) -> Path:
    """Create ``out`` (and parents) and check it is a writable folder, before any long work."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".benchmark-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"--out {out}: cannot create or write this folder ({exc.strerror or exc}); choose a writable folder"
        ) from exc
    return path


def model_sha256(path: Path) -> str:
    """SHA-256 of a model file; for a SavedModel folder, of its files' relative paths and bytes in order."""
    if path.is_file():
        return sha256_file(path)
    digest_ = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest_.update(f.relative_to(path).as_posix().encode() + b"\0" + sha256_file(f).encode())
    return digest_.hexdigest()


def float_twin(predictor: Predictor) -> Predictor | None:
    """The float twin of an integer-input ``.tflite`` (same labels and spec), or None when there is none."""
    info = predictor.info
    if info.kind != "tflite" or info.input_dtype not in ("int8", "uint8"):
        return None
    path = find_float_twin(info.path)
    if path is None:
        return None
    twin = TFLitePredictor(path)
    if twin.info.labels != info.labels or twin.info.spec != info.spec:
        raise ModelError(
            f"{path}: the float twin's labels or preprocessing differ from {info.path}'s; re-convert the pair together"
        )
    return twin


def class_indices(cases: list[Case], labels: tuple[str, ...]) -> np.ndarray:
    """The model's class index of each case's condition (-1 for a non-liver scene the model has no class for);
    ModelError when the model lacks one of the liver classes."""
    missing = sorted(set(CLASSES) - set(labels))
    if missing:
        raise ModelError(f"the model's labels {list(labels)} lack {missing}; the benchmark scores {list(CLASSES)}")
    return np.array([labels.index(c.condition) if c.condition in labels else -1 for c in cases], dtype=np.int64)


def render_all(cases: list[Case], renderer: Renderer, progress: bool | None) -> tuple[list[str], list[np.ndarray]]:
    """(status per case, images of the "ok" cases in order)."""
    status, images = [], []
    for case in tqdm(cases, desc="benchmark: render", unit="frame", disable=progress, file=sys.stderr):
        r = renderer.render(case)
        status.append(r.status)
        if r.image is not None:
            images.append(r.image)
    return status, images


def predict_all(predictor: Predictor, images: list[np.ndarray], desc: str, progress: bool | None) -> np.ndarray:
    """Probabilities (N, K) for the images, in chunks so the progress bar moves."""
    k = len(predictor.info.labels)
    chunks = [
        predictor.predict(np.stack(images[s : s + PREDICT_CHUNK]))
        for s in tqdm(range(0, len(images), PREDICT_CHUNK), desc=desc, unit="chunk", disable=progress, file=sys.stderr)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, k), np.float32)


def run_benchmark(
    model: str | Path, out: str | Path, cfg: SuiteConfig, *, progress: bool | None = None
) -> dict[str, Any]:
    """Run the suite on ``model``; write ``out/benchmark.json`` and ``benchmark.html``; return the result.

    ``progress``: tqdm's ``disable`` (None = bars only when stderr is a terminal, True = no bars).
    """
    from liveredge.models.benchmark.report import write_outputs

    t0 = time.perf_counter()
    out_dir = output_dir(out)
    predictor = load_predictor(model)
    twin = float_twin(predictor)
    cases = plan(cfg)
    labels = tuple(predictor.info.labels)
    y_all = class_indices(cases, labels)
    status, images = render_all(cases, Renderer(predictor.info.spec, cfg.size), progress)
    ok = np.array([s == "ok" for s in status], dtype=bool)
    probs = predict_all(predictor, images, "benchmark: model", progress)
    core = np.array([c.sweep == "profile" for c in cases]) & ok
    twin_probs = None
    if twin is not None:
        twin_probs = predict_all(
            twin, [im for im, c in zip(images, core[ok], strict=True) if c], "benchmark: float twin", progress
        )
    result = assemble(cases, status, y_all, probs, twin_probs, predictor, twin, cfg)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    write_outputs(out_dir, result)
    return result


def _per_profile(
    cases: list[Case],
    ok: np.ndarray,
    y: np.ndarray,
    probs: np.ndarray,
    twin_probs: np.ndarray | None,
    labels: tuple[str, ...],
    status: list[str],
) -> dict[str, Any]:
    sel_ok = [c for c, o in zip(cases, ok, strict=True) if o]
    core_ok = np.array([c.sweep == "profile" for c in sel_ok], dtype=bool)
    twin_rows = np.cumsum(core_ok) - 1
    out: dict[str, Any] = {}
    for name in dict.fromkeys(c.point for c in cases if c.sweep == "profile"):
        m = np.array([c.sweep == "profile" and c.point == name for c in sel_ok], dtype=bool)
        tw = twin_probs[twin_rows[m]] if twin_probs is not None else None
        no_region = sum(
            1
            for c, s in zip(cases, status, strict=True)
            if c.sweep == "profile" and c.point == name and s == "no_region"
        )
        out[name] = {
            "kind": get_profile(name).kind,
            **score.group_metrics(y[m], probs[m], labels, tw),
            "no_region": no_region,
        }
    return out


def _sweeps(
    cases: list[Case], status: list[str], ok: np.ndarray, y: np.ndarray, probs: np.ndarray, labels: tuple[str, ...]
) -> dict[str, Any]:
    sel_ok = [c for c, o in zip(cases, ok, strict=True) if o]
    out: dict[str, Any] = {}
    for name in sweeps.SWEEPS:
        points: dict[str, Any] = {}
        for point in dict.fromkeys(c.point for c in cases if c.sweep == name):
            m = np.array([c.sweep == name and c.point == point for c in sel_ok], dtype=bool)
            dropped = Counter(
                s for c, s in zip(cases, status, strict=True) if c.sweep == name and c.point == point and s != "ok"
            )
            first = next(c for c in cases if c.sweep == name and c.point == point)
            if first.lesion_mm is not None:
                points[point] = {
                    "lesion_mm": first.lesion_mm,
                    "target_depth_lateral_cm": first.lesion_target_cm,
                    **score.lesion_point(y[m], probs[m], labels, dropped["skipped"]),
                    "no_region": dropped["no_region"],
                }
            else:
                points[point] = {**score.group_metrics(y[m], probs[m], labels), "no_region": dropped["no_region"]}
        if points:
            lesion = name.startswith("lesion")
            out[name] = {"metric": "focal_lesion sensitivity" if lesion else "balanced_accuracy", "points": points}
    return out


def _grade(case: Case) -> str | None:
    if case.condition in ("steatosis", "fibrosis") and case.severity is not None:
        return score.grade_name(case.condition, case.severity)
    return f"focal_lesion {case.lesion}" if case.condition == "focal_lesion" and case.lesion else None


def _graded(
    cases: list[Case], ok: np.ndarray, y: np.ndarray, probs: np.ndarray, labels: tuple[str, ...]
) -> dict[str, Any]:
    """``per_grade`` over the per-profile suite and ``lesion_size_bins`` over the size sweep."""
    sel_ok = [c for c, o in zip(cases, ok, strict=True) if o]
    core = np.array([c.sweep == "profile" for c in sel_ok], dtype=bool)
    size = np.array([c.sweep == "lesion_size" for c in sel_ok], dtype=bool)
    return {
        "per_grade": score.per_grade([_grade(c) for c in sel_ok if c.sweep == "profile"], y[core], probs[core]),
        "lesion_size_bins": score.lesion_size_bins(
            [c.lesion_mm or 0.0 for c in sel_ok if c.sweep == "lesion_size"], probs[size], labels
        ),
    }


def _seeds(cases: list[Case]) -> dict[str, Any]:
    prof = sorted({int(c.profile.split(":")[1]) for c in cases})
    pat = sorted({c.patient_seed for c in cases})
    ranges = {
        p: {k: [seed_range(k, p).start, seed_range(k, p).stop - 1] for k in ("profile", "patient")} for p in PURPOSES
    }
    bench_p, bench_q = seed_range("profile", "benchmark"), seed_range("patient", "benchmark")
    return {
        "profile_seeds": prof,
        "patient_seeds": {"n": len(pat), "min": pat[0], "max": pat[-1]},
        "all_in_benchmark_range": all(s in bench_p for s in prof) and all(s in bench_q for s in pat),
        "ranges": ranges,
    }


def _twin_agreement(
    per_profile: dict[str, Any],
    core: np.ndarray,
    probs: np.ndarray,
    twin_probs: np.ndarray | None,
    twin: Predictor | None,
) -> dict[str, Any] | None:
    """Worst, median and overall top-1 agreement of the int8 twin with the model (None without a twin)."""
    if twin is None or twin_probs is None:
        return None
    values = [v["int8_agreement"] for v in per_profile.values()]
    return {
        "twin": twin.info.path.name,
        "twin_sha256": sha256_file(twin.info.path),
        "worst": float(np.nanmin(values)),
        "median": float(np.nanmedian(values)),
        "overall": float(np.mean(probs[core].argmax(1) == twin_probs.argmax(1))),
    }


def _ood_section(
    cases: list[Case], status: list[str], ok: np.ndarray, core: np.ndarray, probs: np.ndarray, predictor: Predictor
) -> dict[str, Any] | None:
    """The not-a-liver scenes against the liver frames (None when the suite has no such scene)."""
    scene = np.array([c.sweep == "ood" for c, o in zip(cases, ok, strict=True) if o], dtype=bool)
    if not scene.any():
        return None
    kinds = [c.scene or "" for c, o in zip(cases, ok, strict=True) if o and c.sweep == "ood"]
    refused = sum(c.sweep == "ood" and s == "no_region" for c, s in zip(cases, status, strict=True))
    labels = tuple(predictor.info.labels)
    return score.ood(probs[core], probs[scene], kinds, labels, refused, predictor.info.not_liver_threshold)


def _model_section(info: Any) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "kind": info.kind,
        "name": info.name,
        "input_dtype": info.input_dtype,
        "spec_source": info.spec_source,
        "labels": list(info.labels),
        "temperature": info.temperature,
    }


def _suite_section(cases: list[Case], status: list[str], cfg: SuiteConfig) -> dict[str, Any]:
    return {
        "config": asdict(cfg),
        "digest": digest(cases),
        "code_sha256": code_fingerprint(),
        "n_cases": len(cases),
        "liveredge_version": _version(),
        "profiles": list(suite_profiles(cfg.profiles)),
        "status": dict(Counter(status)),
        "sweep_definitions": _sweep_definitions(),
    }


def assemble(
    cases: list[Case],
    status: list[str],
    y_all: np.ndarray,
    probs: np.ndarray,
    twin_probs: np.ndarray | None,
    predictor: Predictor,
    twin: Predictor | None,
    cfg: SuiteConfig,
) -> dict[str, Any]:
    """The benchmark.json document (headline keys first)."""
    labels = tuple(predictor.info.labels)
    ok = np.array([s == "ok" for s in status], dtype=bool)
    y = y_all[ok]
    per_profile = _per_profile(cases, ok, y, probs, twin_probs, labels, status)
    worst, median = score.headline(per_profile)
    core = np.array([c.sweep == "profile" for c, o in zip(cases, ok, strict=True) if o], dtype=bool)
    overall = score.group_metrics(y[core], probs[core], labels)
    overall["reliability"] = reliability(y[core], probs[core])
    return {
        "suite_version": SUITE_VERSION,
        "model_sha256": model_sha256(predictor.info.path),
        "worst_profile": worst,
        "median_balanced_accuracy": median,
        "int8_agreement": _twin_agreement(per_profile, core, probs, twin_probs, twin),
        "note": NOTE,
        "per_profile": per_profile,
        "per_class": score.worst_per_class(per_profile, labels),
        "sweeps": _sweeps(cases, status, ok, y, probs, labels),
        **_graded(cases, ok, y, probs, labels),
        "ood": _ood_section(cases, status, ok, core, probs, predictor),
        "overall": overall,
        "model": _model_section(predictor.info),
        "suite": _suite_section(cases, status, cfg),
        "seeds": _seeds(cases),
    }


def code_fingerprint() -> str:
    """SHA-256 over the source of what makes and prepares the suite's frames (the simulator, the preprocessing, the
    suite's renderer). Two reports with the same suite digest but different fingerprints may have scored different
    pixels: a runtime fix once changed 7 of 24 profiles of an unchanged model. ``card_bench`` marks such rows."""
    from liveredge.edge import preprocess, sim
    from liveredge.models.benchmark import render, suite

    files = [*sorted(Path(sim.__file__).parent.glob("*.py")), *sorted(Path(preprocess.__file__).parent.glob("*.py"))]
    files += [Path(str(render.__file__)), Path(str(suite.__file__)), Path(str(sweeps.__file__))]
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.parent.name}/{f.name}\n".encode() + f.read_bytes())
    return h.hexdigest()


def _version() -> str:
    try:
        return metadata.version("liveredge")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sweep_definitions() -> dict[str, Any]:
    return {
        "lesion_sizes_mm": list(sweeps.LESION_SIZES_MM),
        "position_lesion_mm": sweeps.POSITION_LESION_MM,
        "positions_depth_lateral_cm": [list(p) for p in sweeps.POSITIONS_CM],
        "position_tolerance_cm": sweeps.POSITION_TOLERANCE_CM,
        "gain_offsets_db": list(sweeps.GAIN_OFFSETS_DB),
        "tgc_tilts_db": list(sweeps.TGC_TILTS_DB),
        "tgc_band_weights": list(sweeps.TGC_BAND_WEIGHTS),
        "views": list(sweeps.VIEWS),
        "ood_scenes": list(sweeps.SCENES),
    }
