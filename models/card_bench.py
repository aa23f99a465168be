"""Fill the benchmark section of ``models/zoo/MODEL_CARD.md`` from ``liveredge benchmark`` reports (numbers never
typed by hand): ``python -m liveredge.models.card_bench DIR [DIR ...] [--card CARD]`` reads ``DIR/benchmark.json``
for each model and replaces the text between ``<!-- benchmark:begin -->`` and ``<!-- benchmark:end -->``.

The suite's profiles and patients come from the benchmark seed range (``liveredge.edge.sim.seeds``), which no
training, model selection, threshold or gate ever used. Everything is SIMULATED data: not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import CLASSES
from liveredge.edge.sim.patient import LESIONS
from liveredge.models.benchmark.score import LESION_SIZE_BINS_MM, grade_name, size_bin_name
from liveredge.models.benchmark.suite import FIBROSIS_STAGES, STEATOSIS_GRADES

BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
SIZES = ("5mm", "10mm", "20mm", "50mm")
# The per-grade keys as benchmark.json writes them (score.py is their one home; the grades are the suite's).
GRADES = tuple(grade_name("steatosis", g) for g in STEATOSIS_GRADES) + tuple(
    grade_name("fibrosis", g) for g in FIBROSIS_STAGES
)
SIZE_BINS = tuple(size_bin_name(lo, hi) for lo, hi in LESION_SIZE_BINS_MM)


def _f(v: Any, digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _code(doc: dict[str, Any]) -> str | None:
    return doc.get("suite", {}).get("code_sha256")


def _row(doc: dict[str, Any], label: str | None = None, stale: bool = False) -> str:
    worst, agree = doc["worst_profile"], doc.get("int8_agreement")
    cls = doc["per_class"]
    lesion = doc["sweeps"].get("lesion_size", {}).get("points", {})
    ood, eces = doc.get("ood") or {}, [v["ece"] for v in doc["per_profile"].values() if v.get("ece") is not None]
    gate = ood.get("gate")
    cells = [
        (label or f"`{Path(doc['model']['path']).name}`") + (" †" if stale else ""),
        f"{_f(worst['balanced_accuracy'])} ({worst['profile']}, {worst.get('kind')})",
        _f(doc["median_balanced_accuracy"]),
        f"{_f(doc['overall']['ece'])} / {_f(max(eces) if eces else None)}",
        " / ".join(_f(cls[c]["median_sensitivity"]) for c in CLASSES),
        " / ".join(_f(lesion.get(s, {}).get("sensitivity")) for s in SIZES),
        "-" if not agree else f"{_f(agree['worst'], 3)} / {_f(agree['median'], 3)}",
        _f((ood.get("max_softmax") or {}).get("auroc"), 3)  # 3 digits: the target is 0.98, 0.977 must not read as met
        + (f" / {_f((ood.get('not_liver') or {}).get('auroc'), 3)}" if ood.get("not_liver") else ""),
        "-"
        if not gate
        else f"{gate['liver_flagged']:.1%} / {gate['scenes_caught']:.0%} / {gate['scenes_called_disease']:.0%}",
        _f(ood.get("scenes_called_disease")),
    ]
    return "| " + " | ".join(cells) + " |"


def _grade_row(doc: dict[str, Any], label: str | None = None) -> str:
    """Sensitivity per grade, lesion kind and lesion size bin ("-" for a report made before they existed)."""
    grades, bins = doc.get("per_grade") or {}, doc.get("lesion_size_bins") or {}
    cells = [
        label or f"`{Path(doc['model']['path']).name}`",
        " / ".join(_f(grades.get(g, {}).get("sensitivity")) for g in GRADES[:3]),
        " / ".join(_f(grades.get(g, {}).get("sensitivity")) for g in GRADES[3:]),
        " / ".join(_f(grades.get(f"focal_lesion {k}", {}).get("sensitivity")) for k in LESIONS),
        " / ".join(_f(bins.get(b, {}).get("sensitivity")) for b in SIZE_BINS),
    ]
    return "| " + " | ".join(cells) + " |"


def _grade_table(docs: list[dict[str, Any]], labels: list[str | None]) -> str:
    head = (
        "Sensitivity of the true class per grade (per-profile suite frames) and focal-lesion sensitivity per lesion "
        "kind and per diameter bin (size sweep: 5 | 10, 15 | 20, 30, 50 mm):\n\n"
        "| model | steatosis S1 / S2 / S3 | fibrosis F2 / F3 / F4 | lesion cyst / haemangioma / HCC / metastasis | "
        "lesion 5-10 / 10-20 / 20-50 mm |\n|" + "---|" * 5
    )
    return head + "\n" + "\n".join(_grade_row(d, label) for d, label in zip(docs, labels, strict=True))


def _stale_note(docs: list[dict[str, Any]]) -> str:
    if _code(docs[0]) is None:
        return "\n\nThe first row's report records no simulator/preprocessing fingerprint: rows may differ in code."
    if all(_code(d) == _code(docs[0]) for d in docs):
        return ""
    return (
        "\n\n† scored with other simulator/preprocessing code than the first row (or before the fingerprint was "
        "recorded): the same model can score differently there; compare with care."
    )


def render(dirs: list[Path], labels: list[str | None] | None = None) -> str:
    docs, labels = [], labels or [None] * len(dirs)
    for d in dirs:
        p = d / "benchmark.json"
        if not p.is_file():
            raise ConfigError(f"{p}: no benchmark report; run 'liveredge benchmark MODEL --out {d}' first")
        docs.append(json.loads(p.read_text()))
    versions = sorted({d["suite_version"] for d in docs})
    head = (
        "| model | worst profile bal. acc. | median bal. acc. | ECE pooled / worst profile | median sensitivity "
        "normal / steatosis / fibrosis / lesion | lesion sensitivity 5 / 10 / 20 / 50 mm | int8 vs float "
        "agreement worst / median profile | not-a-liver AUROC max-softmax / not_liver output | gate: liver "
        "frames flagged / scenes caught / scenes still a disease | scenes called a disease (argmax) |\n"
        "|" + "---|" * 10
    )
    return (
        f"{BEGIN}\nSuite v{', '.join(map(str, versions))} (`liveredge benchmark`, docs/benchmark.md): "
        f"{docs[0]['suite']['config']['profiles']} scanner profiles and every patient from the BENCHMARK seed "
        "range, never used to train or choose anything; lesion size/position, gain/TGC and view sweeps; "
        "non-liver scenes. Chance balanced accuracy is 0.25.\n\n"
        + head
        + "\n"
        + "\n".join(_row(d, label, _code(d) != _code(docs[0])) for d, label in zip(docs, labels, strict=True))
        + _stale_note(docs)
        + "\n\n"
        + _grade_table(docs, labels)
        + f"\n{END}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "dirs",
        nargs="+",
        help="benchmark output folders (each with benchmark.json), each optionally "
        "followed by =LABEL, the row's name in the card (default: the model's file name)",
    )
    ap.add_argument("--card", type=Path, default=Path("models/zoo/MODEL_CARD.md"))
    args = ap.parse_args(argv)
    text = args.card.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{args.card}: no {BEGIN} ... {END} section to fill")
    pairs = [(Path(d.split("=", 1)[0]), d.split("=", 1)[1] if "=" in d else None) for d in args.dirs]
    section = render([p for p, _ in pairs], [label for _, label in pairs])
    args.card.write_text(text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :])
    print(f"wrote the benchmark section of {args.card}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
