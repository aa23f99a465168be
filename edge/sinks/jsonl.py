"""JSON Lines events to a file or stdout (one event per line, see ``liveredge.edge.events``)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import Event
from liveredge.edge.sinks.base import NOTICE, Worker, dumps, event_dict


class JsonlSink:
    """Writes each event as one JSON line; the first line is a ``{"type": "header", "notice": ...}`` record.

    ``target`` is a path, ``"-"`` for stdout, or an open text stream. Writing happens on a worker thread with a
    bounded queue (``maxsize`` events): a stalled pipe or disk drops events (counted in :attr:`dropped`) instead
    of stalling inference. Each line is flushed so a reader (or a crash) sees whole lines.
    """

    def __init__(self, target: str | Path | TextIO = "-", *, maxsize: int = 4096, append: bool = False) -> None:
        self._owned = False
        if isinstance(target, (str, Path)):
            if str(target) == "-":
                self._stream: TextIO = sys.stdout
            else:
                try:
                    self._stream = open(target, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
                except OSError as exc:
                    raise ConfigError(f"--jsonl {target}: cannot write ({exc.strerror}); check the folder") from exc
                self._owned = True
        else:
            self._stream = target
        self._write(dumps({"type": "header", "notice": NOTICE, "wall_time": time.time()}))
        self._worker: Worker[Event] = Worker("jsonl sink", self._handle, maxsize=maxsize)

    def emit(self, event: Event) -> None:
        """Queue ``event`` (never blocks)."""
        self._worker.submit(event)

    def _handle(self, event: Event) -> None:
        self._write(dumps(event_dict(event)))

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def flush(self, timeout_s: float = 10.0) -> bool:
        return self._worker.flush(timeout_s)

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    def close(self) -> None:
        self._worker.close()
        if self._owned:
            self._stream.close()
