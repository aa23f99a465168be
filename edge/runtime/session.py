"""One run from start to a clean end, responsive to SIGINT/SIGTERM whatever the frame in flight.

Python runs signal handlers on the main thread only, between bytecodes: a main thread inside a long OpenCV or
interpreter call (a 12000x12000 frame took > 30 s) does not see SIGTERM, and systemd kills the process mid-exam.
So :func:`run_session` runs the pipeline (capture and inference) on worker threads and keeps the main thread
waiting on an event: a signal stops the pipeline at once; when the frame in flight does not finish within
``grace_s`` it is abandoned (its thread is a daemon), and the open exam is still summarised, the ``stopped``
state emitted and every sink closed (:func:`~liveredge.edge.sinks.close_sinks`), well within a second; the
caller then ends the process with :func:`hard_exit` (a normal exit would run C++ destructors under that thread).

An exception out of the pipeline never ends a run silently: the open exam is summarised, ``stopped`` emitted and
the sinks closed first; a :class:`~liveredge.edge.errors.LiveredgeError` (a source that cannot open) then
propagates (the CLI prints it and exits with its code), any other exception (a bug) ends the run with
``RunStats.end == "error"`` and a detail naming the exception and where it was raised.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from liveredge.edge.errors import LiveredgeError
from liveredge.edge.runtime.pipeline import Pipeline, RunStats, state
from liveredge.edge.sinks.closing import Closed, close_sinks

GRACE_S = 0.3
"""How long a frame in flight may take after a stop signal before it is abandoned."""


@dataclass(frozen=True)
class SessionEnd:
    """How the run ended: its stats, what closing the sinks found, the signal that stopped it (if any), and whether
    a frame still in processing was abandoned."""

    stats: RunStats
    closed: Closed
    signal: str | None
    abandoned: bool


def run_session(pipe: Pipeline, sinks: Sequence[Any], *, grace_s: float = GRACE_S) -> SessionEnd:
    """Run ``pipe`` to its end or to SIGINT/SIGTERM, summarise the open exam, emit ``stopped``, close ``sinks``.
    A LiveredgeError out of the pipeline (a source that cannot open) propagates after that; any other exception
    ends the run as ``end == "error"`` (see the module docstring)."""
    received: list[str] = []
    done = threading.Event()
    box: dict[str, Any] = {}

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        pipe.stop()
        done.set()

    def work() -> None:
        try:
            box["stats"] = pipe.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, re-raised there
            box["error"] = exc
        finally:
            done.set()

    t0 = time.monotonic()
    previous = _install(on_signal)
    worker = threading.Thread(target=work, name="liveredge-inference", daemon=True)
    try:
        worker.start()
        while not done.wait(0.1):
            pass
        worker.join(timeout=grace_s if received else None)
        return _finish(pipe, sinks, box, received, worker.is_alive(), t0)
    except BaseException:
        close_sinks(sinks)
        raise
    finally:
        _restore(previous)


def _finish(
    pipe: Pipeline, sinks: Sequence[Any], box: dict[str, Any], received: list[str], abandoned: bool, t0: float
) -> SessionEnd:
    error = box.get("error")
    if error is not None and (isinstance(error, LiveredgeError) or not isinstance(error, Exception)):
        _wrap_up(pipe, f"error: {error}")
        raise error
    stats = box.get("stats")
    if error is not None:
        stats = RunStats(
            pipe.mailbox.put_count,
            pipe.processed,
            pipe.mailbox.dropped,
            "error",
            unexpected(error),
            time.monotonic() - t0,
        )
    elif stats is None:  # the worker is still inside a frame: stop without it
        stats = RunStats(
            pipe.mailbox.put_count,
            pipe.processed,
            pipe.mailbox.dropped,
            "stopped",
            f"{received[0]}: stopped with a frame still in processing (abandoned)",
            time.monotonic() - t0,
        )
    elif received and stats.end == "stopped":
        stats = RunStats(stats.captured, stats.processed, stats.dropped, "stopped", received[0], stats.elapsed_s)
    _wrap_up(pipe, f"{stats.end}: {stats.detail}; processed {stats.processed}, dropped {stats.dropped}")
    return SessionEnd(stats, close_sinks(sinks), received[0] if received else None, abandoned)


def _wrap_up(pipe: Pipeline, detail: str) -> None:
    """Summarise the open exam and emit ``stopped`` (a failure here must not hide the run's own outcome)."""
    try:
        pipe.finish()
    except Exception as exc:  # noqa: BLE001 - reported in the stopped state instead
        detail += f"; the open exam could not be summarised: {unexpected(exc)}"
    pipe.emit(state("stopped", detail))


def unexpected(exc: BaseException) -> str:
    """One line naming an unexpected exception and the innermost place it was raised."""
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ is not None else []
    place = f" at {where[0].filename}:{where[0].lineno}" if where else ""
    return f"unexpected {type(exc).__name__}: {exc}{place}"


def hard_exit(code: int) -> None:
    """End the process now with ``code`` (after :func:`run_session` closed every sink): used when a frame was
    abandoned, because C++ static destructors (OpenCV, LiteRT) running under a thread still inside them call
    ``std::terminate`` (SIGABRT) on a normal interpreter exit."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _install(handler: Any) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
