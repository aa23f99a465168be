"""Faults of issue 15: full disks under the exam log and under the JSONL, the exam log locked by another writer,
SIGTERM with a slow frame in flight. Real ``liveredge run`` children, real filesystems (a tiny tmpfs when
mounting is permitted, else RLIMIT_FSIZE in the child).

``records_lost`` here counts records the run SAID it stored that do not read back (target 0); records it could
not store are not "lost" when the run reports them (exit 1, the count on the console, kept in a JSONL or fallback
file) — that reporting is what ``survived`` checks.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import ROOT, limit_memory
from faults import SIM, Child, Fault, _outcome, run_plan

sys.path.insert(0, str(ROOT / "tests"))
from hostile_inputs import big_bmp

FAST = SIM.replace("fps=30", "fps=120")


@contextlib.contextmanager
def small_disk(path: Path, size: int) -> Iterator[tuple[str, Any]]:
    """(how, preexec_fn): a ``size``-byte tmpfs on ``path`` when mounting works, else RLIMIT_FSIZE in the child;
    the child also runs under the 2 GiB address-space limit."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )

    def limits() -> None:  # and the hostile-input address-space limit
        limit_memory()
        if not mounted:
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    try:
        yield (f"tmpfs {size >> 10} KiB" if mounted else f"RLIMIT_FSIZE {size >> 10} KiB"), limits
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def claimed(err: str, sink: str) -> tuple[int, int] | None:
    """(stored, not stored) the run printed for ``sink`` ("exam log" or "JSONL"), None when it printed nothing."""
    line = next((ln for ln in err.splitlines() if f"liveredge run: {sink} " in ln), None)
    if line is None:
        return None
    stored = re.search(r": (\d+) records stored", line)
    lost = re.search(r"(\d+) could NOT be stored", line)
    return (int(stored.group(1)) if stored else -1), (int(lost.group(1)) if lost else 0)


def disk_full(model: list[str], work: Path, under: str, frames: int, size: int) -> Fault:
    """``liveredge run --db D --jsonl J`` with ``under`` ("exam log" or "JSONL") on a full disk: the run must end
    with exit 1 saying how many records were not stored, and every record it says it stored must read back."""
    name = f"disk_full_{'examlog' if under == 'exam log' else 'jsonl'}"
    disk = work / name
    spare = work / f"{name}_tmp"  # the child's temporary folder: where a failing JSONL's records are rescued
    spare.mkdir(exist_ok=True)
    with small_disk(disk, size) as (how, preexec):
        db = disk / "exams.db" if under == "exam log" else work / f"{name}.db"
        jsonl = disk / "events.jsonl" if under == "JSONL" else work / f"{name}.jsonl"
        child = Child(
            [
                "run",
                *model,
                "--source",
                FAST,
                "--rate",
                "max",
                "--threads",
                "1",
                "--max-frames",
                str(frames),
                "--exam",
                "FULL",
                "--db",
                str(db),
                "--jsonl",
                str(jsonl),
            ],
            env={"TMPDIR": str(spare)},
            preexec_fn=preexec,
        )
        rc = child.finish(signal.SIGCONT, timeout_s=frames / 30.0 + 60)  # SIGCONT: no-op, just wait
        err = "".join(child.err)
        said = claimed(err, under)
        back = _read_back(db if under == "exam log" else jsonl)
    stored, not_stored = said if said else (-1, 0)
    lost = None if back is None or stored < 0 else max(0, stored - back)
    reported = rc == 1 and not_stored > 0 and f"{not_stored} records could not be stored" in err
    detail = f"{how}: exit {rc}; the run said {stored} stored, {not_stored} not stored; {back} read back"
    return _outcome(
        name,
        child,
        rc,
        reported and lost == 0,
        None,
        detail,
        lost,
        said_stored=stored,
        said_not_stored=not_stored,
        read_back=back,
        rescued=_rescued(jsonl if under == "exam log" else None, spare),
        filled_by=how,
    )


def _rescued(jsonl: Path | None, spare: Path) -> int:
    """Records written as ``unstored`` lines: into the run's healthy JSONL, or a file in its temporary folder."""
    files = ([jsonl] if jsonl is not None and jsonl.is_file() else []) + sorted(
        spare.glob("liveredge-unstored-*.jsonl")
    )
    return sum(ln.count('"type":"unstored"') for f in files for ln in f.read_text(errors="replace").splitlines())


def _read_back(path: Path) -> int | None:
    if not path.is_file():
        return None
    if path.suffix == ".db":
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # our own path: no '#' or '?'
        try:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
        finally:
            conn.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for ln in lines if json.loads(ln).get("type") not in ("header", "unstored"))


def db_locked(model: list[str], work: Path, hold_s: float) -> Fault:
    """Another writer holds the exam log (``BEGIN EXCLUSIVE``) for ``hold_s`` mid-exam: nothing may be lost;
    the stall is reported (storage_failed / storage_resumed) when it outlasts the retries."""
    db = work / "locked.db"
    db.unlink(missing_ok=True)
    child = Child(
        [
            "run",
            *model,
            "--source",
            SIM,
            "--threads",
            "1",
            "--db",
            str(db),
            "--exam",
            "LOCK",
            "--jsonl",
            "-",
            "--max-frames",
            str(int(30 * (hold_s + 4))),
        ]
    )
    child.wait_line(lambda ln: '"type":"result"' in ln, timeout_s=40)
    locker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(hold_s, lambda: (locker.execute("COMMIT"), locker.close()))
    timer.start()
    rc = child.finish(signal.SIGCONT, timeout_s=hold_s + 90)
    timer.join()
    emitted = {json.loads(ln)["seq"] for _, ln in child.lines if '"type":"result"' in ln}
    conn = sqlite3.connect(db)
    stored = {r[0] for r in conn.execute("SELECT seq FROM records WHERE type='result' AND exam_id='LOCK'")}
    conn.close()
    states = [json.loads(ln).get("state") for _, ln in child.lines if '"type":"state"' in ln]
    lost = len(emitted - stored)
    detail = (
        f"locked {hold_s:g} s: exit {rc}; {len(emitted)} results emitted, {len(stored)} stored; "
        f"storage_failed reported: {'storage_failed' in states}, resumed: {'storage_resumed' in states}"
    )
    return _outcome("db_locked", child, rc, rc == 0 and lost == 0, None, detail, lost)


def sigterm_slow_frame(model: list[str], work: Path, side: int) -> Fault:
    """SIGTERM while a ``side`` x ``side`` frame is in preprocessing: the run must end within 1 s with the exam
    summarised and the exam log closed. ``reconnect_s`` is not used; ``numbers.stop_s`` is the time to exit."""
    image = big_bmp(work / f"slow_{side}.bmp", side, side)
    db = work / "slow.db"
    db.unlink(missing_ok=True)
    child = Child(
        [
            "run",
            *model,
            "--source",
            str(image),
            "--loop",
            "--threads",
            "1",
            "--max-frame-pixels",
            str(side * side),
            "--exam",
            "SLOW",
            "--db",
            str(db),
            "--jsonl",
            "-",
        ]
    )
    child.wait_line(lambda ln: '"running"' in ln, timeout_s=60)
    time.sleep(1.5)  # the first frame is being preprocessed
    t0 = time.monotonic()
    rc = child.finish(signal.SIGTERM, timeout_s=60)
    stop_s = time.monotonic() - t0
    image.unlink()
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT status FROM exams WHERE exam_id='SLOW'").fetchone()
    conn.close()
    summarised = row == ("closed",)
    detail = f"{side}x{side} frame in flight: exit {rc} after {stop_s:.2f} s; exam summarised: {summarised}"
    return _outcome(
        "sigterm_slow_frame",
        child,
        rc,
        rc == 0 and stop_s <= 1.0 and summarised,
        None,
        detail,
        stop_s=round(stop_s, 3),
        exit_code=rc,
        summarised=summarised,
    )


def run_storage_faults(model: list[str], work: Path, quick: bool, progress: Any) -> list[Fault]:
    """The faults above (quick: no lock, a 4000x4000 slow frame; full: a 14 s lock, 12000x12000)."""
    plan = [
        ("disk_full_examlog", lambda: disk_full(model, work, "exam log", 400, 160 << 10)),
        ("disk_full_jsonl", lambda: disk_full(model, work, "JSONL", 300, 64 << 10)),
        ("sigterm_slow_frame", lambda: sigterm_slow_frame(model, work, 4000 if quick else 12000)),
    ]
    if not quick:
        plan.append(("db_locked", lambda: db_locked(model, work, 14.0)))
    return run_plan(plan, progress)
