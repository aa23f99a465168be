"""The clinical parity gate: float vs int8 on a labelled validation set, with bootstrap 95 % intervals.

Metrics (point estimate on all frames; 95 % interval by a paired cluster bootstrap over patients, the same
resample applied to float and int8):

* ``agreement`` — top-1 agreement of int8 with float (budget: >= value);
* ``auc`` — int8 minus float macro one-vs-rest AUROC (budget: |delta| <= value);
* ``sens:<label>`` / ``spec:<label>`` — per-class sensitivity/specificity deltas (budget ``sens`` / ``spec``:
  |delta| <= value for every class; not enforced unless given);
* ``ece`` — expected calibration error drift, int8 minus float (budget: |delta| <= value; not enforced unless given).

Metrics come from :mod:`liveredge.models.metrics` (pure numpy, AUC via ranks) — one implementation for the
training report and this gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, GateFailed
from liveredge.models import metrics as M

DEFAULT_BUDGET = {"agreement": 0.995, "auc": 0.005}
_KNOWN = {"agreement", "auc", "sens", "spec", "ece"}


@dataclass(frozen=True)
class GateBudget:
    """Budgets per metric; a missing key is reported but not enforced."""

    limits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BUDGET))

    @classmethod
    def parse(cls, text: str | None) -> GateBudget:
        """``"agreement=0.995,auc=0.005,sens=0.02"`` → budget (unspecified defaults kept)."""
        limits = dict(DEFAULT_BUDGET)
        for item in filter(None, (text or "").split(",")):
            key, _, value = item.partition("=")
            key = key.strip()
            if key not in _KNOWN:
                raise ConfigError(f"--budget: unknown metric {key!r}; known: {sorted(_KNOWN)}")
            try:
                limits[key] = float(value)
            except ValueError as exc:
                raise ConfigError(f"--budget: {key} needs a number, got {value!r}") from exc
        return cls(limits)


@dataclass(frozen=True)
class MetricRow:
    """One gate line: value (int8 vs float), 95 % interval, the budget it is held to, and whether it passes."""

    name: str
    value: float
    low: float
    high: float
    budget: float | None
    ok: bool


@dataclass(frozen=True)
class GateResult:
    """All metric rows, float and int8 headline numbers, and the overall verdict."""

    rows: tuple[MetricRow, ...]
    n_frames: int
    float_auc: float
    int8_auc: float
    passed: bool
    per_site: dict[str, dict[str, float]] | None = None  # {site: {"n", "agreement"}}: reported, not gated

    @property
    def failures(self) -> tuple[MetricRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    def to_dict(self) -> dict[str, Any]:
        clean = lambda v: None if v is None or not np.isfinite(v) else round(float(v), 6)  # noqa: E731 - a local formatter
        return {
            "passed": self.passed,
            "n_frames": self.n_frames,
            "float_auc": clean(self.float_auc),
            "int8_auc": clean(self.int8_auc),
            "metrics": [
                {
                    "name": r.name,
                    "value": clean(r.value),
                    "ci95": [clean(r.low), clean(r.high)],
                    "budget": r.budget,
                    "ok": r.ok,
                }
                for r in self.rows
            ],
            "per_site_agreement": self.per_site,
        }

    def raise_if_failed(self) -> None:
        if not self.passed:
            shown = ", ".join(f"{r.name}={r.value:.4f} (budget {r.budget})" for r in self.failures)
            raise GateFailed(f"int8 model fails the parity gate: {shown}")


Pair = Callable[[np.ndarray, np.ndarray], float]


def _metric_fns(labels: Sequence[str]) -> dict[str, Pair]:
    k = len(labels)

    def split(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return p[:, :k], p[:, k:]

    def agreement(y: np.ndarray, p: np.ndarray) -> float:
        f, q = split(p)
        return float(np.mean(f.argmax(1) == q.argmax(1)))

    def auc(y: np.ndarray, p: np.ndarray) -> float:
        f, q = split(p)
        return M.macro_auc(y, q) - M.macro_auc(y, f)

    def ece(y: np.ndarray, p: np.ndarray) -> float:
        f, q = split(p)
        return M.ece(y, q) - M.ece(y, f)

    fns: dict[str, Pair] = {"agreement": agreement, "auc": auc, "ece": ece}
    for i, name in enumerate(labels):
        for what in ("sensitivity", "specificity"):
            fns[f"{what[:4]}:{name}"] = _class_delta(i, name, what, labels, split)
    return fns


def _class_delta(i: int, name: str, what: str, labels: Sequence[str], split: Callable[..., Any]) -> Pair:
    def fn(y: np.ndarray, p: np.ndarray) -> float:
        f, q = split(p)
        return M.per_class(y, q, labels)[name][what] - M.per_class(y, f, labels)[name][what]

    return fn


def _judge(name: str, value: float, limits: dict[str, float]) -> tuple[float | None, bool]:
    key = name.split(":")[0]
    if key not in limits:
        return None, True
    budget = limits[key]
    if not np.isfinite(value):
        return budget, key != "agreement"  # an undefined delta (class absent) cannot be held against the model
    return budget, (value >= budget) if key == "agreement" else (abs(value) <= budget)


def run_gate(
    y: np.ndarray,
    p_float: np.ndarray,
    p_int8: np.ndarray,
    labels: Sequence[str],
    *,
    groups: np.ndarray | None = None,
    budget: GateBudget = GateBudget(),
    n_boot: int = 300,
    seed: int = 0,
    sites: np.ndarray | None = None,
) -> GateResult:
    """Compare int8 with float probabilities (N, K) on labelled frames ``y`` (N,); with ``sites`` also the top-1
    agreement per site / scanner profile (reported, so a weak profile is seen, not hidden by the pooled number)."""
    y = np.asarray(y)
    if len(y) == 0 or p_float.shape != p_int8.shape:
        raise ConfigError(f"gate needs matching non-empty predictions, got {p_float.shape} vs {p_int8.shape}")
    both = np.concatenate([p_float, p_int8], axis=1)
    rows = []
    for name, fn in _metric_fns(labels).items():
        value = fn(y, both)
        low, high = M.bootstrap_ci(fn, y, both, groups=groups, n_boot=n_boot, seed=seed)
        limit, ok = _judge(name, value, budget.limits)
        rows.append(MetricRow(name, float(value), low, high, limit, ok))
    passed = all(r.ok for r in rows)
    return GateResult(
        tuple(rows), len(y), M.macro_auc(y, p_float), M.macro_auc(y, p_int8), passed, _per_site(p_float, p_int8, sites)
    )


def _per_site(p_float: np.ndarray, p_int8: np.ndarray, sites: np.ndarray | None) -> dict[str, dict[str, float]] | None:
    if sites is None or not any(sites):
        return None
    same = p_float.argmax(axis=1) == p_int8.argmax(axis=1)
    return {
        str(s): {"n": int((sites == s).sum()), "agreement": round(float(same[sites == s].mean()), 6)}
        for s in sorted(set(sites.tolist()))
    }


def format_gate(result: GateResult) -> str:
    """Human table of the gate."""
    lines = [f"{'metric':<24} {'value':>9} {'95% CI':>21} {'budget':>8}  verdict"]
    for r in result.rows:
        budget = "-" if r.budget is None else f"{r.budget:g}"
        lines.append(
            f"{r.name:<24} {r.value:>9.4f} [{r.low:>8.4f}, {r.high:>8.4f}] {budget:>8}  {'ok' if r.ok else 'FAIL'}"
        )
    lines.append(
        f"float AUC {result.float_auc:.4f}  int8 AUC {result.int8_auc:.4f}  frames {result.n_frames}  "
        f"=> {'PASS' if result.passed else 'FAIL'}"
    )
    return "\n".join(lines)
