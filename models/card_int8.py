"""Fill the int8 section of ``models/zoo/MODEL_CARD.md`` from the convert reports (numbers never typed by hand).

``python -m liveredge.models.card_int8 [ZOO_DIR]`` reads every ``ZOO_DIR/*_int8.report.json`` that
``convert/zoo_int8.sh`` wrote and replaces the text between ``<!-- int8:begin -->`` and ``<!-- int8:end -->``.
A model is listed as shipped only when ``<name>_int8.tflite`` exists (the gate passed); otherwise the card names
the rejected file and which budget failed. Everything is SIMULATED data: not for clinical use.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from liveredge.edge.errors import ConfigError
from liveredge.models.card import BEGIN, END


def _metric(gate: dict[str, Any], name: str) -> dict[str, Any]:
    return next((m for m in gate["metrics"] if m["name"] == name), {"value": float("nan"), "ci95": [None, None]})


def _kb(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KB" if path.is_file() else "-"


def _row(report_path: Path) -> str:
    doc = json.loads(report_path.read_text())
    gate = doc["gate"]
    agree, dauc = _metric(gate, "agreement"), _metric(gate, "auc")
    stem = report_path.name.removesuffix(".report.json")
    shipped = report_path.with_name(f"{stem}.tflite")
    model = Path(doc["model"])
    int8_file = shipped if shipped.is_file() else report_path.with_name(model.name)
    twin = report_path.with_name(f"{stem}.float32.tflite")
    failed = ", ".join(m["name"] for m in gate["metrics"] if m.get("ok") is False) or "gate"
    status = (
        f"**shipped** `{shipped.name}`"
        if shipped.is_file()
        else f"rejected: {failed} outside its budget (`{int8_file.name}`, not shipped)"
    )
    ci = agree["ci95"]
    budget = ", ".join(f"{k} {v}" for k, v in doc.get("budget", {}).items()) or "defaults"
    return (
        f"| {stem} | {status} | {agree['value']:.4f} [{ci[0]:.3f}, {ci[1]:.3f}] | {dauc['value']:+.4f} | "
        f"{gate['float_auc']:.4f} / {gate['int8_auc']:.4f} | {gate['n_frames']} | {_kb(int8_file)} / {_kb(twin)} | "
        f"{len(doc['attempts'])} | {budget} |"
    )


def section(zoo: Path) -> str:
    """The Markdown between the markers (inclusive) for every int8 report in ``zoo``."""
    reports = sorted(zoo.glob("*_int8.report.json"))
    if not reports:
        raise ConfigError(f"{zoo}: no *_int8.report.json yet; run `make zoo-int8` first")
    lines = [
        BEGIN,
        "Converted with `liveredge convert --target cpu` (calibration frames stratified by class and site; the gate "
        "runs float and int8 in the LiteRT interpreter on the model's validation frames: which data and budget each "
        "model used is in its report and in the sections above). Agreement = top-1 int8 vs float; brackets are "
        "patient-bootstrap 95 % intervals. SIMULATED data only.",
        "",
        "| model | status | agreement [95 % CI] | ΔAUC (int8 − float) | macro AUC float / int8 | frames | size int8 / float32 | attempts | budget |",
        "|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in reports),
        "",
        "Per-layer error plots and every recovery attempt: `models/zoo/*_int8.report.html`. The device runs only",
        "a model whose signed statement (`.statement.json`, release key `keys/liveredge-zoo.pub`) says role",
        "release for exactly its bytes; the rejected model is signed as such and never runs (docs/security.md).",
        END,
    ]
    return "\n".join(lines)


def update(card: Path, zoo: Path) -> None:
    """Replace the int8 section of ``card`` in place."""
    text = card.read_text()
    if BEGIN not in text or END not in text:
        raise ConfigError(f"{card}: no {BEGIN} ... {END} markers to fill")
    text = text[: text.index(BEGIN)] + section(zoo) + text[text.index(END) + len(END) :]
    card.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("zoo", nargs="?", type=Path, default=Path("models/zoo"))
    args = ap.parse_args(argv)
    update(args.zoo / "MODEL_CARD.md", args.zoo)
    print(f"updated the int8 section of {args.zoo / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
