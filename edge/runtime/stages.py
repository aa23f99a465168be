"""Stage pipelining on the inference side: the model runs frame N on its own thread while the inference thread
finishes frame N-1 (decisions, record, sinks) and prepares frame N+1 (region check, preprocessing, image gate).

Why: on a multi-core device ``invoke()`` releases the GIL and keeps the cores busy, so everything else done per
frame can hide behind it instead of adding to it (Holoscan's operators on separate threads with bounded
queues; jetson-inference's capture / preprocess / network overlap). The hand-off is bounded: ONE input in the
model at a time (:class:`InvokeWorker`), and the newest frame wins before preprocessing, in the capture mailbox
(:class:`~liveredge.edge.runtime.mailbox.LatestMailbox`), whose ``dropped`` counts what was replaced — no frame
is preprocessed only to be thrown away. All state (region, gate, decisions, exam) stays on the inference
thread; only the interpreter is touched by the model thread, and only between ``start`` and ``wait``.

Results are the same as running the steps back to back (``tests/test_runtime_equivalence.py`` compares every
record). At a paced source (frames further apart than one frame's work) nothing overlaps and the latency is that
of the serial loop; overlap appears when frames queue, e.g. ``--rate max`` replay or a source faster than the
model. :func:`default_threads` / :func:`overlap_by_default` choose by the usable core count.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from liveredge.edge.errors import LiveredgeError, ModelError
from liveredge.edge.events import Quality
from liveredge.edge.interpreter import ClassifierRunner
from liveredge.edge.sources.base import Frame

MAX_DEFAULT_THREADS = 4
"""Interpreter threads chosen by default never exceed this (XNNPACK gains little beyond it on small cores)."""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads(cores: int | None = None) -> int:
    """Interpreter threads when ``--threads`` is not given: one per usable core, at most
    :data:`MAX_DEFAULT_THREADS` (the overlapped preprocessing shares those cores; measured in ``make bench``)."""
    return max(1, min(MAX_DEFAULT_THREADS, usable_cores() if cores is None else cores))


def overlap_by_default(cores: int | None = None) -> bool:
    """Overlap preprocessing with ``invoke()`` when there are at least two usable cores."""
    return (usable_cores() if cores is None else cores) >= 2


@dataclass(frozen=True)
class Staged:
    """A prepared frame: its model input ``x`` (a view of the processor's reused buffer), image flags, media
    time and (taken, input ready) stamps."""

    frame: Frame
    x: np.ndarray
    quality: Quality
    t_media: float | None
    t_taken: float
    t_ready: float


class InvokeWorker:
    """Runs ``runner.invoke()`` on its own thread, one input at a time: :meth:`start` after ``set_input``,
    :meth:`wait` before reading outputs or writing the next input. An error in ``invoke`` is raised by ``wait``."""

    def __init__(self, runner: ClassifierRunner, name: str = "liveredge-invoke") -> None:
        self.runner = runner
        self._requests: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[float, LiveredgeError | None]] = queue.SimpleQueue()
        self.busy = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def start(self) -> None:
        if self.busy:
            raise LiveredgeError("internal: invoke started while the previous one is still running")
        self.busy = True
        self._requests.put(True)

    def wait(self) -> float:
        """Block until the running ``invoke`` is done; its end time (``time.monotonic()``)."""
        t_end, error = self._done.get()
        self.busy = False
        if error is not None:
            raise error
        return t_end

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (after the running ``invoke``, if any); bounded by ``timeout_s``."""
        self._requests.put(False)
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while self._requests.get():
            try:
                self.runner.invoke()
                self._done.put((time.monotonic(), None))
            except LiveredgeError as exc:
                self._done.put((time.monotonic(), exc))
            except Exception as exc:  # noqa: BLE001 - anything else still reaches the inference thread, translated
                self._done.put((time.monotonic(), ModelError(f"model invoke failed: {exc!r}")))
