"""Optional display window with an overlay (class bars, label, quality, heatmap). Headless is the default.

The overlay is a pure function (:func:`draw_overlay`) so it is testable without a screen. ``DisplaySink``
draws on its own thread from a 2-slot queue (drops rather than blocks) and raises :class:`DisplayUnavailable`
at construction when there is no display (no ``$DISPLAY``/``$WAYLAND_DISPLAY``, or an OpenCV build without
GUI such as opencv-python-headless).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from liveredge.edge.errors import LiveredgeError
from liveredge.edge.events import Event, FrameResult, Quality
from liveredge.edge.sinks.base import Worker
from liveredge.edge.sources.base import Frame

BANNER = "SIMULATED training data - not for clinical use"
UNVERIFIED_BANNER = "UNVERIFIED MODEL (--allow-unverified)"
_Item = tuple[Frame, FrameResult, np.ndarray | None]


class DisplayUnavailable(LiveredgeError):
    """No display to draw on; run headless (the default) or start a desktop session."""


def draw_overlay(
    image: np.ndarray,
    result: FrameResult,
    labels: Sequence[str],
    heatmap: np.ndarray | None = None,
    *,
    bar_width: int = 120,
) -> np.ndarray:
    """A copy of ``image`` (H, W, 3 uint8 BGR) with the result drawn on it.

    Bars: one per class, length ``bar_width * smoothed probability`` pixels, top-left, the reported class in
    green; a red "UNVERIFIED MODEL" line under the label when the model runs unverified. ``heatmap``: float (h, w) in 0..1 (any size; resized) blended as a JET colour map at 40 %.
    """
    out = image.copy()
    if heatmap is not None:
        heat = cv2.resize(np.clip(heatmap, 0.0, 1.0).astype(np.float32), (out.shape[1], out.shape[0]))
        colour = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)
        out = cv2.addWeighted(out, 0.6, colour, 0.4, 0.0)
    probs = result.smoothed or result.probs
    for row, (name, p) in enumerate(zip(labels, probs, strict=False)):  # a result without probs draws no bars
        y = 8 + row * 18
        colour = (0, 200, 0) if name == result.label else (200, 200, 200)
        cv2.rectangle(out, (8, y), (8 + bar_width, y + 12), (60, 60, 60), -1)
        length = int(round(bar_width * float(np.clip(p, 0.0, 1.0))))
        if length > 0:
            cv2.rectangle(out, (8, y), (8 + length - 1, y + 12), colour, -1)
        cv2.putText(out, f"{name} {p:.2f}", (bar_width + 14, y + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)
    y = 12 + len(labels) * 18
    flags = ",".join(result.quality.names())
    cv2.putText(
        out,
        f"{result.label} {result.confidence:.2f} {flags}",
        (8, y + 10),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 255, 255),
        1,
    )
    if Quality.UNVERIFIED_MODEL in result.quality:
        cv2.putText(out, UNVERIFIED_BANNER, (8, y + 28), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 2)
    cv2.putText(out, BANNER, (8, out.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
    return out


def display_available() -> tuple[bool, str]:
    """(True, "") when a window can be shown; else (False, why)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no $DISPLAY or $WAYLAND_DISPLAY"
    info = cv2.getBuildInformation()
    gui = next((line for line in info.splitlines() if line.strip().startswith("GUI:")), "GUI: NONE")
    if "NONE" in gui.upper():
        return False, "this OpenCV build has no GUI (opencv-python-headless); install opencv-python for --display"
    return True, ""


class DisplaySink:
    """Shows frames with :func:`draw_overlay` in a window, on its own thread. ``q`` or Esc closes the window."""

    def __init__(self, labels: Sequence[str], *, window: str = "liveredge") -> None:
        ok, why = display_available()
        if not ok:
            raise DisplayUnavailable(f"--display: {why}; run without --display (headless is the default)")
        self.labels, self.window = tuple(labels), window
        self.closed_by_user = threading.Event()
        self._worker: Worker[_Item] = Worker("display", self._handle, maxsize=2, on_stop=self._destroy)

    def submit(self, frame: Frame, result: FrameResult, heatmap: np.ndarray | None = None) -> None:
        if not self.closed_by_user.is_set():
            self._worker.submit((frame, result, heatmap))

    def emit(self, event: Event) -> None:
        """The display shows frames only (``submit``); other events are ignored."""

    def _handle(self, item: _Item) -> None:
        frame, result, heatmap = item
        cv2.imshow(self.window, draw_overlay(frame.image, result, self.labels, heatmap))
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            self.closed_by_user.set()

    def _destroy(self) -> None:
        try:
            cv2.destroyWindow(self.window)
        except cv2.error:
            pass

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    def close(self) -> None:
        self._worker.close()
