"""No silent data loss: a corrupt exam log is refused, a locked one is waited for and re-stored, a full disk
under the exam log or the JSONL ends the run non-zero with the count of records not stored, and every record the
run says it stored reads back. Full disks are real: a tiny tmpfs when mounting is permitted (root), else
RLIMIT_FSIZE in the child. SIMULATED data only."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_fixtures import pubkey_args, signed_fixture_model

from liveredge.edge.errors import DataError
from liveredge.edge.events import StateEvent
from liveredge.edge.sinks import ExamLog, JsonlSink, close_sinks, read_records

ROOT = Path(__file__).resolve().parents[1]
MODEL = signed_fixture_model()  # signed by a test key: run needs a trusted statement
SIM = "sim://?condition=normal&site=S2&fps=120&seed=3&size=240x320"
SIZE = 160 << 10  # the tmpfs: enough to create the files, full within a few hundred records


def _state(i: int) -> StateEvent:
    return StateEvent("note", f"event {i}", time.time(), time.monotonic())


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[tuple[Path, object]]:
    """(folder, preexec_fn for the child): a 160 KiB tmpfs when we may mount, else RLIMIT_FSIZE = 160 KiB."""
    path.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )

    def fsize() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (SIZE, SIZE))

    try:
        yield path, (None if mounted else fsize)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def run_cli(args: list[str], preexec: object, frames: int = 400) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "liveredge.cli.main",
            "run",
            "--model",
            str(MODEL),
            "--source",
            SIM,
            "--rate",
            "max",
            "--max-frames",
            str(frames),
            "--exam",
            "FULL",
            *pubkey_args(MODEL),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=preexec,
    )  # type: ignore[arg-type]


def claimed(stderr: str, sink: str) -> tuple[int, int]:
    """(stored, not stored) the run printed for ``sink`` ('exam log' or 'JSONL')."""
    line = next(ln for ln in stderr.splitlines() if f"liveredge run: {sink} " in ln)
    stored = int(re.search(r": (\d+) records stored", line).group(1))  # type: ignore[union-attr]
    lost = re.search(r"(\d+) could NOT be stored", line)
    return stored, int(lost.group(1)) if lost else 0


def test_corrupt_exam_log_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "exams.db"
    log = ExamLog(path)
    for i in range(50):
        log.emit(_state(i))
    log.close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = os.urandom(4096)  # a damaged page
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=re.escape(str(path))):
        ExamLog(path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "liveredge.cli.main",
            "run",
            "--model",
            str(MODEL),
            "--db",
            str(path),
            "--max-frames",
            "1",
            *pubkey_args(MODEL),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and str(path) in proc.stderr and "Traceback" not in proc.stderr


def test_locked_exam_log_is_waited_for_then_everything_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "exams.db"
    log = ExamLog(path)
    states: list[StateEvent] = []
    log.on_state = states.append
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")  # another writer holds the database for 5 s (longer than the retries)
    release = threading.Timer(5.0, lambda: (locker.execute("COMMIT"), locker.close()))
    release.start()
    for i in range(20):
        log.emit(_state(i))
    time.sleep(5.5)
    log.emit(_state(20))  # the first good write after the lock also re-stores what was spilled
    log.close()
    release.join()
    report = log.report()
    assert [s.state for s in states] == ["storage_failed", "storage_resumed"]
    assert report.not_stored == 0 and report.stored == 21
    assert sorted(r["payload"]["detail"] for r in read_records(path)) == sorted(f"event {i}" for i in range(21))


def test_full_disk_under_the_exam_log(tmp_path: Path) -> None:
    jsonl = tmp_path / "events.jsonl"
    with small_disk(tmp_path / "disk") as (disk, preexec):
        db = disk / "exams.db"
        proc = run_cli(["--db", str(db), "--jsonl", str(jsonl)], preexec)
        stored, lost = claimed(proc.stderr, "exam log")
        rows = read_records(db)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert lost > 0 and f"error: {lost} records could not be stored" in proc.stderr
    assert len(rows) == stored  # every record the run said it stored reads back
    events = [json.loads(x) for x in jsonl.read_text().splitlines()]
    unstored = [e for e in events if e["type"] == "unstored"]
    assert len(unstored) == lost and all(e["sink"] == f"exam log {db}" for e in unstored)
    assert any(e["type"] == "state" and e["state"] == "storage_failed" for e in events)
    assert {e["record"]["type"] for e in unstored} >= {"result"}


def test_full_disk_under_the_jsonl_keeps_whole_lines_and_closes_the_exam_log(tmp_path: Path) -> None:
    db = tmp_path / "exams.db"
    with small_disk(tmp_path / "disk") as (disk, preexec):
        jsonl = disk / "events.jsonl"
        proc = run_cli(["--db", str(db), "--jsonl", str(jsonl)], preexec, frames=900)  # ~400 B a line
        stored, lost = claimed(proc.stderr, "JSONL")
        lines = jsonl.read_text().splitlines()
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert lost > 0 and f"error: {lost} records could not be stored" in proc.stderr
    assert len([json.loads(x) for x in lines]) == stored + 1  # every line parses (no torn line); + the header
    kept = re.search(r"written to (\S+\.jsonl)", proc.stderr)
    assert kept is not None and len(Path(kept.group(1)).read_text().splitlines()) == lost + 1
    Path(kept.group(1)).unlink()
    exams = sqlite3.connect(db).execute("SELECT status FROM exams WHERE exam_id='FULL'").fetchall()
    assert exams == [("closed",)]  # the JSONL failing did not keep the exam log from closing


def test_a_sink_failing_to_close_never_keeps_the_others_open(tmp_path: Path) -> None:
    class Broken:
        def emit(self, event: object) -> None:
            return None

        def close(self) -> None:
            raise OSError(5, "Input/output error")

    stream = io.StringIO()
    jsonl, log = JsonlSink(stream), ExamLog(tmp_path / "e.db")
    for i in range(5):
        jsonl.emit(_state(i))
        log.emit(_state(i))
    closed = close_sinks([Broken(), jsonl, log])
    assert closed.errors == ("Broken: OSError: [Errno 5] Input/output error",)
    assert [r.stored for r in closed.reports] == [5, 5] and closed.not_stored == 0
    assert len(read_records(tmp_path / "e.db")) == 5 and len(stream.getvalue().splitlines()) == 6


def test_storage_failure_reaches_the_mcu_as_an_alert() -> None:
    from liveredge.edge.runtime.bridge import STORAGE_FAILED_ALERT, BridgeSink
    from liveredge.firmware_bridge.emulator import PtyEmulator
    from liveredge.firmware_bridge.messages import Alert, AlertCode
    from liveredge.firmware_bridge.runtime import SerialBridge

    assert STORAGE_FAILED_ALERT == AlertCode.STORAGE_FAILED
    with PtyEmulator() as mcu, SerialBridge.open(mcu.path, wait_s=5.0) as bridge:
        sink = BridgeSink(bridge)
        deadline, alerts = time.monotonic() + 5.0, []
        while not alerts and time.monotonic() < deadline:
            sink.emit(StateEvent("storage_failed", "exam log x: disk full", time.time(), time.monotonic()))
            time.sleep(0.1)
            alerts = [m for m in mcu.take_received() if isinstance(m, Alert)]
    assert alerts and alerts[0].code == AlertCode.STORAGE_FAILED and alerts[0].severity == 2


def test_stdout_whose_reader_left_is_not_a_storage_failure() -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    sink = JsonlSink(stream)  # like `liveredge run | head -1`: the header goes out, then the reader leaves
    os.close(read_end)
    for i in range(5):
        sink.emit(_state(i))
    sink.close()
    with contextlib.suppress(BrokenPipeError):
        stream.close()
    report = sink.report()
    assert sink.reader_gone and report.not_stored == 0 and not report.lost
