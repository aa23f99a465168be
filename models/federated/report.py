"""``federated.json`` and ``federated.html`` (per-round curves as inline SVG) for a ``liveredge federate`` run.

Headlines: the WORST clinic's held-out balanced accuracy for local-only, federated and pooled training, and the
unseen site's (local-only as the mean over the clinics' models). SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import html
import math
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from liveredge.models.federated.config import ClinicPlan, FederateConfig

NOTE = "SIMULATED data (liveredge phantom simulator); not for clinical use"
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def flwr_version() -> str:
    try:
        return version("flwr")
    except PackageNotFoundError:
        return "not installed"


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def global_curves(log: dict[str, Any], names: list[str]) -> dict[str, list[float | None]]:
    """Held-out balanced accuracy of the GLOBAL model per clinic after round 0..R (0 = the starting model),
    as each clinic reported it (the score it sends before training on a model, and the final evaluate round)."""
    rounds = log["rounds"]
    curves: dict[str, list[float | None]] = {n: [None] * (len(rounds) + 1) for n in names}
    for i, r in enumerate(rounds):
        for idx, m in r["clinics"].items():
            curves[names[int(idx)]][i] = _num(m.get("val-balanced-accuracy-global"))
    for idx, m in log.get("final_evaluate", {}).get("clinics", {}).items():
        curves[names[int(idx)]][len(rounds)] = _num(m.get("val-balanced-accuracy"))
    return curves


def _wire(log: dict[str, Any], names: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    per_round, dropouts = [], []
    drill = log.get("fault_drill") or {}
    for r in log["rounds"]:
        per_round.append(
            {
                "round": r["round"],
                "bytes_to_clinics": r["bytes_down"],
                "bytes_from_clinics": r["bytes_up"],
                "bytes_total": r["bytes_down"] + r["bytes_up"],
                "clinics_sent": r["sent_to"],
                "clinics_replied": r["replied"],
                "wall_s": round(r["wall_s"], 1),
            }
        )
        for node, idx in zip(r["dropped_nodes"], r["dropped_clinics"], strict=True):
            clinic = names[idx] if idx is not None else f"node {node}"
            if idx is None and drill.get("round") == r["round"]:
                clinic = f"{drill['clinic']} (node {node}, killed by the fault drill)"
            dropouts.append(
                {
                    "round": r["round"],
                    "clinic": clinic,
                    "reason": r["errors"].get(
                        node,
                        "no reply: the SuperNode went offline (or the round timed out); the round went on without it",
                    ),
                }
            )
    return per_round, dropouts


def _headlines(scores: dict[str, Any] | None, names: list[str]) -> dict[str, Any]:
    if scores is None:
        return {"worst_clinic_balanced_accuracy": None, "unseen_site_balanced_accuracy": None}
    own = {
        "local_only": {n: scores["local_only"][n][n] for n in names},
        "federated": {n: scores["federated"][n] for n in names},
        "centralized": {n: scores["centralized"][n] for n in names},
    }
    worst = {k: _num(min(v.values())) for k, v in own.items()}
    local_unseen = [scores["local_only"][n]["unseen"] for n in names]
    unseen = {
        "local_only_mean": _num(sum(local_unseen) / len(local_unseen)),
        "local_only_per_clinic": {n: _num(v) for n, v in zip(names, local_unseen, strict=True)},
        "federated": _num(scores["federated"]["unseen"]),
        "centralized": _num(scores["centralized"]["unseen"]),
    }
    gain = (
        None
        if worst["federated"] is None or worst["local_only"] is None
        else round(100 * (worst["federated"] - worst["local_only"]), 2)
    )
    return {
        "worst_clinic_balanced_accuracy": worst,
        "unseen_site_balanced_accuracy": unseen,
        "per_clinic_balanced_accuracy": {k: {n: _num(x) for n, x in v.items()} for k, v in own.items()},
        "worst_clinic_gain_points_federated_vs_local": gain,
        "unseen_federated_at_least_local_mean": _at_least(unseen["federated"], unseen["local_only_mean"]),
    }


def build_report(
    cfg: FederateConfig,
    plans: list[ClinicPlan],
    unseen: ClinicPlan,
    log: dict[str, Any],
    scores: dict[str, Any] | None,
    wall: dict[str, float],
    joined: str | None,
) -> dict[str, Any]:
    names = [p.name for p in plans]
    per_round, dropouts = _wire(log, names)
    return {
        "engine": "flower",
        "flwr_version": flwr_version(),
        "rounds": cfg.rounds,
        "strategy": cfg.strategy,
        "deployment": f"joined SuperLink {joined}"
        if joined
        else "local: 1 SuperLink + 1 SuperNode per clinic, separate processes on 127.0.0.1 (insecure loopback)",
        **_headlines(scores, names),
        "differential_privacy": cfg.privacy(),
        "bytes_per_round": per_round,
        "dropouts": dropouts,
        "fault_drill": log.get("fault_drill"),
        "global_model_curves": global_curves(log, names),
        "audit": {
            "replies_checked": sum(r["replied"] + len(r["audit_problems"]) for r in log["rounds"]),
            "problems": [r["audit_problems"] for r in log["rounds"] if r["audit_problems"]],
        },
        "clinics": None if joined else [{"name": p.name, "profile": p.profile, "purpose": p.purpose} for p in plans],
        "unseen_site": None if joined else {"profile": unseen.profile, "purpose": unseen.purpose},
        "frames": None if scores is None else scores["frames"],
        "all_scores": scores and {k: scores[k] for k in ("local_only", "federated", "centralized")},
        "connected_at_start": log.get("connected_at_start"),
        "wall_s": {k: round(v, 1) for k, v in wall.items()},
        "config": cfg.to_dict(),
        "simulated_data_note": NOTE,
    }


def _svg(series: dict[str, list[float | None]], title: str, y_label: str) -> str:
    w, h, pad, right = 620, 260, 44, 120  # right: room for the legend
    n = max((len(v) for v in series.values()), default=1)
    vals = [x for v in series.values() for x in v if x is not None] or [0.0, 1.0]
    lo, hi = min(0.0, min(vals)), max(1.0, max(vals))

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * (w - pad - right) / max(1, n - 1), h - pad - (v - lo) * (h - 2 * pad) / max(1e-9, hi - lo)

    label = html.escape(title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="{label}">',
        f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - right}" y2="{h - pad}" stroke="#444"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#444"/>',
        f'<text x="{(w - right + pad) / 2}" y="{h - 8}" text-anchor="middle" font-size="11">round</text>',
        f'<text x="12" y="{h / 2}" font-size="11" transform="rotate(-90 12 {h / 2})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>',
    ]
    for i in range(n):
        x, _ = xy(i, lo)
        parts.append(f'<text x="{x}" y="{h - pad + 14}" text-anchor="middle" font-size="10">{i}</text>')
    for frac in (0.0, 0.5, 1.0):
        v = lo + frac * (hi - lo)
        parts.append(f'<text x="{pad - 4}" y="{xy(0, v)[1] + 3}" text-anchor="end" font-size="10">{v:.2g}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        pts = [xy(i, v) for i, v in enumerate(values) if v is not None]
        if pts:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                + '"/>'
            )
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in pts]
        parts.append(
            f'<text x="{w - right + 8}" y="{pad + 14 * k}" font-size="11" fill="{colour}">{html.escape(name)}</text>'
        )
    return "\n".join(parts + ["</svg>"])


def _table(report: dict[str, Any]) -> str:
    worst, unseen = report["worst_clinic_balanced_accuracy"], report["unseen_site_balanced_accuracy"]
    if worst is None:
        return "<p>Baselines not run (joined an external federation: the clinics' data is not here).</p>"
    rows = [
        ("local-only (each clinic alone)", worst["local_only"], unseen["local_only_mean"]),
        ("federated", worst["federated"], unseen["federated"]),
        ("pooled (centralised, upper reference)", worst["centralized"], unseen["centralized"]),
    ]
    body = "".join(f"<tr><td>{html.escape(n)}</td><td>{a}</td><td>{b}</td></tr>" for n, a, b in rows)
    return (
        "<table border=1 cellpadding=4><tr><th>training</th><th>worst clinic balanced accuracy</th>"
        f"<th>unseen site balanced accuracy</th></tr>{body}</table>"
    )


def write_html(report: dict[str, Any], path: Path) -> Path:
    """A self-contained page: headline table, per-round curves (inline SVG), bytes and dropouts."""
    by_round = report["bytes_per_round"]
    mb = {
        "to clinics": [None] + [r["bytes_to_clinics"] / 1e6 for r in by_round],
        "from clinics": [None] + [r["bytes_from_clinics"] / 1e6 for r in by_round],
    }
    drops = (
        "".join(
            f"<li>round {d['round']}: {html.escape(d['clinic'])} ({html.escape(str(d['reason']))[:200]})</li>"
            for d in report["dropouts"]
        )
        or "<li>none</li>"
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>liveredge federated run</title></head>
<body style="font-family: sans-serif; max-width: 1100px">
<h1>Federated fine-tuning ({html.escape(report["strategy"])}, {report["rounds"]} rounds, Flower {html.escape(report["flwr_version"])})</h1>
<p><b>{html.escape(NOTE)}.</b> {html.escape(report["deployment"])}.</p>
{_table(report)}
<h2>Per round</h2>
{_svg(report["global_model_curves"], "global model: held-out balanced accuracy per clinic", "balanced accuracy")}
{_svg(mb, "bytes on the wire per round (MB)", "MB")}
<h2>Dropouts</h2><ul>{drops}</ul>
<p>Wall time: {report["wall_s"]}. Replies audited: {report["audit"]["replies_checked"]}, problems: {len(report["audit"]["problems"])}.</p>
</body></html>
"""
    path.write_text(page)
    return path


def _at_least(a: object, b: object) -> bool | None:
    """``a >= b`` for two scores, None when either is missing."""
    return float(a) >= float(b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
