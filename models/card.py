"""Write ``models/zoo/MODEL_CARD.md`` from the recipe's run folders and evaluation reports (numbers are never
typed by hand). The int8 section between ``<!-- int8:begin -->`` and ``<!-- int8:end -->`` belongs to the
convert step: an existing card's text there is kept.

    python -m liveredge.models.card WORK_DIR [--out models/zoo/MODEL_CARD.md]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- int8:begin -->", "<!-- int8:end -->"
PLACEHOLDER = (
    f"{BEGIN}\n_Placeholder — filled by the convert step (`liveredge convert`): int8 vs float agreement, "
    f"macro-AUC / balanced-accuracy / ECE deltas on the held-out site, model sizes._\n{END}"
)


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _ci(r: dict[str, Any], k: str) -> str:
    lo, hi = r.get(f"{k}_ci95") or (None, None)
    return f"{_f(r.get(k))} [{_f(lo)}, {_f(hi)}]"


def _rows(work: Path, arch: str) -> list[str]:
    out = []
    for split, label in (("test", "in-site test (S1-S5, unseen patients)"), ("holdout", "held-out site S6")):
        p = work / "reports" / f"{arch}-{split}" / "report.json"
        if p.is_file():
            r = json.loads(p.read_text())
            out.append(
                f"| liver_{arch} | {label} | {r['n']} / {r['n_patients']} | {_ci(r, 'macro_auc')} | "
                f"{_ci(r, 'balanced_accuracy')} | {_ci(r, 'ece')} |"
            )
    return out


def _drop(work: Path, arch: str) -> str:
    rs = {s: work / "reports" / f"{arch}-{s}" / "report.json" for s in ("test", "holdout")}
    if not all(p.is_file() for p in rs.values()):
        return ""
    t, h = (json.loads(rs[s].read_text()) for s in ("test", "holdout"))
    return (
        f"- liver_{arch}: in-site → held-out drop: macro AUC {100 * (t['macro_auc'] - h['macro_auc']):+.2f} points, "
        f"balanced accuracy {100 * (t['balanced_accuracy'] - h['balanced_accuracy']):+.2f} points "
        "(positive = worse on the new site)."
    )


def _status(work: Path, arch: str) -> str:
    """Pass/fail of each acceptance target on the held-out site (computed, not typed)."""
    rs = {s: work / "reports" / f"{arch}-{s}" / "report.json" for s in ("test", "holdout")}
    if not all(p.is_file() for p in rs.values()):
        return ""
    t, h = (json.loads(rs[s].read_text()) for s in ("test", "holdout"))
    drop = 100 * max(t["macro_auc"] - h["macro_auc"], t["balanced_accuracy"] - h["balanced_accuracy"])
    checks = [
        ("macro AUC >= 0.99", h["macro_auc"] >= 0.99),
        ("balanced accuracy >= 0.95", h["balanced_accuracy"] >= 0.95),
        (f"drop <= 2 points (worst {drop:.2f})", drop <= 2.0),
    ]
    return f"- liver_{arch} on S6: " + "; ".join(f"{name}: {'MET' if ok else 'NOT MET'}" for name, ok in checks)


def _run_line(work: Path, arch: str) -> str:
    p = work / "runs" / arch / "metrics.json"
    if not p.is_file():
        return f"- liver_{arch}: not trained yet"
    run = json.loads(p.read_text())["_run"]
    return (
        f"- liver_{arch}: {run['params']:,} parameters, {run['epochs_run']} epochs (best {run['best_epoch']}), "
        f"training wall time {run['wall_s'] / 60:.1f} min on the shared 2-core build machine; frames per split "
        f"{run['frames']}."
    )


def _precheck(work: Path) -> str:
    """Lines for an optional pre-check (a plain TFLiteConverter full-int8 export, evaluated with LiteRT)."""
    lines = []
    for arch in ("cnn", "hybrid"):
        p = work / "precheck" / f"{arch}-int8-holdout" / "report.json"
        if p.is_file():
            r = json.loads(p.read_text())
            lines.append(
                f"- liver_{arch} full-int8 pre-check on held-out site S6 ({r['n']} frames, LiteRT): macro AUC "
                f"{_ci(r, 'macro_auc')}, balanced accuracy {_ci(r, 'balanced_accuracy')}, ECE {_ci(r, 'ece')}."
            )
    if not lines:
        return ""
    return (
        "Pre-check by the models step (plain `TFLiteConverter` full-int8 export, 200 calibration frames from the "
        "training split; not the gated `liveredge convert` output):\n" + "\n".join(lines)
    )


def render(work: Path, template: str, old: str | None) -> str:
    """Fill ``template``'s {results}, {drops}, {runs} and keep the old card's int8 section."""
    results = "\n".join(r for a in ("cnn", "hybrid") for r in _rows(work, a))
    int8 = PLACEHOLDER
    if old and BEGIN in old and END in old:
        int8 = old[old.index(BEGIN) : old.index(END) + len(END)]
    drops = [_drop(work, a) for a in ("cnn", "hybrid")] + [_status(work, a) for a in ("cnn", "hybrid")]
    return template.format(
        results=results or "| (no reports yet) |",
        drops="\n".join(filter(None, drops)),
        runs="\n".join(_run_line(work, a) for a in ("cnn", "hybrid")),
        int8=int8,
        precheck=_precheck(work),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work", type=Path)
    ap.add_argument("--out", type=Path, default=Path("models/zoo/MODEL_CARD.md"))
    ap.add_argument("--template", type=Path, default=Path(__file__).with_name("MODEL_CARD.template.md"))
    args = ap.parse_args(argv)
    old = args.out.read_text() if args.out.is_file() else None
    text = render(args.work, args.template.read_text(), old)
    args.out.write_text(re.sub(r"\n{3,}", "\n\n", text))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
