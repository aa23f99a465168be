"""No silent loss: what a storage sink stored, what it could not, where the latter went.

A storage sink (the SQLite exam log, a JSONL file) keeps a :class:`Ledger`: every record it commits is counted in
``stored``; every record whose write failed is counted in ``failed`` and kept in a bounded in-memory spill
(oldest dropped first, counted in ``spill_overflow``); the first failure after a good write is reported as a
``storage_failed`` state event and the first good write after failures as ``storage_resumed`` (through
``on_state``, which ``liveredge run`` wires to the pipeline, so the state reaches JSONL, the console and the MCU
as an ALERT). A sink may re-store its spill after a good write (a lock that cleared); what is left at close is
written by :func:`rescue` to the JSONL file of the run or, failing that, a fallback file in the temporary folder,
and reported in :class:`StorageReport`. Nothing counted as ``stored`` was not committed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from liveredge.edge.events import Event, StateEvent
from liveredge.edge.sinks.base import NOTICE, dumps, event_dict

SPILL_MAX = 10_000
"""Records kept in memory per sink when they could not be stored (about 10 MB of results at most)."""


@dataclass(frozen=True)
class StorageReport:
    """One storage sink at the end of a run. ``not_stored`` = failed writes never re-stored + queue drops;
    ``rescued`` of them were written to ``rescued_to``."""

    sink: str
    stored: int
    not_stored: int
    failed: int
    dropped: int
    rescued: int
    rescued_to: str | None
    last_error: str

    @property
    def lost(self) -> bool:
        return self.not_stored > 0

    def line(self) -> str:
        """One human line for the console."""
        if not self.lost:
            return f"{self.sink}: {self.stored} records stored"
        kept = f"; {self.rescued} of them written to {self.rescued_to}" if self.rescued else ""
        return (
            f"{self.sink}: {self.stored} records stored, {self.not_stored} could NOT be stored "
            f"({self.failed} failed writes, {self.dropped} dropped on a full queue; last error: "
            f"{self.last_error or 'none'}){kept}"
        )


class Ledger:
    """Counts and spill of one storage sink (see the module docstring). Used from the sink's writer thread."""

    def __init__(self, name: str, notify: Callable[[StateEvent], None], spill_max: int = SPILL_MAX) -> None:
        self.name = name
        self._notify = notify
        self.stored = 0
        self.failed = 0
        self.spill: deque[Event] = deque()
        self.spill_max = spill_max
        self.spill_overflow = 0
        self.failing = False
        self.last_error = ""

    def ok(self) -> None:
        self.stored += 1
        if self.failing:
            self.failing = False
            self._notify(
                _state("storage_resumed", f"{self.name}: writing again; {self.unsaved} records not stored so far")
            )

    def fail(self, event: Event, exc: BaseException) -> None:
        self.failed += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        if len(self.spill) >= self.spill_max:
            self.spill.popleft()
            self.spill_overflow += 1
        self.spill.append(event)
        if not self.failing:
            self.failing = True
            self._notify(
                _state(
                    "storage_failed",
                    f"{self.name}: a record could not be stored ({self.last_error});"
                    " records are kept in memory and reported at the end",
                )
            )

    def restored(self) -> None:
        """One spilled record was stored after all (a retry after a good write)."""
        self.spill.popleft()
        self.failed -= 1
        self.stored += 1

    @property
    def unsaved(self) -> int:
        return len(self.spill) + self.spill_overflow

    def report(self, dropped: int, rescued: int = 0, rescued_to: str | None = None) -> StorageReport:
        return StorageReport(
            self.name, self.stored, self.unsaved + dropped, self.failed, dropped, rescued, rescued_to, self.last_error
        )


def _state(name: str, detail: str) -> StateEvent:
    return StateEvent(state=name, detail=detail, wall_time=time.time(), t=time.monotonic())


def rescue(events: Iterable[Event], sink: str, reason: str, target: str | None) -> tuple[int, str | None]:
    """Append ``events`` as ``{"type": "unstored", "sink", "reason", "record"}`` JSON lines to ``target`` (a JSONL
    path, ``"-"`` = stdout) or, when that is None or fails, to a new file in the temporary folder. Returns
    (lines written, where); (0, None) when nothing could be written anywhere."""
    lines = [dumps({"type": "unstored", "sink": sink, "reason": reason, "record": event_dict(e)}) for e in events]
    if not lines:
        return 0, None
    for where in ([target] if target else []) + [_fallback_path()]:
        try:
            _append(where, lines)
            return len(lines), "stdout" if where == "-" else where
        except OSError:
            continue
    return 0, None


def _fallback_path() -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(tempfile.gettempdir(), f"liveredge-unstored-{stamp}-{os.getpid()}.jsonl")


def _append(where: str, lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    if where == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    header = dumps({"type": "header", "notice": NOTICE, "wall_time": time.time()}) + "\n"
    fd = os.open(where, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.fstat(fd).st_size
        write_all(fd, ((header if start == 0 else "") + text).encode("utf-8"), start)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes, start: int) -> None:
    """Write ``data`` at the end of ``fd`` (opened O_APPEND, ``start`` = its size): all of it, or on an error
    (disk full) cut the file back to ``start`` — no half line is left behind — and raise."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass
        raise
