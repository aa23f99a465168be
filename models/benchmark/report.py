"""``benchmark.json`` and ``benchmark.html`` (+ PNG plots) from a benchmark result (matplotlib, Agg backend).

Plots: ``profiles.png`` (balanced accuracy per profile, sorted, worst and median marked), ``reliability.png``
(the evaluation report's reliability diagram over the per-profile suite), ``lesion_size.png`` (focal-lesion
sensitivity vs diameter), ``lesion_position.png`` (sensitivity per depth x lateral target), ``gain_tgc.png``
(balanced accuracy vs gain offset and TGC tilt). The SIMULATED / not-for-clinical-use notice heads the page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.models.metrics import _jsonable
from liveredge.models.report import NOTE, _fmt, _plt, plot_reliability

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto}td,th{border:1px solid #ccc;padding:3px 8px}"
    "table{border-collapse:collapse;margin:8px 0}.note{background:#fee;padding:8px;border:1px solid #c00}"
)


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)


def plot_profiles(path: Path, per_profile: dict[str, Any], median: float | None) -> None:
    plt = _plt()
    names = sorted(per_profile, key=lambda p: per_profile[p]["balanced_accuracy"] or 0.0)
    vals = [per_profile[p]["balanced_accuracy"] or 0.0 for p in names]
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.25 * len(names)))
    colors = [
        "#c33"
        if i == 0
        else {"curvilinear": "#48a", "phased": "#8a4", "linear": "#a84"}.get(per_profile[p]["kind"], "#888")
        for i, p in enumerate(names)
    ]
    ax.barh(range(len(names)), vals, color=colors)
    ax.set_yticks(range(len(names)), [f"{p} ({per_profile[p]['kind']})" for p in names], fontsize=7)
    if median is not None:
        ax.axvline(median, color="k", ls="--", lw=1, label=f"median {median:.3f}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set(xlim=(0, 1), xlabel="balanced accuracy", title="per scanner profile (worst in red)")
    _save(fig, path)


def plot_lesion_size(path: Path, sweep: dict[str, Any]) -> None:
    plt = _plt()
    pts = list(sweep["points"].values())
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(
        [p["lesion_mm"] for p in pts],
        [np.nan if p["sensitivity"] is None else p["sensitivity"] for p in pts],
        "o-",
        label="focal_lesion sensitivity",
    )
    ax.plot(
        [p["lesion_mm"] for p in pts],
        [np.nan if p["called_normal"] is None else p["called_normal"] for p in pts],
        "s:",
        color="#c33",
        label='called "normal"',
    )
    ax.set(
        xlabel="lesion diameter (mm, anatomy units)",
        ylabel="fraction of lesion frames",
        ylim=(-0.02, 1.02),
        title="lesion size sweep",
    )
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_lesion_position(path: Path, sweep: dict[str, Any]) -> None:
    plt = _plt()
    pts = list(sweep["points"].values())
    depths = sorted({p["target_depth_lateral_cm"][0] for p in pts})
    lats = sorted({p["target_depth_lateral_cm"][1] for p in pts})
    grid = np.full((len(depths), len(lats)), np.nan)
    count = np.zeros(grid.shape, int)
    for p in pts:
        d, x = p["target_depth_lateral_cm"]
        i, j = depths.index(d), lats.index(x)
        grid[i, j] = np.nan if p["sensitivity"] is None else p["sensitivity"]
        count[i, j] = p["n"]
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(lats), 1.2 + 0.9 * len(depths)))
    ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{'n/a' if np.isnan(v) else f'{v:.2f}'}\nn={count[i, j]}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(lats)), [f"{x:+g}" for x in lats])
    ax.set_yticks(range(len(depths)), [f"{d:g}" for d in depths])
    ax.set(xlabel="lateral (cm)", ylabel="depth (cm)", title="focal_lesion sensitivity by position")
    _save(fig, path)


def plot_gain_tgc(path: Path, sweeps: dict[str, Any]) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, name, xlabel in zip(axes, ("gain", "tgc"), ("gain offset (dB)", "TGC tilt, far band (dB)"), strict=True):
        pts = sweeps.get(name, {}).get("points", {})
        xs = [float(k.removeprefix("tilt").removesuffix("dB")) for k in pts]
        ax.plot(xs, [np.nan if p["balanced_accuracy"] is None else p["balanced_accuracy"] for p in pts.values()], "o-")
        ax.set(xlabel=xlabel, ylim=(0, 1.02), title=f"{name} sweep")
    axes[0].set_ylabel("balanced accuracy")
    _save(fig, path)


def _row(cells: list[Any], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{_fmt(c)}</{tag}>" for c in cells) + "</tr>"


def _profile_table(r: dict[str, Any]) -> str:
    labels = r["model"]["labels"]
    twin = r["int8_agreement"] is not None
    head = ["profile", "probe", "frames", "no region", "balanced acc.", "macro AUC", "ECE"] + [
        f"sens. {c}" for c in labels
    ]
    head += ["int8 agreement"] if twin else []
    rows = [_row(head, "th")]
    for name, v in r["per_profile"].items():
        cells = [name, v["kind"], v["n"], v["no_region"], v["balanced_accuracy"], v["macro_auc"], v["ece"]]
        cells += [v["sensitivity"][c] for c in labels] + ([v["int8_agreement"]] if twin else [])
        rows.append(_row(cells))
    return "<table>" + "".join(rows) + "</table>"


def _sweep_table(sweep: dict[str, Any], keys: list[str]) -> str:
    rows = [_row(["point", *keys], "th")]
    rows += [_row([point, *[v.get(k) for k in keys]]) for point, v in sweep["points"].items()]
    return "<table>" + "".join(rows) + "</table>"


def _headline(r: dict[str, Any]) -> str:
    w, a = r["worst_profile"], r["int8_agreement"]
    rows = [
        _row(["suite version", r["suite_version"]]),
        _row(["model", r["model"]["path"]]),
        _row(["model sha256", r["model_sha256"]]),
        _row(["worst profile", f"{w['profile']} ({w.get('kind')}): {_fmt(w['balanced_accuracy'])}"]),
        _row(["median balanced accuracy", r["median_balanced_accuracy"]]),
        _row(
            [
                "overall (all profiles pooled): balanced acc. / macro AUC / ECE",
                f"{_fmt(r['overall']['balanced_accuracy'])} / {_fmt(r['overall']['macro_auc'])} / "
                f"{_fmt(r['overall']['ece'])}",
            ]
        ),
    ]
    if a is not None:
        rows.append(
            _row(
                [
                    f"int8 vs float twin ({a['twin']}): worst / median profile agreement",
                    f"{_fmt(a['worst'])} / {_fmt(a['median'])}",
                ]
            )
        )
    return "<table>" + "".join(rows) + "</table>"


def _ood_section(ood: dict[str, Any] | None) -> str:
    if ood is None:
        return ""
    rows = [
        _row(
            ["score", "AUROC", "FPR at 95 % TPR", *[f"AUROC {k}" for k in ood["max_softmax"]["auroc_per_scene"]]], "th"
        )
    ]
    for name in ("max_softmax", "not_liver"):
        if name in ood:
            v = ood[name]
            rows.append(_row([name, v["auroc"], v["fpr_at_95tpr"], *v["auroc_per_scene"].values()]))
    return (
        f"<h2>Not a liver (out of distribution)</h2><p>{ood['n_scenes']} simulated non-liver scenes vs "
        f"{ood['n_liver']} liver frames of the suite ({ood['scenes_no_region']} more scenes had no detected "
        f"region, so no result); scenes called a disease: {_fmt(ood['scenes_called_disease'])}. "
        "max_softmax (1 - top probability) is the weak baseline.</p><table>" + "".join(rows) + "</table>"
    )


def write_html(path: Path, r: dict[str, Any], plots: dict[str, Path]) -> None:
    """The human page: notice, headline, per-profile and per-class tables, sweeps, plots."""
    pcls = (
        "<table>"
        + _row(["class", "worst profile", "worst sensitivity", "median sensitivity"], "th")
        + "".join(
            _row([c, v["worst_profile"], v["worst_sensitivity"], v["median_sensitivity"]])
            for c, v in r["per_class"].items()
        )
        + "</table>"
    )
    sw = r["sweeps"]
    parts = []
    scored = ["n", "no_region", "balanced_accuracy", "macro_auc", "ece"]
    for name, keys in (
        ("lesion_size", ["n", "skipped", "no_region", "sensitivity", "called_normal", "mean_prob"]),
        ("lesion_position", ["n", "skipped", "no_region", "sensitivity", "called_normal"]),
        ("gain", scored),
        ("tgc", scored),
        ("view", scored),
    ):
        if name in sw:
            img = f'<img src="{plots[name].name}" alt="{name}">' if name in plots else ""
            parts.append(f"<h3>{name} ({html.escape(sw[name]['metric'])})</h3>{_sweep_table(sw[name], keys)}{img}")
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>liveredge benchmark: {html.escape(r["model"]["name"])}</title>
<style>{STYLE}</style></head><body><h1>Generalization benchmark (suite v{r["suite_version"]}): {html.escape(r["model"]["name"])}</h1>
<p class="note"><b>{html.escape(NOTE)}</b> Every frame is rendered by the phantom simulator on scanner profiles and patients
from the BENCHMARK seed range; these numbers are reported only and must never be used to choose anything (see docs/benchmark.md).</p>
<h2>Headline</h2>{_headline(r)}<p>Frames: {r["suite"]["status"]} (suite digest {r["suite"]["digest"][:16]}, wall time {r.get("wall_s", "n/a")} s).</p>
<h2>Per profile</h2><img src="{plots["profiles"].name}" alt="per-profile balanced accuracy">{_profile_table(r)}
<h2>Per class over profiles</h2>{pcls}<h2>Calibration (all profiles pooled)</h2><img src="{plots["reliability"].name}" alt="reliability">
<h2>Sweeps</h2>{"".join(parts)}{_ood_section(r.get("ood"))}</body></html>"""
    path.write_text(body)


def write_outputs(out: Path, result: dict[str, Any]) -> dict[str, Path]:
    """Write benchmark.json, the plots and benchmark.html into ``out``; return their paths."""
    r = _jsonable(result)
    plots = {"profiles": out / "profiles.png", "reliability": out / "reliability.png"}
    plot_profiles(plots["profiles"], r["per_profile"], r["median_balanced_accuracy"])
    plot_reliability(plots["reliability"], r["overall"]["reliability"], r["overall"]["ece"])
    sw = r["sweeps"]
    if "lesion_size" in sw:
        plots["lesion_size"] = out / "lesion_size.png"
        plot_lesion_size(plots["lesion_size"], sw["lesion_size"])
    if "lesion_position" in sw:
        plots["lesion_position"] = out / "lesion_position.png"
        plot_lesion_position(plots["lesion_position"], sw["lesion_position"])
    if "gain" in sw or "tgc" in sw:
        plots["gain"] = plots["tgc"] = out / "gain_tgc.png"
        plot_gain_tgc(plots["gain"], sw)
    paths = {"json": out / "benchmark.json", "html": out / "benchmark.html", **plots}
    paths["json"].write_text(json.dumps(r, indent=1))
    write_html(paths["html"], r, plots)
    return paths
