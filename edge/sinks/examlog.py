"""SQLite exam log (WAL): every event is its own committed transaction, so a kill -9 loses nothing committed.

Tables::

    meta(key, value)                         notice, schema version, created
    exams(exam_id PK, status 'open'|'closed', t_start, wall_start, t_end, wall_end, label, confidence,
          frames_total, frames_used, summary JSON)
    records(id PK, type 'result'|'exam_summary'|'state', exam_id, seq, wall_time, label, confidence,
            quality, payload JSON)          payload = the event's to_dict()

An exam row is opened by a ``StateEvent("exam_started", detail=<exam_id>)`` or by the first result that carries
a new ``exam_id``, and closed by its ``ExamSummary``. Writes run on a worker thread (the inference loop never
waits on the disk); frame results are dropped (counted) when the queue is full, summaries and state events wait.
``synchronous="NORMAL"`` (default) survives a killed process; ``"FULL"`` also survives power loss (slower).

No silent loss: an existing file must pass ``PRAGMA quick_check`` at open (a corrupt one is refused with a
:class:`DataError` naming it); a locked database is waited for ``BUSY_TIMEOUT_S`` per attempt, ``RETRIES`` times
with back-off; every commit is checked, and a record that still fails is counted and kept in the sink's
:class:`~liveredge.edge.sinks.ledger.Ledger` spill (re-stored after the next good commit, reported as
``storage_failed`` / ``storage_resumed`` state events, and in :meth:`ExamLog.report`). The database is opened
by plain file name (never a URI), so ``#`` and ``?`` in the path name exactly that file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from liveredge.edge.errors import ConfigError, DataError
from liveredge.edge.events import Event, ExamSummary, FrameResult, StateEvent
from liveredge.edge.sinks.base import NOTICE, Worker, dumps, event_dict
from liveredge.edge.sinks.ledger import Ledger, StorageReport

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS exams(exam_id TEXT PRIMARY KEY, status TEXT NOT NULL, t_start REAL, wall_start REAL,
    t_end REAL, wall_end REAL, label TEXT, confidence REAL, frames_total INTEGER, frames_used INTEGER, summary TEXT);
CREATE TABLE IF NOT EXISTS records(id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, exam_id TEXT,
    seq INTEGER, wall_time REAL, label TEXT, confidence REAL, quality INTEGER, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_exam ON records(exam_id, id);
"""


BUSY_TIMEOUT_S = 1.0
RETRIES = 3


def connect(path: str | Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """Open (and create) an exam log database in WAL mode; an existing one must pass ``quick_check``."""
    if synchronous not in ("NORMAL", "FULL"):
        raise ConfigError(f"exam log synchronous={synchronous!r}: use NORMAL or FULL")
    existed = Path(path).is_file() and Path(path).stat().st_size > 0
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise ConfigError(f"exam log {path}: cannot open as SQLite ({exc}); give a writable .db path") from exc
    try:
        if existed:
            _quick_check(conn, path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('notice', ?), ('created', ?)",
            (SCHEMA_VERSION, NOTICE, str(time.time())),
        )
    except sqlite3.DatabaseError as exc:
        conn.close()
        if existed and not _busy(exc):
            raise DataError(
                f"exam log {path}: damaged or not an exam log ({exc}); move it aside and start a new "
                "one (its readable records can be recovered with sqlite3 .recover)"
            ) from exc
        raise ConfigError(f"exam log {path}: cannot open as SQLite ({exc}); give a writable .db path") from exc
    except DataError:
        conn.close()
        raise
    return conn


def _quick_check(conn: sqlite3.Connection, path: str | Path) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    if rows != ["ok"]:
        found = " ".join(str(r) for r in rows).replace("\n", " ")[:200]
        raise DataError(
            f"exam log {path}: corrupt (quick_check: {found}); move it "
            "aside and start a new one (sqlite3 .recover can salvage its readable records)"
        )


def _busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class ExamLog:
    """Sink that commits every event to SQLite (see the module docstring for the layout)."""

    def __init__(self, db_path: str | Path, *, synchronous: str = "NORMAL", maxsize: int = 4096) -> None:
        self.path = Path(db_path)
        connect(self.path, synchronous=synchronous).close()  # fail here, in the caller, on a bad path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._open_exams: set[str] = set()
        self.on_state: Callable[[StateEvent], None] | None = None  # liveredge run: the pipeline's post_state
        self.ledger = Ledger(f"exam log {self.path}", lambda ev: self.on_state(ev) if self.on_state else None)
        self._worker: Worker[Event] = Worker("exam log", self._handle, maxsize=maxsize, on_stop=self._close_conn)

    def emit(self, event: Event) -> None:
        """Queue ``event``; results never block, summaries and state events wait for room (rare)."""
        self._worker.submit(event, block=not isinstance(event, FrameResult))

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything emitted so far is committed (or counted as failed)."""
        return self._worker.flush(timeout_s)

    @property
    def committed(self) -> int:
        return self.ledger.stored

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    @property
    def errors(self) -> int:
        return self.ledger.failed + self._worker.errors

    def close(self) -> None:
        self._worker.close()

    def report(self) -> StorageReport:
        """Stored / not stored after :meth:`close` (the spill is what :func:`close_sinks` rescues)."""
        return self.ledger.report(self._worker.dropped)

    # -- writer thread ---------------------------------------------------------------------------------
    def _handle(self, event: Event) -> None:
        if self._store(event):
            while self.ledger.spill and self._commit_quietly(self.ledger.spill[0]):
                self.ledger.restored()

    def _store(self, event: Event) -> bool:
        """Commit ``event`` with bounded retries on a locked database; False (counted, spilled) when it failed."""
        for attempt in range(RETRIES + 1):
            try:
                self._commit(event)
            except sqlite3.Error as exc:
                if _busy(exc) and attempt < RETRIES:
                    time.sleep(0.05 * 2**attempt)
                    continue
                self._open_exams.clear()  # the exam row may not have been committed: insert it again next time
                self.ledger.fail(event, exc)
                return False
            self.ledger.ok()
            return True
        return False

    def _commit_quietly(self, event: Event) -> bool:
        try:
            self._commit(event)
        except sqlite3.Error:
            self._open_exams.clear()
            return False
        return True

    def _commit(self, event: Event) -> None:
        if self._conn is None:
            try:
                self._conn = connect(self.path, synchronous=self._synchronous)
            except (ConfigError, DataError) as exc:
                raise sqlite3.OperationalError(str(exc)) from exc
        conn = self._conn
        with conn:  # one transaction per event; rolled back when any statement fails
            conn.execute("BEGIN IMMEDIATE")
            self._write(conn, event)

    def _write(self, conn: sqlite3.Connection, event: Event) -> None:
        payload = dumps(event_dict(event))
        if isinstance(event, FrameResult):
            if event.exam_id is not None and event.exam_id not in self._open_exams:
                self._open_exam(conn, event.exam_id, event.t_capture, event.wall_time)
            conn.execute(
                "INSERT INTO records(type, exam_id, seq, wall_time, label, confidence, quality, payload)"
                " VALUES ('result', ?, ?, ?, ?, ?, ?, ?)",
                (event.exam_id, event.seq, event.wall_time, event.label, event.confidence, int(event.quality), payload),
            )
        elif isinstance(event, ExamSummary):
            self._close_exam(conn, event, payload)
        elif isinstance(event, StateEvent):
            exam_id = event.detail if event.state in ("exam_started", "exam_ended") else None
            if event.state == "exam_started" and exam_id:
                self._open_exam(conn, exam_id, event.t, event.wall_time)
            conn.execute(
                "INSERT INTO records(type, exam_id, wall_time, label, payload) VALUES ('state', ?, ?, ?, ?)",
                (exam_id, event.wall_time, event.state, payload),
            )

    def _open_exam(self, conn: sqlite3.Connection, exam_id: str, t: float, wall: float) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO exams(exam_id, status, t_start, wall_start) VALUES (?, 'open', ?, ?)",
            (exam_id, t, wall),
        )
        self._open_exams.add(exam_id)

    def _close_exam(self, conn: sqlite3.Connection, s: ExamSummary, payload: str) -> None:
        conn.execute("INSERT OR IGNORE INTO exams(exam_id, status) VALUES (?, 'open')", (s.exam_id,))
        conn.execute(
            "UPDATE exams SET status='closed', t_start=?, t_end=?, wall_end=?, label=?, confidence=?,"
            " frames_total=?, frames_used=?, summary=? WHERE exam_id=?",
            (s.t_start, s.t_end, s.wall_time, s.label, s.confidence, s.frames_total, s.frames_used, payload, s.exam_id),
        )
        conn.execute(
            "INSERT INTO records(type, exam_id, wall_time, label, confidence, payload)"
            " VALUES ('exam_summary', ?, ?, ?, ?, ?)",
            (s.exam_id, s.wall_time, s.label, s.confidence, payload),
        )
        self._open_exams.discard(s.exam_id)

    def _close_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # the WAL checkpoint may fail on a full disk: the WAL still holds the records
            except sqlite3.Error:
                pass
            self._conn = None

    # -- readers ---------------------------------------------------------------------------------------
    def records(self, exam_id: str | None = None, type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002 - the record field is called type
        return read_records(self.path, exam_id=exam_id, type=type)

    def exams(self) -> list[dict[str, Any]]:
        return read_exams(self.path)


def _read(path: str | Path, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        raise DataError(f"exam log {path}: no such file")
    try:
        uri = f"file:{quote(str(Path(path).resolve()), safe='/')}?mode=ro"  # '#', '?' and '%' quoted
        conn = sqlite3.connect(uri, uri=True, timeout=10.0)
        try:
            conn.row_factory = sqlite3.Row
            rows = [dict(row) for row in conn.execute(sql, args)]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DataError(f"exam log {path}: cannot read ({exc}); is it a liveredge exam log?") from exc
    for row in rows:
        for key in ("payload", "summary"):
            if row.get(key):
                row[key] = json.loads(row[key])
    return rows


def read_records(path: str | Path, *, exam_id: str | None = None, type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002 - the record field is called type
    """Committed records in insertion order, optionally one exam's and/or one type's."""
    sql = "SELECT * FROM records WHERE (? IS NULL OR exam_id = ?) AND (? IS NULL OR type = ?) ORDER BY id"
    return _read(path, sql, (exam_id, exam_id, type, type))


def read_exams(path: str | Path) -> list[dict[str, Any]]:
    """Every exam (open ones included: an exam cut short by a crash stays 'open' with its records)."""
    return _read(path, "SELECT * FROM exams ORDER BY wall_start, exam_id", ())
