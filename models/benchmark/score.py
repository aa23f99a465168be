"""Benchmark scores from predictions (pure numpy; the metrics are :mod:`liveredge.models.metrics`).

Inputs are parallel per-case arrays over the frames that rendered and prepared ("ok"): ``y`` int class
indices, ``probs`` (N, K) float, optional ``twin`` (N, K) float probabilities of the float twin of an int8
model. Undefined values (no frames, one class only) are ``nan`` here and ``null`` in JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from liveredge.edge.events import CLASSES
from liveredge.edge.events import NOT_LIVER as NOT_LIVER_LABEL
from liveredge.models.metrics import balanced_accuracy, ece, macro_auc, per_class, roc_auc

FOCAL_LABEL = CLASSES[3]
DISEASES = CLASSES[1:]


def group_metrics(
    y: np.ndarray, probs: np.ndarray, labels: Sequence[str], twin: np.ndarray | None = None
) -> dict[str, Any]:
    """n, balanced_accuracy, macro_auc, ece, per-class sensitivity (and int8_agreement with ``twin``)."""
    k = len(labels)
    pred = probs.argmax(axis=1) if len(y) else np.zeros(0, np.int64)
    out: dict[str, Any] = {
        "n": int(len(y)),
        "balanced_accuracy": balanced_accuracy(y, pred, k) if len(y) else float("nan"),
        "macro_auc": macro_auc(y, probs) if len(y) else float("nan"),
        "ece": ece(y, probs),
        "sensitivity": {name: v["sensitivity"] for name, v in per_class(y, probs, labels).items()}
        if len(y)
        else {name: float("nan") for name in labels},
    }
    if twin is not None:
        out["int8_agreement"] = float(np.mean(pred == twin.argmax(axis=1))) if len(y) else float("nan")
    return out


def headline(per_profile: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """(worst profile {profile, balanced_accuracy, kind}, median balanced accuracy) over the profiles."""
    scored = {p: v for p, v in per_profile.items() if not np.isnan(v["balanced_accuracy"])}
    if not scored:
        return {"profile": None, "balanced_accuracy": float("nan")}, float("nan")
    worst = min(scored, key=lambda p: scored[p]["balanced_accuracy"])
    median = float(np.median([v["balanced_accuracy"] for v in scored.values()]))
    return {
        "profile": worst,
        "balanced_accuracy": scored[worst]["balanced_accuracy"],
        "kind": scored[worst].get("kind"),
    }, median


def lesion_point(y: np.ndarray, probs: np.ndarray, labels: Sequence[str], skipped: int) -> dict[str, Any]:
    """Focal-lesion sensitivity of one lesion-sweep point (every frame is a lesion frame)."""
    k = list(labels).index(FOCAL_LABEL)
    hit = probs.argmax(axis=1) == k if len(y) else np.zeros(0, bool)
    return {
        "n": int(len(y)),
        "skipped": int(skipped),
        "sensitivity": float(hit.mean()) if len(y) else float("nan"),
        "mean_prob": float(probs[:, k].mean()) if len(y) else float("nan"),
        "called_normal": float(np.mean(probs.argmax(axis=1) == list(labels).index("normal")))
        if len(y)
        else float("nan"),
    }


# Lesion diameter bins of the size sweep, [low, high) except the last, which includes its upper end.
LESION_SIZE_BINS_MM: tuple[tuple[float, float], ...] = ((5.0, 10.0), (10.0, 20.0), (20.0, 50.0))


def grade_name(condition: str, severity: int) -> str:
    """The ``per_grade`` key of a graded frame: "steatosis S2", "fibrosis F3"."""
    return f"{condition} {'S' if condition == 'steatosis' else 'F'}{severity}"


def size_bin_name(lo: float, hi: float) -> str:
    """The ``lesion_size_bins`` key of a bin: "10-20mm"."""
    return f"{lo:g}-{hi:g}mm"


def per_grade(grades: Sequence[str | None], y: np.ndarray, probs: np.ndarray) -> dict[str, dict[str, Any]]:
    """Sensitivity of the true class per grade or lesion kind (``grades[i]`` names frame i's, e.g. "steatosis S2";
    None = not graded: normal). The classes are coarse (steatosis S1-S3 is one class), so this shows which grades
    a class's sensitivity hides: S1 next to S3, F2 next to F4."""
    pred = probs.argmax(axis=1) if len(y) else np.zeros(0, np.int64)
    keys = np.asarray([g or "" for g in grades], dtype=str)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(keys) - {""}):
        m = keys == name
        out[name] = {"n": int(m.sum()), "sensitivity": float(np.mean(pred[m] == y[m]))}
    return out


def lesion_size_bins(sizes_mm: Sequence[float], probs: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Focal-lesion sensitivity of the size sweep's frames pooled into ``LESION_SIZE_BINS_MM``."""
    sizes = np.asarray(sizes_mm, dtype=float)
    hit = probs.argmax(axis=1) == list(labels).index(FOCAL_LABEL) if len(sizes) else np.zeros(0, bool)
    out: dict[str, dict[str, Any]] = {}
    for i, (lo, hi) in enumerate(LESION_SIZE_BINS_MM):
        last = i == len(LESION_SIZE_BINS_MM) - 1
        m = (sizes >= lo) & ((sizes <= hi) if last else (sizes < hi))
        out[size_bin_name(lo, hi)] = {
            "n": int(m.sum()),
            "sizes_mm": sorted({float(v) for v in sizes[m]}),
            "sensitivity": float(hit[m].mean()) if m.any() else float("nan"),
        }
    return out


def worst_per_class(per_profile: dict[str, dict[str, Any]], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per class: the profile where its sensitivity is lowest, and the median over profiles."""
    out: dict[str, dict[str, Any]] = {}
    for name in labels:
        vals = {p: v["sensitivity"][name] for p, v in per_profile.items() if not np.isnan(v["sensitivity"][name])}
        if not vals:
            out[name] = {"worst_profile": None, "worst_sensitivity": float("nan"), "median_sensitivity": float("nan")}
            continue
        worst = min(vals, key=vals.__getitem__)
        out[name] = {
            "worst_profile": worst,
            "worst_sensitivity": vals[worst],
            "median_sensitivity": float(np.median(list(vals.values()))),
        }
    return out


def _detection(is_ood: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """AUROC of ``score`` (higher = more out-of-distribution) and the false-alarm rate on liver frames at the
    threshold that flags 95 % of the non-liver frames."""
    if not is_ood.any() or is_ood.all():
        return {"auroc": float("nan"), "fpr_at_95tpr": float("nan")}
    threshold = np.quantile(score[is_ood], 0.05)
    return {"auroc": roc_auc(is_ood, score), "fpr_at_95tpr": float(np.mean(score[~is_ood] >= threshold))}


def ood(
    liver: np.ndarray,
    scenes: np.ndarray,
    kinds: Sequence[str],
    labels: Sequence[str],
    no_region: int = 0,
    not_liver_threshold: float | None = None,
) -> dict[str, Any]:
    """Non-liver scenes vs the suite's liver frames: per score ("max_softmax" = 1 - top liver-class probability, the weak
    baseline; "not_liver" = that output's probability when the model has one) AUROC and FPR at 95 % TPR,
    overall and per scene kind; how often a scene is called a disease (the dangerous failure). Scenes where
    the runtime finds no ultrasound region (``no_region``: no result at all) are counted, not scored."""
    probs = np.concatenate([liver, scenes])
    is_ood = np.r_[np.zeros(len(liver), bool), np.ones(len(scenes), bool)]
    liver_cols = [i for i, name in enumerate(labels) if name != NOT_LIVER_LABEL]
    scores = {"max_softmax": 1.0 - probs[:, liver_cols].max(axis=1)}  # over the liver classes: the usual baseline
    if NOT_LIVER_LABEL in labels:
        scores["not_liver"] = probs[:, list(labels).index(NOT_LIVER_LABEL)]
    kinds_arr = np.r_[np.array([""] * len(liver)), np.asarray(kinds, dtype=str)]
    out: dict[str, Any] = {"n_liver": int(len(liver)), "n_scenes": int(len(scenes)), "scenes_no_region": no_region}
    for name, score in scores.items():
        per_kind = {
            k: _detection(is_ood[(kinds_arr == k) | ~is_ood], score[(kinds_arr == k) | ~is_ood])["auroc"]
            for k in dict.fromkeys(kinds)
        }
        out[name] = {**_detection(is_ood, score), "auroc_per_scene": per_kind}
    disease = [list(labels).index(d) for d in DISEASES if d in labels]
    out["scenes_called_disease"] = (
        float(np.isin(scenes.argmax(axis=1), disease).mean()) if len(scenes) else float("nan")
    )
    if not_liver_threshold is not None and NOT_LIVER_LABEL in labels:
        out["gate"] = _gate(liver, scenes, disease, list(labels).index(NOT_LIVER_LABEL), not_liver_threshold)
    return out


def _gate(liver: np.ndarray, scenes: np.ndarray, disease: list[int], nl: int, threshold: float) -> dict[str, Any]:
    """The runtime gate's probability check at the model's own threshold (chosen on validation data): liver
    frames it flags (false alarms), scenes it catches, scenes that still reach a disease label."""
    caught = scenes[:, nl] >= threshold
    return {
        "not_liver_threshold": threshold,
        "liver_flagged": float(np.mean(liver[:, nl] >= threshold)),
        "scenes_caught": float(np.mean(caught)) if len(scenes) else float("nan"),
        "scenes_called_disease": float(np.mean(~caught & np.isin(scenes.argmax(axis=1), disease)))
        if len(scenes)
        else float("nan"),
    }
