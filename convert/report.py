"""Machine-readable ``OUT.report.json`` and human ``OUT.report.html`` (gate table, per-layer plot, attempts).

Every report says that the shipped models learn SIMULATED data and are not for clinical use.
"""

from __future__ import annotations

import html
import json
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

from liveredge.convert.layers import LayerError
from liveredge.edge.events import NOTICE

DISCLAIMER = NOTICE


def toolchain_versions() -> dict[str, str]:
    """Versions of the tools that made the model."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("liveredge", "tensorflow", "ai-edge-litert", "onnx", "onnx2tf", "numpy", "opencv-python-headless"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def provenance(src: Any, calib: Any, outcome: Any, target: str) -> dict[str, Any]:
    """What is embedded in the model: source hash, calibration hash, versions, options, target."""
    return {
        "source_model": Path(src.path).name,
        "source_kind": src.kind,
        "source_sha256": src.sha256,
        "calibration_digest": calib.digest,
        "calibration_frames": len(calib.x),
        "target": target,
        "quantization": outcome.options.describe(),
        "channels": src.channels_note,
        "toolchain": toolchain_versions(),
        "disclaimer": DISCLAIMER,
    }


def summary(req: Any, ctx: dict[str, Any], model: str, twin: str, signed: list[Any]) -> dict[str, Any]:
    """The report.json document."""
    from liveredge.convert.contract import check_contract

    outcome = ctx["outcome"]
    proof = check_contract(
        Path(model).read_bytes(),
        "int16" if outcome.options.activations == "int16" else req.io,
        float_ok=outcome.options.float_layers,
        activations=outcome.options.activations,
    )
    return {
        "disclaimer": DISCLAIMER,
        "model": model,
        "float_model": twin,
        "passed": outcome.passed,
        "target": req.target,
        "io": req.io,
        "contract": {"kind": proof.kind, "ok": proof.ok, "problems": list(proof.problems)},
        "source": {
            "path": req.model,
            "kind": ctx["src"].kind,
            "sha256": ctx["src"].sha256,
            "channels": ctx["src"].channels_note,
            "preprocess": ctx["src"].spec.to_dict(),
        },
        "float_parity": ctx["parity"].to_dict(),
        "calibration": ctx["calib"].manifest(),
        "calibration_warning": ctx["warning"],
        "validation_frames": len(ctx["val"].x),
        "budget": req.budget.limits,
        "gate": outcome.gate.to_dict() if outcome.gate else None,
        "attempts": [asdict(a) for a in outcome.attempts],
        "advice": outcome.advice,
        "layers": [asdict(r) for r in ctx["layers"]],
        "suspects": [r.layer for r in ctx["layers"] if r.suspect],
        "signed": [asdict(s) for s in signed],
        "seconds": round(__import__("time").perf_counter() - ctx["start"], 2),
    }


def plot_layers(rows: list[LayerError], path: Path) -> None:
    """Bar chart of rmse/scale per tensor (suspects red), PNG via matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.3 * max(len(rows), 4) + 1))
    ax.barh(
        [f"{i}:{r.layer[:24]}" for i, r in enumerate(rows)],
        [r.rmse_scale for r in rows],
        color=["tab:red" if r.suspect else "tab:blue" for r in rows],
    )
    ax.axvline(0.7, color="k", linestyle="--", linewidth=1)
    ax.invert_yaxis()
    ax.set_xlabel("rmse / scale (int8 vs float, in quantisation steps)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _cell(value: Any) -> str:
    """A table cell: numbers to 4 decimals without a negative zero, None as a dash, lists element-wise."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value + 0.0:.4f}".replace("-0.0000", "0.0000")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td class='{_klass(c)}'>{html.escape(_cell(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{cells}</tr>{body}</table>"


def _klass(value: Any) -> str:
    if not isinstance(value, (str, bool)):
        return ""
    return {"ok": "ok", "FAIL": "fail", True: "ok", False: "fail"}.get(value, "")


ATTEMPT_COLUMNS = ["#", "remedy", "options", "contract", "agreement", "int8 - float AUC", "passed", "error"]


def _attempt_row(a: dict[str, Any]) -> list[Any]:
    """One attempt with its own gate numbers (agreement, int8 - float AUC), so each remedy's effect shows."""
    metrics = {m["name"]: m["value"] for m in ((a.get("gate") or {}).get("metrics") or [])}
    return [
        a["index"],
        a["remedy"],
        a["options"],
        a["contract"],
        metrics.get("agreement"),
        metrics.get("auc"),
        a["passed"],
        a["error"] or "",
    ]


def render_html(doc: dict[str, Any], png_name: str) -> str:
    """Self-contained HTML page of a report document."""
    gate = doc.get("gate") or {"metrics": []}
    gate_rows = [[m["name"], m["value"], m["ci95"], m["budget"], "ok" if m["ok"] else "FAIL"] for m in gate["metrics"]]
    attempts = [_attempt_row(a) for a in doc["attempts"]]
    verdict = "PASSED" if doc["passed"] else "FAILED"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>liveredge convert report</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
        ".ok{color:#070}.fail{color:#c00;font-weight:bold}</style></head><body>"
        f"<p><b>{html.escape(DISCLAIMER)}</b></p><h1>{html.escape(Path(doc['model']).name)}: gate "
        f"<span class='{'ok' if doc['passed'] else 'fail'}'>{verdict}</span></h1>"
        f"<p>target {doc['target']}, contract {doc['contract']['kind']}, float parity max |diff| "
        f"{doc['float_parity']['max_abs_diff']:.2e}, calibration {doc['calibration']['count']} frames "
        f"(digest {doc['calibration']['digest'][:16]}), validation {doc['validation_frames']} frames</p>"
        f"<h2>Gate</h2>{_table(['metric', 'int8 - float', '95% CI', 'budget', 'verdict'], gate_rows)}"
        f"<h2>Attempts</h2>{_table(ATTEMPT_COLUMNS, attempts)}"
        f"<p>{html.escape(doc.get('advice') or '')}</p>"
        f"<h2>Per-layer error</h2><img src='{html.escape(png_name)}' alt='per-layer rmse/scale'>"
        f"<p>suspects (cosine &lt; 0.99, or rmse/scale &gt; 3x this model's median; red): "
        f"{html.escape(', '.join(dict.fromkeys(doc['suspects'])) or 'none')}</p></body></html>"
    )


def write(out: Path, doc: dict[str, Any], rows: list[LayerError]) -> tuple[str, str]:
    """Write ``OUT.report.json``, ``OUT.layers.png`` and ``OUT.report.html``; returns (json, html) paths."""
    stem = out.with_suffix("")
    js, page, png = (Path(f"{stem}.report.json"), Path(f"{stem}.report.html"), Path(f"{stem}.layers.png"))
    js.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    plot_layers(rows, png)
    page.write_text(render_html(doc, png.name), encoding="utf-8")
    return str(js), str(page)
