"""JSON Lines events to a file or stdout (one event per line, see ``liveredge.edge.events``).

No silent loss: a file target is written with ``os.write`` at its end; a line that cannot be written whole (disk
full) is cut off again, so the file only ever holds whole lines, and the event is counted and kept in the sink's
:class:`~liveredge.edge.sinks.ledger.Ledger` spill (reported at the end, ``storage_failed`` state event). Closing
never raises: a failure there is recorded in :meth:`JsonlSink.report`, and other sinks still close. Stdout whose
reader has left (``liveredge run | head``) is a pipe closed on purpose, not storage: writing stops quietly.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import Event, StateEvent
from liveredge.edge.sinks.base import NOTICE, Worker, dumps, event_dict
from liveredge.edge.sinks.ledger import Ledger, StorageReport, write_all


class JsonlSink:
    """Writes each event as one JSON line; the first line is a ``{"type": "header", "notice": ...}`` record.

    ``target`` is a path, ``"-"`` for stdout, or an open text stream. Writing happens on a worker thread with a
    bounded queue (``maxsize`` events): a stalled pipe or disk drops events (counted in :attr:`dropped`) instead
    of stalling inference. Each line is flushed so a reader (or a crash) sees whole lines.
    """

    def __init__(self, target: str | Path | TextIO = "-", *, maxsize: int = 4096, append: bool = False) -> None:
        self._fd: int | None = None
        self._stream: TextIO | None = None
        self.path: str | None = None  # the file written, None for stdout or a stream
        if isinstance(target, (str, Path)) and str(target) != "-":
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if append else os.O_TRUNC)
            try:
                self._fd = os.open(target, flags, 0o644)
            except OSError as exc:
                raise ConfigError(f"--jsonl {target}: cannot write ({exc.strerror}); check the folder") from exc
            self.path = str(target)
        else:
            self._stream = sys.stdout if isinstance(target, (str, Path)) else target
        self.on_state: Callable[[StateEvent], None] | None = None  # liveredge run: the pipeline's post_state
        self.ledger = Ledger(f"JSONL {self.path or 'stdout'}", lambda ev: self.on_state(ev) if self.on_state else None)
        self.close_error = ""
        self.reader_gone = False
        try:
            self._write(dumps({"type": "header", "notice": NOTICE, "wall_time": time.time()}))
        except OSError as exc:
            self._release()
            raise ConfigError(f"--jsonl {target}: cannot write ({exc.strerror or exc}); check the disk") from exc
        self._worker: Worker[Event] = Worker("jsonl sink", self._handle, maxsize=maxsize)

    def emit(self, event: Event) -> None:
        """Queue ``event`` (never blocks)."""
        self._worker.submit(event)

    def _handle(self, event: Event) -> None:
        if self.reader_gone:
            return
        try:
            self._write(dumps(event_dict(event)))
        except BrokenPipeError:
            if self.path is not None:
                raise
            self.reader_gone = True  # stdout's reader left (`liveredge run | head`): not storage, nothing to keep
            return
        except (OSError, ValueError) as exc:  # ValueError: a closed stream
            self.ledger.fail(event, exc)
            return
        self.ledger.ok()

    def _write(self, line: str) -> None:
        if self._fd is not None:
            write_all(self._fd, (line + "\n").encode("utf-8"), os.lseek(self._fd, 0, os.SEEK_END))
        elif self._stream is not None:
            self._stream.write(line + "\n")
            self._stream.flush()

    def flush(self, timeout_s: float = 10.0) -> bool:
        return self._worker.flush(timeout_s)

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    def report(self) -> StorageReport:
        return self.ledger.report(self._worker.dropped)

    def close(self) -> None:
        """Write what is queued, then close the file; never raises (an error is kept in :attr:`close_error`)."""
        self._worker.close()
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError as exc:
                self.close_error = f"{type(exc).__name__}: {exc}"
            self._fd = None
