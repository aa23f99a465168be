"""Classification metrics in pure numpy (no TensorFlow, no scikit-learn): the evaluation report and the
convert toolchain's float-vs-int8 gate share them.

Conventions: ``y_true`` is an int array (N,) of class indices 0..K-1; ``probs`` is a float array (N, K) of
class probabilities (rows sum to ~1; only their order matters for AUC); ``y_pred`` is an int array (N,).
Metrics that are undefined for the given data (e.g. AUC of a class with no positives) are ``nan``, never an
exception, so a report can still be written; :func:`summarize` turns ``nan`` into ``None`` for JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "roc_auc",
    "roc_curve",
    "macro_auc",
    "confusion",
    "balanced_accuracy",
    "accuracy",
    "ece",
    "reliability",
    "per_class",
    "bootstrap_ci",
    "summarize",
]


def _rank_average(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    boundaries = np.flatnonzero(np.diff(sorted_x)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(x)]))
    avg = (starts + ends + 1) / 2.0  # mean of 1-based ranks starts+1..ends
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Binary ROC AUC (Mann-Whitney U with tie correction). ``positive`` bool (N,), ``score`` float (N,)."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _rank_average(score)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate) at every distinct threshold, starting at (0, 0)."""
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    s, p = score[order], positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.array([], dtype=int)
    tps = np.cumsum(p)[last_of_tie]
    fps = (last_of_tie + 1) - tps
    n_pos, n_neg = max(int(p.sum()), 1), max(int((~p).sum()), 1)
    return np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos]


def macro_auc(y_true: np.ndarray, probs: np.ndarray) -> float:
    """One-vs-rest ROC AUC averaged over classes that have both positives and negatives (nan if none)."""
    y_true = np.asarray(y_true)
    aucs = [roc_auc(y_true == k, probs[:, k]) for k in range(probs.shape[1])]
    valid = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(valid)) if valid else float("nan")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) int64 counts; row = true class, column = predicted class (scikit-learn's layout)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's definition)."""
    cm = confusion(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    return float(np.mean(np.diag(cm)[present] / support[present]))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of exact matches."""
    y_true = np.asarray(y_true)
    return float(np.mean(y_true == np.asarray(y_pred))) if y_true.size else float("nan")


def reliability(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> dict[str, list[float]]:
    """Top-label reliability table over equal-width confidence bins (0, 1/n], ..., ((n-1)/n, 1]."""
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / count
        mean_acc = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return {"count": count.tolist(), "confidence": mean_conf.tolist(), "accuracy": mean_acc.tolist()}


def ece(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top label: sum over bins of |acc - conf| weighted by bin size."""
    if len(y_true) == 0:
        return float("nan")
    table = reliability(y_true, probs, n_bins)
    count = np.asarray(table["count"])
    gap = np.abs(np.nan_to_num(np.asarray(table["accuracy"])) - np.nan_to_num(np.asarray(table["confidence"])))
    return float(np.sum(gap * count) / count.sum())


def per_class(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per class (one-vs-rest, argmax decision): sensitivity, specificity, AUC and support."""
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(axis=1)
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(labels):
        pos, hit = y_true == k, y_pred == k
        out[name] = {
            "sensitivity": _ratio(np.sum(pos & hit), np.sum(pos)),
            "specificity": _ratio(np.sum(~pos & ~hit), np.sum(~pos)),
            "auc": roc_auc(pos, probs[:, k]),
            "support": float(np.sum(pos)),
        }
    return out


def _ratio(num: Any, den: Any) -> float:
    return float(num) / float(den) if den else float("nan")


MetricFn = Callable[[np.ndarray, np.ndarray], float]


def bootstrap_ci(
    fn: MetricFn,
    y_true: np.ndarray,
    probs: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap (1 - alpha) interval of ``fn(y_true, probs)``.

    With ``groups`` (e.g. patient ids) whole groups are resampled (cluster bootstrap): frames of one patient
    are correlated, so resampling frames alone would give too narrow intervals. Resamples where the metric
    is undefined (nan) are dropped; (nan, nan) if all are.
    """
    rng = np.random.default_rng(seed)
    y_true = np.asarray(y_true)
    if groups is None:
        members = [np.array([i]) for i in range(len(y_true))]
    else:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(inverse.max() + 1)] if len(y_true) else []
    if not members:
        return float("nan"), float("nan")
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(members), size=len(members))
        idx = np.concatenate([members[i] for i in pick])
        values.append(fn(y_true[idx], probs[idx]))
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(np.quantile(arr, alpha / 2)), float(np.quantile(arr, 1 - alpha / 2))


def _headline(n_classes: int) -> dict[str, MetricFn]:
    return {
        "macro_auc": lambda y, p: macro_auc(y, p),
        "balanced_accuracy": lambda y, p: balanced_accuracy(y, p.argmax(axis=1), n_classes),
        "accuracy": lambda y, p: accuracy(y, p.argmax(axis=1)),
        "ece": lambda y, p: ece(y, p),
    }


def summarize(
    y_true: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    *,
    sites: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """All report metrics as a JSON-able dict (nan → None).

    Keys: n, macro_auc, balanced_accuracy, accuracy, ece (each with a ``<name>_ci95`` [low, high] from a
    bootstrap over ``groups`` when given), per_class, confusion (rows true, columns predicted), reliability,
    per_site (the headline metrics per site, no CIs) when ``sites`` is given.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    k = len(labels)
    out: dict[str, Any] = {"n": int(len(y_true)), "labels": list(labels)}
    for name, fn in _headline(k).items():
        out[name] = fn(y_true, probs) if len(y_true) else float("nan")
        out[f"{name}_ci95"] = list(bootstrap_ci(fn, y_true, probs, groups=groups, n_boot=n_boot, seed=seed))
    out["per_class"] = per_class(y_true, probs, labels)
    out["confusion"] = confusion(y_true, probs.argmax(axis=1), k).tolist()
    out["reliability"] = reliability(y_true, probs)
    if sites is not None:
        sites = np.asarray(sites)
        out["per_site"] = {
            str(s): {
                "n": int(np.sum(sites == s)),
                **{n: fn(y_true[sites == s], probs[sites == s]) for n, fn in _headline(k).items()},
            }
            for s in sorted(set(sites.tolist()))
        }
    return _jsonable(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
