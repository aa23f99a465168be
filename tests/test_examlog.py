"""SQLite exam log: round trip, open/closed exams, and kill -9 in the middle of an exam loses no committed record."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liveredge.edge.errors import ConfigError, DataError
from liveredge.edge.events import ExamSummary, FrameResult, Quality, StateEvent
from liveredge.edge.sinks import ExamLog, read_exams, read_records

WRITER = r"""
import sys, time
from liveredge.edge.events import FrameResult, Quality, StateEvent
from liveredge.edge.sinks import ExamLog
log = ExamLog(sys.argv[1])
log.emit(StateEvent("exam_started", "EXAM-7", time.time(), time.monotonic()))
seq = 0
while True:
    log.emit(FrameResult(seq, time.monotonic(), time.monotonic(), time.time(), (0.1, 0.6, 0.2, 0.1),
                         (0.1, 0.6, 0.2, 0.1), "steatosis", 0.6, Quality.OK, "EXAM-7"))
    log.flush()                       # committed: only now report it
    print(seq, flush=True)
    seq += 1
"""


def result(seq: int, exam_id: str | None = "E1", quality: Quality = Quality.OK) -> FrameResult:
    return FrameResult(
        seq,
        5.0 + seq,
        5.01 + seq,
        1.7e9 + seq,
        (0.7, 0.1, 0.1, 0.1),
        (0.6, 0.2, 0.1, 0.1),
        "normal",
        0.6,
        quality,
        exam_id,
    )


def test_kill_9_mid_exam_keeps_every_committed_record(tmp_path: Path) -> None:
    db = tmp_path / "exams.db"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    reported: list[int] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 30
        while len(reported) < 150 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            reported.append(int(line))
        os.kill(child.pid, signal.SIGKILL)  # mid-exam, while it keeps writing
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL and len(reported) == 150
    stored = {r["seq"] for r in read_records(db, exam_id="EXAM-7", type="result")}
    assert set(reported) <= stored  # every record reported committed is there
    assert stored == set(range(len(stored)))  # and nothing half-written or out of order
    exams = read_exams(db)
    assert [(e["exam_id"], e["status"]) for e in exams] == [("EXAM-7", "open")]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_round_trip_of_an_exam(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    log = ExamLog(db)
    log.emit(StateEvent("exam_started", "E1", 1.7e9, 4.0))
    for seq in range(3):
        log.emit(result(seq, quality=Quality.FROZEN if seq == 1 else Quality.OK))
    log.emit(result(9, exam_id=None))
    log.emit(
        ExamSummary("E1", "normal", 0.66, {"normal": 0.66, "steatosis": 0.2}, 3, 2, {"frozen": 1}, 4.0, 8.0, 1.7e9 + 9)
    )
    log.emit(StateEvent("source_lost", "no frame for 2.0 s", 1.7e9 + 10, 20.0))
    assert log.flush(5.0)
    assert log.committed == 7 and log.dropped == 0 and log.errors == 0
    log.close()
    rows = log.records()
    assert [r["type"] for r in rows] == ["state", "result", "result", "result", "result", "exam_summary", "state"]
    exam_rows = log.records(exam_id="E1", type="result")
    assert [r["seq"] for r in exam_rows] == [0, 1, 2] and exam_rows[1]["quality"] == int(Quality.FROZEN)
    assert exam_rows[1]["payload"]["quality_flags"] == ["frozen"]
    (exam,) = log.exams()
    assert exam["status"] == "closed" and exam["label"] == "normal" and exam["frames_used"] == 2
    assert exam["t_start"] == 4.0 and exam["summary"]["class_probs"]["steatosis"] == 0.2
    with sqlite3.connect(db) as conn:
        assert "not for clinical use" in conn.execute("SELECT value FROM meta WHERE key='notice'").fetchone()[0]


def test_exam_opened_by_its_first_result_and_reopening_appends(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    for batch in range(2):
        log = ExamLog(db)
        for seq in range(batch * 10, batch * 10 + 4):
            log.emit(result(seq, exam_id=f"X{batch}"))
        log.close()
    assert [e["exam_id"] for e in read_exams(db)] == ["X0", "X1"]
    assert len(read_records(db, type="result")) == 8


def test_bad_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open"):
        ExamLog(tmp_path / "no" / "such" / "dir" / "x.db")
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello, this is not SQLite" * 20)
    with pytest.raises((ConfigError, DataError)):
        ExamLog(not_db)
    with pytest.raises(DataError, match="no such file"):
        read_records(tmp_path / "missing.db")
