"""Shared plumbing of the reliability suite: case records, running an entry point, outcome classification.

A *crash* is an uncaught exception (a Python traceback on stderr or a non-liveredge exception out of an API),
a death by signal, a hang past the case's time limit, or an exit code outside the documented set {0, 1, 2, 3}.
Every case is recorded as a :class:`Case` (entry point, input, expected outcome, observed exit code/status and
the first line of the message). Everything runs on 127.0.0.1 and local files only; SIMULATED data only.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "liveredge.cli.main"]
DOCUMENTED_EXITS = frozenset({0, 1, 2, 3})
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"}
REFERENCE_MODEL = ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"
FIXTURE_MODEL = ROOT / "tests" / "fixtures" / "tiny_int8.tflite"


@dataclass(frozen=True)
class Case:
    """One bad input through one entry point. ``expected``: what a correct program does ("exit 2",
    "error: DataError", "runs, uncertain", ...); ``observed``: exit code or status; ``ok``: it did."""

    entry: str
    input: str
    expected: str
    observed: str
    message: str
    crash: bool
    ok: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pick_model() -> tuple[Path, list[str], str]:
    """(model path, extra CLI flags, which one): the reference int8 model signed by the packaged release key when
    present (no flags: trusted by default), else the unsigned fixture (``--allow-unverified``)."""
    if Path(str(REFERENCE_MODEL) + ".statement.json").is_file():
        return REFERENCE_MODEL, [], "reference models/zoo/liver_cnn_int8.tflite"
    return FIXTURE_MODEL, ["--allow-unverified"], "fixture tests/fixtures/tiny_int8.tflite (reference model not built)"


def first_line(text: str) -> str:
    """The most telling line of a message: the 'error:' line if any, else the last non-empty one, trimmed."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("INFO:")]
    for line in lines:
        if "error:" in line or "Error" in line.split(":")[0]:
            return line[:240]
    return (lines[-1] if lines else "")[:240]


MEMORY_LIMIT = 2 << 30
"""Address-space limit (RLIMIT_AS) of the hostile-input children: a bomb must be refused, not fit."""


def limit_memory() -> None:
    """preexec_fn: cap the child's address space at :data:`MEMORY_LIMIT`."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(
    entry: str,
    args: list[str],
    input_name: str,
    expected_exits: set[int],
    expected: str,
    *,
    timeout_s: float = 60.0,
    check: Callable[[str, str], str | None] | None = None,
    limit_as: bool = False,
) -> Case:
    """Run ``liveredge ARGS`` as a child; a crash is a traceback, a signal, a hang or an undocumented exit.
    ``check(stdout, stderr)`` may return a reason the outcome is wrong (e.g. a confident label on a black frame);
    ``limit_as``: under a 2 GiB address-space limit."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [*CLI, *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            env=ENV,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            preexec_fn=limit_memory if limit_as else None,
        )
    except subprocess.TimeoutExpired:
        return Case(
            entry,
            input_name,
            expected,
            "hang",
            f"no exit within {timeout_s:g} s",
            True,
            False,
            round(time.monotonic() - t0, 2),
        )
    rc, err = proc.returncode, proc.stderr
    crash = rc < 0 or rc not in DOCUMENTED_EXITS or "Traceback (most recent call last)" in err
    wrong = check(proc.stdout, err) if check is not None and not crash else None
    ok = not crash and rc in expected_exits and wrong is None
    msg = first_line(err) if "Traceback" not in err else "Traceback: " + first_line(err.split("Traceback")[-1])
    if wrong:
        msg = f"{wrong} | {msg}"
    observed = f"signal {-rc}" if rc < 0 else f"exit {rc}"
    return Case(entry, input_name, expected, observed, msg, crash, ok, round(time.monotonic() - t0, 2))


def run_api(
    entry: str,
    call: Callable[[], object],
    input_name: str,
    expected: str,
    *,
    accept_ok: bool = True,
    check: Callable[[object], str | None] | None = None,
) -> Case:
    """Call a Python entry point: a LiveredgeError is a documented failure; any other exception is a crash."""
    from liveredge.edge.errors import LiveredgeError

    t0 = time.monotonic()
    try:
        value = call()
    except LiveredgeError as exc:
        msg = str(exc).splitlines()[0][:240] if str(exc) else ""
        return Case(
            entry,
            input_name,
            expected,
            f"error: {type(exc).__name__}",
            msg,
            False,
            True,
            round(time.monotonic() - t0, 2),
        )
    except Exception as exc:  # noqa: BLE001 - an uncaught third-party exception is exactly what we count
        return Case(
            entry,
            input_name,
            expected,
            f"crash: {type(exc).__name__}",
            str(exc)[:240],
            True,
            False,
            round(time.monotonic() - t0, 2),
        )
    wrong = check(value) if check is not None else None
    observed = "ok" if wrong is None else "wrong"
    return Case(
        entry,
        input_name,
        expected,
        observed,
        wrong or repr_short(value),
        False,
        accept_ok and wrong is None,
        round(time.monotonic() - t0, 2),
    )


def repr_short(value: object) -> str:
    text = getattr(value, "status", None) or type(value).__name__
    return str(text)[:120]


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size in MiB from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")
