"""Sinks for runtime events: JSONL, the SQLite exam log, recordings and the optional display.

Every sink has ``emit(event)`` (results, exam summaries, state events — see ``liveredge.edge.events``) and
``close()``; sinks that want the image too (``Recorder``, ``DisplaySink``) implement :class:`FrameSink`,
``submit(frame, result, heatmap=None)``: the pipeline calls ``submit`` for frame results on those and ``emit`` for
the rest (``heatmap`` is the class-activation map when the processor makes one).
No sink blocks the inference loop: each writes on its own thread from a bounded queue and counts drops.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from liveredge.edge.events import Event, FrameResult
from liveredge.edge.sinks.base import NOTICE, Worker
from liveredge.edge.sinks.closing import Closed, close_sinks
from liveredge.edge.sinks.console import ConsoleAlerts
from liveredge.edge.sinks.display import DisplaySink, DisplayUnavailable, display_available, draw_overlay
from liveredge.edge.sinks.examlog import ExamLog, read_exams, read_records
from liveredge.edge.sinks.jsonl import JsonlSink
from liveredge.edge.sinks.ledger import StorageReport
from liveredge.edge.sinks.recorder import Recorder
from liveredge.edge.sources.base import Frame

__all__ = [
    "NOTICE",
    "Closed",
    "ConsoleAlerts",
    "DisplaySink",
    "DisplayUnavailable",
    "ExamLog",
    "FrameSink",
    "JsonlSink",
    "Recorder",
    "Sink",
    "StorageReport",
    "Worker",
    "close_sinks",
    "display_available",
    "draw_overlay",
    "read_exams",
    "read_records",
]


@runtime_checkable
class Sink(Protocol):
    """Receives every event the runtime emits; must not block."""

    def emit(self, event: Event) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class FrameSink(Sink, Protocol):
    """A sink that also takes the frame a result belongs to (and the heat map, when the processor makes one)."""

    def submit(self, frame: Frame, result: FrameResult, heatmap: np.ndarray | None = None) -> None: ...
