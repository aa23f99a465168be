"""Collects what the demo shows and writes the HTML exam report (key frames with heatmaps, timeline, summary).

:class:`ExamCollector` is a frame sink (``submit(frame, result, heatmap=)``): it keeps the probability timeline
of the open exam and a few key frames (the most confident frames, at most one per ``key_every`` frames), so its
per-frame cost is a tuple append. :func:`write_report` renders PNG plots (matplotlib Agg where installed, else
OpenCV) and one HTML page.
Everything here states that the model is trained on SIMULATED data and is not for clinical use.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from liveredge.edge.events import UNCERTAIN, Event, ExamSummary, FrameResult

NOT_CLINICAL = (
    "The model is trained on SIMULATED ultrasound (liveredge phantom simulator) and is NOT for "
    "clinical use: these results must not inform any diagnosis."
)


@dataclass
class KeyFrame:
    """One key frame: the screen image, the model's view with its heatmap, and the result."""

    seq: int
    confidence: float
    label: str
    screen: np.ndarray
    view: np.ndarray


@dataclass
class PatientRecord:
    """Everything the report shows for one simulated patient."""

    name: str
    truth: str
    uri: str
    times: list[float] = field(default_factory=list)
    smoothed: list[tuple[float, ...]] = field(default_factory=list)
    labels_seen: list[str] = field(default_factory=list)
    keys: list[KeyFrame] = field(default_factory=list)
    summary: ExamSummary | None = None


class ExamCollector:
    """Frame sink for one patient; ``view_of(image)`` gives the model's (h, w) uint8 view of a screen frame (None:
    no fan region known at that moment, the frame is not kept as a key frame)."""

    def __init__(
        self,
        record: PatientRecord,
        view_of: Callable[[np.ndarray], np.ndarray | None],
        keep: int = 3,
        key_every: int = 10,
    ) -> None:
        self.record = record
        self._view_of = view_of
        self._keep, self._every = keep, key_every
        self._t0: float | None = None

    def submit(self, frame: Any, result: FrameResult, heatmap: np.ndarray | None = None) -> None:
        if result.exam_id is None:
            return
        self._t0 = result.t_capture if self._t0 is None else self._t0
        self.record.times.append(result.t_capture - self._t0)
        self.record.smoothed.append(result.smoothed)
        self.record.labels_seen.append(result.label)
        if result.label != UNCERTAIN and result.seq % self._every == 0:
            self._maybe_keep(frame.image, result, heatmap)

    def _maybe_keep(self, image: np.ndarray, result: FrameResult, heatmap: np.ndarray | None) -> None:
        keys = self.record.keys
        if len(keys) >= self._keep and result.confidence <= min(k.confidence for k in keys):
            return
        gray = self._view_of(image)
        if gray is None:
            return
        view = cv2.cvtColor(gray.copy(), cv2.COLOR_GRAY2BGR)
        if heatmap is not None:  # blended inside the fan only: heat over the black letterbox means nothing to a reader
            colour = cv2.applyColorMap(heatmap, cv2.COLORMAP_JET)
            blended = cv2.addWeighted(view, 0.6, cv2.resize(colour, view.shape[1::-1]), 0.4, 0)
            view = np.where((gray > 0)[..., None], blended, view)
        keys.append(KeyFrame(result.seq, result.confidence, result.label, image.copy(), view))
        keys.sort(key=lambda k: -k.confidence)
        del keys[self._keep :]

    def emit(self, event: Event) -> None:
        if isinstance(event, ExamSummary):
            self.record.summary = event

    def close(self) -> None:
        """Nothing to release."""


def _png(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".png", image)
    return "data:image/png;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else ""


def timeline_png(record: PatientRecord, labels: tuple[str, ...], path: Path) -> None:
    """Smoothed class probabilities over the exam, one line per class: matplotlib where installed (workstation),
    else OpenCV (a device's ``[edge]`` install has no matplotlib)."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        _timeline_cv2(record, labels, path)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=100)
    probs = np.asarray(record.smoothed, dtype=float).reshape(-1, len(labels))
    for k, name in enumerate(labels):
        ax.plot(record.times, probs[:, k], label=name, linewidth=1.6)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("exam time (s)")
    ax.set_ylabel("smoothed probability")
    ax.set_title(f"{record.name}: simulated {record.truth} (SIMULATED data, not for clinical use)", fontsize=9)
    ax.legend(loc="center right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


_COLOURS = ((180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148), (75, 86, 140))


def _timeline_cv2(record: PatientRecord, labels: tuple[str, ...], path: Path) -> None:
    """The timeline drawn with OpenCV: same axes (exam time, probability 0..1), one coloured line per class."""
    w, h, left, bottom, top = 700, 260, 50, 30, 24
    img = np.full((h, w, 3), 255, np.uint8)
    probs = np.asarray(record.smoothed, dtype=float).reshape(-1, len(labels))
    times = np.asarray(record.times, dtype=float)
    span = max(float(times[-1] - times[0]), 1e-6) if len(times) else 1.0
    plot_w, plot_h = w - left - 130, h - bottom - top
    cv2.rectangle(img, (left, top), (left + plot_w, top + plot_h), (120, 120, 120), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for value in (0.0, 0.5, 1.0):
        y = int(top + plot_h * (1 - value))
        cv2.putText(img, f"{value:.1f}", (8, y + 4), font, 0.4, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(
        img, f"exam time 0-{span:.1f} s; smoothed probability", (left, h - 10), font, 0.4, (60, 60, 60), 1, cv2.LINE_AA
    )
    cv2.putText(
        img,
        f"{record.name}: simulated {record.truth} (SIMULATED data, not for clinical use)"[:95],
        (left, 16),
        font,
        0.42,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    for k, name in enumerate(labels):
        colour = _COLOURS[k % len(_COLOURS)]
        if len(times) > 1:
            xs = left + (times - times[0]) / span * plot_w
            ys = top + plot_h * (1 - np.clip(probs[:, k], 0, 1))
            cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, colour, 2, cv2.LINE_AA)
        cv2.putText(img, name, (left + plot_w + 10, top + 14 + 18 * k), font, 0.45, colour, 1, cv2.LINE_AA)
    cv2.imwrite(str(path), img)


def write_report(
    records: list[PatientRecord], labels: tuple[str, ...], provenance: dict[str, Any], out_dir: Path
) -> Path:
    """Write ``out_dir/report.html`` (+ timeline PNGs) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    for i, rec in enumerate(records):
        plot = out_dir / f"timeline_{i}_{rec.truth}.png"
        timeline_png(rec, labels, plot)
        sections.append(_patient_html(rec, plot.name))
    page = _PAGE.format(
        notice=html.escape(NOT_CLINICAL),
        rows="".join(_summary_row(r) for r in records),
        sections="".join(sections),
        provenance=html.escape(json.dumps(provenance, indent=2, sort_keys=True, default=str)),
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _summary_row(rec: PatientRecord) -> str:
    s = rec.summary
    got = s.label if s else "no summary"
    mark = "correct" if s and s.label == rec.truth else "WRONG"
    conf = f"{s.confidence:.2f}" if s else "-"
    used = f"{s.frames_used}/{s.frames_total}" if s else "-"
    return (
        f"<tr><td>{html.escape(rec.name)}</td><td>{rec.truth}</td><td><b>{html.escape(got)}</b></td>"
        f"<td>{conf}</td><td>{used}</td><td class='{mark.lower()}'>{mark}</td></tr>"
    )


def _patient_html(rec: PatientRecord, plot: str) -> str:
    keys = "".join(
        f"<figure><img src='{_png(k.screen)}' width='320'><img src='{_png(k.view)}' width='200'>"
        f"<figcaption>frame {k.seq}: {html.escape(k.label)} {k.confidence:.2f} (right: model view + heatmap)"
        f"</figcaption></figure>"
        for k in rec.keys
    )
    return (
        f"<section><h2>{html.escape(rec.name)} — simulated {rec.truth}</h2><p><code>{html.escape(rec.uri)}"
        f"</code></p><img src='{plot}' alt='probability timeline'><div class='keys'>{keys or 'no key frames'}"
        f"</div></section>"
    )


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>liveredge demo exam report (SIMULATED)</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} .warn{{background:#fee;border:2px solid #c00;
padding:.8em;font-weight:bold}} td,th{{border:1px solid #999;padding:.3em .6em}} table{{border-collapse:collapse}}
.correct{{color:#070}} .wrong{{color:#c00;font-weight:bold}} figure{{display:inline-block;margin:.4em}}
pre{{background:#f4f4f4;padding:.6em;font-size:80%}}</style></head><body>
<p class="warn">{notice}</p><h1>liveredge demo — exam report</h1>
<table><tr><th>patient</th><th>simulated truth</th><th>exam result</th><th>confidence</th><th>frames used</th>
<th></th></tr>{rows}</table>{sections}<h2>Model provenance</h2><pre>{provenance}</pre>
<p class="warn">{notice}</p></body></html>"""
