"""Fault injection against real ``liveredge`` child processes: stream server stopped and restarted, MCU emulator
killed (-9) and restarted on the same link path, the runtime killed (-9) mid-exam, the disk filling while recording.

Each fault returns a :class:`Fault`. Time is ``time.monotonic()`` seconds in this process; a child's output lines
are stamped when this process reads them (pipes add well under a millisecond).
"""

from __future__ import annotations

import json
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from common import CLI, ENV, ROOT

SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=5&size=240x320"


@dataclass(frozen=True)
class Fault:
    """One injected fault: did the runtime survive it (no crash, kept working), and the numbers it gave."""

    name: str
    survived: bool
    crash: bool
    reconnect_s: float | None
    records_lost: int | None
    detail: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Child:
    """A ``liveredge`` child whose stdout lines are read on a thread and stamped on arrival."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, **popen: Any) -> None:
        self.proc = subprocess.Popen(
            [*CLI, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env={**ENV, **(env or {})},
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            **popen,
        )
        self.lines: list[tuple[float, str]] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, None), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream: IO[str] | None, into: list[tuple[float, str]] | None) -> None:
        assert stream is not None
        for line in stream:
            if into is None:
                self.err.append(line)
            else:
                into.append((time.monotonic(), line))

    def wait_line(self, match: Callable[[str], bool], after: float = 0.0, timeout_s: float = 20.0) -> float | None:
        """Arrival time of the first line after ``after`` that matches, or None."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for t, line in list(self.lines):
                if t >= after and match(line):
                    return t
            if self.proc.poll() is not None and not any(t.is_alive() for t in self._threads):
                return None
            time.sleep(0.01)
        return None

    def finish(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> int:
        """Send ``sig`` (if still running), wait, return the exit code (-N for a signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for t in self._threads:
            t.join(timeout=5)
        return self.proc.returncode

    @property
    def traceback(self) -> bool:
        return any("Traceback (most recent call last)" in line for line in self.err)

    def results(self) -> int:
        return sum('"type":"result"' in line for _, line in self.lines)


def is_result(line: str) -> bool:
    return '"type":"result"' in line


def _outcome(
    name: str,
    child: Child,
    rc: int,
    ok: bool,
    reconnect: float | None,
    detail: str,
    lost: int | None = None,
    **numbers: Any,
) -> Fault:
    crash = rc not in (0, 1, 2, 3) or child.traceback
    return Fault(
        name,
        ok and not crash,
        crash,
        None if reconnect is None else round(reconnect, 3),
        lost,
        detail + (" | TRACEBACK: " + "".join(child.err)[-300:] if child.traceback else ""),
        numbers,
    )


def source_killed_restored(model: list[str], outage_s: float) -> Fault:
    """The local MJPEG server stops for ``outage_s`` and comes back on the same port; reconnect_s runs from the
    restart to the first result of the new connection."""
    sys.path.insert(0, str(ROOT / "tests"))
    from mjpeg_server import MjpegServer

    server = MjpegServer(fps=30.0)
    port = server.port
    child = Child(["run", *model, "--source", server.url, "--threads", "1", "--timeout", "0.5", "--jsonl", "-"])
    try:
        if child.wait_line(is_result, timeout_s=40) is None:
            server.stop()
            return _outcome("source_killed_restored", child, child.finish(), False, None, "no first result")
        server.stop()
        t_stop = time.monotonic()
        lost_seen = child.wait_line(lambda ln: "source_lost" in ln or "source_error" in ln, t_stop, outage_s + 3)
        time.sleep(max(0.0, outage_s - (time.monotonic() - t_stop)))
        server = MjpegServer(fps=30.0, port=port)
        t_restart = time.monotonic()
        back = child.wait_line(lambda ln: "source_reconnected" in ln, t_restart, 15)
        first = child.wait_line(is_result, back, 15) if back is not None else None
    finally:
        server.stop()
    rc = child.finish()
    reconnect = None if first is None else first - t_restart
    detail = f"server down {outage_s:g} s; loss reported: {lost_seen is not None}; exit {rc}; {child.results()} results"
    return _outcome(
        "source_killed_restored",
        child,
        rc,
        rc == 0 and reconnect is not None,
        reconnect,
        detail,
        loss_reported=lost_seen is not None,
    )


def mcu_killed_restarted(model: list[str], work: Path, down_s: float) -> Fault:
    """``liveredge bridge emulate --link L`` is killed -9 and restarted on L; the runtime (``--serial L``) must
    reconnect: reconnect_s runs from the restart to the first RESULT the new emulator receives."""
    link = work / "mcu.link"
    emu = Child(["bridge", "emulate", "--link", str(link)])
    runtime: Child | None = None
    try:
        if emu.wait_line(lambda ln: ln.startswith("emulator:"), timeout_s=20) is None:
            return _outcome("mcu_killed_restarted", emu, emu.finish(), False, None, "emulator did not start")
        runtime = Child(["run", *model, "--source", SIM, "--threads", "1", "--serial", str(link), "--jsonl", "-"])
        if emu.wait_line(lambda ln: "RESULT" in ln, timeout_s=40) is None:
            return _outcome("mcu_killed_restarted", runtime, runtime.finish(), False, None, "no RESULT reached the MCU")
        emu.finish(signal.SIGKILL)
        time.sleep(down_s)
        emu = Child(["bridge", "emulate", "--link", str(link)])
        t_restart = time.monotonic()
        got = emu.wait_line(lambda ln: "RESULT" in ln, t_restart, 15)
        alive = runtime.proc.poll() is None
        before = runtime.results()
        time.sleep(0.5)
        flowing = runtime.results() > before
    finally:
        emu.finish(signal.SIGTERM)
    rc = runtime.finish()
    reconnect = None if got is None else got - t_restart
    detail = f"emulator down {down_s:g} s; runtime alive after: {alive}; results flowing: {flowing}; exit {rc}"
    return _outcome(
        "mcu_killed_restarted", runtime, rc, alive and flowing and reconnect is not None and rc == 0, reconnect, detail
    )


def runtime_kill9_mid_exam(model: list[str], work: Path, records: int) -> Fault:
    """``liveredge run --db F --exam X`` is killed -9 once the DB (read by this process, WAL) holds ``records``
    committed results; every record seen committed before the kill must be there after it."""
    db = work / "kill9.db"
    db.unlink(missing_ok=True)
    child = Child(
        [
            "run",
            *model,
            "--source",
            SIM.replace("fps=30", "fps=60"),
            "--threads",
            "1",
            "--db",
            str(db),
            "--exam",
            "KILL9",
            "--jsonl",
            "-",
        ]
    )
    committed: set[int] = set()
    deadline = time.monotonic() + 60
    while len(committed) < records and time.monotonic() < deadline and child.proc.poll() is None:
        committed = db_seqs(db, "KILL9")
        time.sleep(0.05)
    emitted = child.results()
    rc = child.finish(signal.SIGKILL)
    stored = db_seqs(db, "KILL9")
    lost = len(committed - stored)
    integrity, status = db_check(db, "KILL9")
    again = subprocess.run(
        [
            *CLI,
            "run",
            *model,
            "--source",
            SIM,
            "--threads",
            "1",
            "--db",
            str(db),
            "--exam",
            "AFTER",
            "--max-frames",
            "15",
        ],
        capture_output=True,
        text=True,
        errors="replace",
        env=ENV,
        cwd=ROOT,
        timeout=60,
    )
    reopened = again.returncode == 0 and len(db_seqs(db, "AFTER")) > 0
    detail = (
        f"killed after {len(committed)} committed (seen in the DB), {emitted} JSONL results; after the kill "
        f"{len(stored)} stored, integrity {integrity}, exam {status}; a new run appends: {reopened}"
    )
    ok = rc == -signal.SIGKILL and len(committed) >= records and lost == 0 and integrity == "ok" and reopened
    crash = "Traceback (most recent call last)" in again.stderr
    return Fault(
        "runtime_kill9_mid_exam",
        ok and not crash,
        crash,
        None,
        lost,
        detail,
        {"committed_before_kill": len(committed), "stored_after": len(stored), "jsonl_before_kill": emitted},
    )


def db_seqs(db: Path, exam: str) -> set[int]:
    """Result seqs committed for ``exam`` (read-only connection; empty while the DB does not exist yet)."""
    if not db.is_file():
        return set()
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT seq FROM records WHERE exam_id=? AND type='result'", (exam,)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return set()
    return {r[0] for r in rows}


def db_check(db: Path, exam: str) -> tuple[str, str]:
    conn = sqlite3.connect(str(db), timeout=5)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        row = conn.execute("SELECT status FROM exams WHERE exam_id=?", (exam,)).fetchone()
    finally:
        conn.close()
    return integrity, row[0] if row else "missing"


def disk_full_recording(model: list[str], work: Path, frames: int) -> Fault:
    """``--record DIR`` on a 3 MiB tmpfs (or RLIMIT_FSIZE when mounting is not permitted): classification must go
    on and the failure must show as a ``recording_failed`` state event. The source is replayed at ``--rate max``
    (back-pressure: every frame is classified), so "classification goes on" is counted in frames, not in how fast
    a loaded machine keeps up with 30 fps (a stress run once got 46 results of 60 paced frames)."""
    rec = work / "rec_small"
    rec.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(rec)]
    mounted = subprocess.run(mount, capture_output=True).returncode == 0
    limit = None if mounted else _fsize_limit
    try:
        child = Child(
            [
                "run",
                *model,
                "--source",
                SIM.replace("&size=240x320", ""),
                "--rate",
                "max",
                "--threads",
                "1",
                "--record",
                str(rec),
                "--max-frames",
                str(frames),
                "--jsonl",
                "-",
            ],
            preexec_fn=limit,
        )
        rc = child.finish(signal.SIGCONT, timeout_s=frames / 30.0 + 60)  # SIGCONT: no-op, just wait
        written = len(list((rec / "frames").glob("*.png"))) if (rec / "frames").is_dir() else 0
    finally:
        if mounted:
            subprocess.run(["umount", str(rec)], capture_output=True)
    states = [json.loads(ln).get("state") for _, ln in child.lines if '"type":"state"' in ln]
    results = child.results()
    reported = "recording_failed" in states
    how = "tmpfs 3 MiB" if mounted else "RLIMIT_FSIZE 3 MiB"
    detail = (
        f"{how}: {written} frames fit, {results} results of {frames} frames, failure reported as a state "
        f"event: {reported}; exit {rc}"
    )
    ok = rc == 0 and results > written and results >= frames * 0.8 and reported
    return _outcome(
        "disk_full_recording",
        child,
        rc,
        ok,
        None,
        detail,
        filled_by=how,
        frames_written=written,
        results=results,
        failure_reported=reported,
    )


def _fsize_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))


def run_faults(model: list[str], work: Path, quick: bool, progress: Callable[[str], None]) -> list[Fault]:
    """Every fault once; each is isolated, a failure of the harness itself is recorded, not raised."""
    plan: list[tuple[str, Callable[[], Fault]]] = [
        ("source_killed_restored", lambda: source_killed_restored(model, 1.0 if quick else 3.0)),
        ("mcu_killed_restarted", lambda: mcu_killed_restarted(model, work, 0.5 if quick else 2.0)),
        ("runtime_kill9_mid_exam", lambda: runtime_kill9_mid_exam(model, work, 30 if quick else 300)),
        ("disk_full_recording", lambda: disk_full_recording(model, work, 60 if quick else 300)),
    ]
    return run_plan(plan, progress)


def run_plan(plan: list[tuple[str, Callable[[], Fault]]], progress: Callable[[str], None]) -> list[Fault]:
    """Run each (name, fault) in turn; a harness that breaks is reported as a fault not survived."""
    out = []
    for name, fn in plan:
        try:
            fault = fn()
        except Exception as exc:  # noqa: BLE001 - the harness failing is reported as a fault not survived
            fault = Fault(name, False, False, None, None, f"harness error: {type(exc).__name__}: {exc}")
        progress(f"fault {name}: survived={fault.survived} reconnect_s={fault.reconnect_s} {fault.detail}")
        out.append(fault)
    return out
