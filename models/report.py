"""Evaluation report files: ``report.json`` and ``report.html`` with PNG plots (matplotlib, Agg backend).

Plots (written next to the HTML, linked by relative path): ``roc.png`` (one-vs-rest ROC per class, AUC in the
legend), ``confusion.png`` (rows true, columns predicted, counts), ``reliability.png`` (top-label confidence
vs accuracy per bin, bar width = bin), ``per_site.png`` (macro AUC and balanced accuracy per site).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.models.metrics import roc_curve

NOTE = (
    "Models trained on SIMULATED ultrasound (liveredge phantom simulator). Results describe simulated data only; "
    "NOT for clinical use."
)


def _plt():  # type: ignore[no-untyped-def]  # matplotlib.pyplot, imported lazily
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(path: Path, y: np.ndarray, probs: np.ndarray, labels: list[str], per_class: dict[str, Any]) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    for k, name in enumerate(labels):
        if 0 < np.sum(y == k) < len(y):
            fpr, tpr = roc_curve(y == k, probs[:, k])
            ax.plot(fpr, tpr, label=f"{name} (AUC {per_class[name]['auc']:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC, one-vs-rest")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confusion(path: Path, cm: np.ndarray, labels: list[str]) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > cm.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title="confusion (frames)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_reliability(path: Path, table: dict[str, list[float | None]], ece: float | None) -> None:
    plt = _plt()
    n = len(table["count"])
    edges = np.linspace(0, 1, n + 1)
    acc = np.array([np.nan if v is None else v for v in table["accuracy"]], dtype=float)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.bar(edges[:-1], np.nan_to_num(acc), width=1 / n, align="edge", edgecolor="k", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "r--", lw=1, label="perfect calibration")
    ax.set(
        xlabel="confidence (top class)",
        ylabel="accuracy",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"reliability, ECE {ece:.3f}" if ece is not None else "reliability",
    )
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_sites(path: Path, per_site: dict[str, dict[str, Any]]) -> None:
    plt = _plt()
    sites = list(per_site)
    x = np.arange(len(sites))
    fig, ax = plt.subplots(figsize=(max(4, 1 + len(sites)), 3.5))
    for off, key in ((-0.2, "macro_auc"), (0.2, "balanced_accuracy")):
        ax.bar(x + off, [per_site[s][key] or 0 for s in sites], width=0.4, label=key)
    ax.set_xticks(x, sites)
    ax.set(ylim=(0, 1.05), title="per site")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


def _ci(report: dict[str, Any], key: str) -> str:
    lo, hi = report.get(f"{key}_ci95") or (None, None)
    return f"{_fmt(report[key])} [{_fmt(lo)}, {_fmt(hi)}]"


def write_html(path: Path, report: dict[str, Any]) -> None:
    """The human report: headline metrics with 95 % CIs, per-class and per-site tables, the four plots."""
    m = report
    head = "".join(
        f"<tr><td>{k}</td><td>{_ci(m, k)}</td></tr>" for k in ("macro_auc", "balanced_accuracy", "accuracy", "ece")
    )
    pcls = "".join(
        f"<tr><td>{html.escape(n)}</td>"
        + "".join(f"<td>{_fmt(v[c])}</td>" for c in ("sensitivity", "specificity", "auc", "support"))
        + "</tr>"
        for n, v in m["per_class"].items()
    )
    psite = "".join(
        f"<tr><td>{html.escape(s)}</td>"
        + "".join(f"<td>{_fmt(v[c])}</td>" for c in ("n", "macro_auc", "balanced_accuracy", "accuracy", "ece"))
        + "</tr>"
        for s, v in m.get("per_site", {}).items()
    )
    info = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in report["model"].items())
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>liveredge evaluation: {html.escape(report["model"]["name"])}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:auto}}td,th{{border:1px solid #ccc;padding:3px 8px}}
table{{border-collapse:collapse;margin:8px 0}}.note{{background:#fee;padding:8px;border:1px solid #c00}}</style></head><body>
<h1>Evaluation: {html.escape(report["model"]["name"])}</h1><p class="note"><b>{html.escape(NOTE)}</b></p>
<h2>Model</h2><table>{info}</table><p>Dataset: {html.escape(str(report["dataset"]))} ({m["n"]} frames, {report["n_patients"]} patients);
95 % CIs: bootstrap over patients ({report["n_boot"]} resamples).</p>
<h2>Headline</h2><table><tr><th>metric</th><th>value [95 % CI]</th></tr>{head}</table>
<h2>Per class (one-vs-rest, argmax decision)</h2><table><tr><th>class</th><th>sensitivity</th><th>specificity</th><th>AUC</th><th>frames</th></tr>{pcls}</table>
<h2>Per site</h2><table><tr><th>site</th><th>frames</th><th>macro AUC</th><th>balanced acc.</th><th>accuracy</th><th>ECE</th></tr>{psite}</table>
<img src="per_site.png" alt="per-site metrics"><h2>ROC</h2><img src="roc.png" alt="ROC curves">
<h2>Confusion matrix</h2><img src="confusion.png" alt="confusion matrix"><h2>Reliability</h2><img src="reliability.png" alt="reliability diagram">
</body></html>"""
    path.write_text(body)


def write_report(out_dir: str | Path, report: dict[str, Any], y: np.ndarray, probs: np.ndarray) -> dict[str, Path]:
    """Write report.json, the PNG plots and report.html into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m, labels = report, list(report["labels"])
    paths = {name: out / f"{name}.png" for name in ("roc", "confusion", "reliability", "per_site")}
    plot_roc(paths["roc"], y, probs, labels, m["per_class"])
    plot_confusion(paths["confusion"], np.array(m["confusion"]), labels)
    plot_reliability(paths["reliability"], m["reliability"], m["ece"])
    plot_sites(paths["per_site"], m.get("per_site", {}))
    paths["json"] = out / "report.json"
    paths["json"].write_text(json.dumps(report, indent=1))
    paths["html"] = out / "report.html"
    write_html(paths["html"], report)
    return paths
