"""Recording of raw frames with their results, on its own thread; drops rather than blocks.

Layout of a recording folder::

    DIR/manifest.json      {"notice": ..., "created": unix s, "format": "png", "frames_dir": "frames"}
    DIR/frames/00000042.png  the raw (H, W, 3) BGR frame of seq 42, lossless PNG
    DIR/results.jsonl      one event per line; a result that has its frame saved carries "frame": "frames/….png"

``DIR/frames`` replays as a folder source (``liveredge run --source DIR/frames``), so a recorded session can be
analysed again offline with ``--rate max``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import Event, FrameResult, StateEvent
from liveredge.edge.sinks.base import NOTICE, Worker, dumps, event_dict
from liveredge.edge.sources.base import Frame

_Item = tuple[Frame | None, Event]


class Recorder:
    """Writes frames (``submit``) and events (``emit``) under ``directory``; never blocks the caller.

    ``every``: keep one frame in N (results are always written). ``png_level``: PNG compression 0-9 (1 is fast).
    Frames that do not fit the queue (``maxsize``) are dropped and counted in :attr:`dropped`.
    A write failure (disk full, medium removed) never stops the caller: it is counted in :attr:`errors` and, once
    per failure spell, reported through ``on_state`` as ``StateEvent("recording_failed")`` (and
    ``"recording_resumed"`` when writes succeed again); the runtime passes ``Pipeline.post_state`` here.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        every: int = 1,
        png_level: int = 1,
        maxsize: int = 64,
        on_state: Callable[[StateEvent], None] | None = None,
    ) -> None:
        if every < 1 or not 0 <= png_level <= 9:
            raise ConfigError("recorder: every must be >= 1 and png_level 0..9")
        self.directory = Path(directory)
        self.frames_dir = self.directory / "frames"
        try:
            self.frames_dir.mkdir(parents=True, exist_ok=True)
            manifest = {"notice": NOTICE, "created": time.time(), "format": "png", "frames_dir": "frames"}
            (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            self._results = open(self.directory / "results.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept open for the sink's life, closed by the worker
        except OSError as exc:
            raise ConfigError(
                f"--record {directory}: cannot write there ({exc.strerror}); pick another folder"
            ) from exc
        self.every, self._png = every, [cv2.IMWRITE_PNG_COMPRESSION, png_level]
        self.frames_written = 0
        self.on_state = on_state
        self._failing = False
        self._worker: Worker[_Item] = Worker("recorder", self._handle, maxsize=maxsize, on_stop=self._results.close)

    def submit(self, frame: Frame, result: FrameResult, heatmap: np.ndarray | None = None) -> None:
        """Record ``frame`` (every ``every``-th seq) with its ``result`` (the heat map is not recorded)."""
        keep = frame.seq % self.every == 0
        self._worker.submit((frame if keep else None, result))

    def emit(self, event: Event) -> None:
        """Record an event line without a frame (state changes, exam summaries, results with no frame)."""
        self._worker.submit((None, event))

    def _handle(self, item: _Item) -> None:
        try:
            self._write(item)
        except OSError as exc:
            if not self._failing:
                self._failing = True
                self._report(
                    "recording_failed",
                    f"--record {self.directory}: {exc}; classification goes on, "
                    "frames and results are not being recorded",
                )
            raise
        if self._failing and item[0] is not None:  # a frame written again: recording works
            self._failing = False
            self._report("recording_resumed", f"--record {self.directory}: writing again")

    def _report(self, name: str, detail: str) -> None:
        if self.on_state is not None:
            self.on_state(StateEvent(state=name, detail=detail, wall_time=time.time(), t=time.monotonic()))

    def _write(self, item: _Item) -> None:
        frame, event = item
        data = event_dict(event)
        if frame is not None:
            name = f"frames/{frame.seq:08d}.png"
            if not cv2.imwrite(str(self.directory / name), frame.image, self._png):
                raise OSError(f"cannot write {self.directory / name}")
            self.frames_written += 1
            data["frame"] = name
        self._results.write(dumps(data) + "\n")
        self._results.flush()

    def flush(self, timeout_s: float = 10.0) -> bool:
        return self._worker.flush(timeout_s)

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    @property
    def errors(self) -> int:
        return self._worker.errors

    def close(self) -> None:
        self._worker.close()
