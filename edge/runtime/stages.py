"""Overlapping the per-frame steps with ``invoke()`` on the inference side (``PipelineConfig.mode``).

``invoke()`` releases the GIL, so work on another thread can hide behind it (Holoscan's operators on separate
threads with bounded queues; jetson-inference's capture / preprocess / network overlap). Two ways, both with
ONE job on a :class:`StageWorker` at a time:

- :func:`direct` (mode ``"direct"``, and any frame with nothing queued behind it in ``"staged"``): the input is
  made with the settled region, the model runs on the inference thread itself (no thread switch on the latency
  path) and the worker runs the geometry check and the image gate meanwhile; if the geometry moved, the frame is
  redone the serial way;
- :func:`stage` + :func:`advance` (mode ``"staged"``, while the source is ahead): the model runs frame N on the
  worker while the inference thread finishes frame N-1 (decisions, record, sinks) and prepares frame N+1. The
  newest frame wins BEFORE preprocessing, in the capture mailbox
  (:class:`~liveredge.edge.runtime.mailbox.LatestMailbox`, whose ``dropped`` counts what was replaced), so no
  frame is preprocessed only to be thrown away.

All state (region, gate, decisions, exam) belongs to the inference thread; the worker touches the region and
gate only inside a :func:`direct` job, between ``start`` and ``wait``. Results are the same as running the steps
back to back (``tests/test_runtime_equivalence.py`` compares every record in every mode).
:func:`liveredge.edge.runtime.cores.pipeline_mode` picks the default mode from the cores and the model's threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from liveredge.edge.errors import LiveredgeError
from liveredge.edge.events import FrameResult, Quality
from liveredge.edge.runtime.processor import FrameProcessor
from liveredge.edge.sources.base import Frame


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


class StageWorker:
    """Runs one job at a time on its own thread: :meth:`start` a callable, :meth:`wait` for (end time, its
    value). An exception in the job is raised again by ``wait`` on the caller's thread."""

    def __init__(self, name: str = "liveredge-stage") -> None:
        self._jobs: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[float, Any, BaseException | None]] = queue.SimpleQueue()
        self.busy = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def start(self, job: Callable[[], Any]) -> None:
        if self.busy:
            raise LiveredgeError("internal: a stage job was started while the previous one is still running")
        self.busy = True
        self._jobs.put(job)

    def wait(self) -> tuple[float, Any]:
        """Block until the running job is done: its end time (``time.monotonic()``) and return value."""
        t_end, value, error = self._done.get()
        self.busy = False
        if error is not None:
            raise error
        return t_end, value

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (after the running job, if any); bounded by ``timeout_s``."""
        self._jobs.put(None)
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                value = job()
                self._done.put((time.monotonic(), value, None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there unchanged
                self._done.put((time.monotonic(), None, exc))


def stage(processor: FrameProcessor, frame: Frame, t_media: float | None) -> Staged:
    """Prepare ``frame`` completely (region, input, gate); the input waits in the processor's buffer."""
    t_taken = time.monotonic()
    x, quality = processor.prepare(frame.image)
    return Staged(frame, x, quality, t_media, t_taken, time.monotonic())


def advance(
    processor: FrameProcessor, worker: StageWorker, pending: Staged | None, nxt: Staged | None
) -> FrameResult | None:
    """Collect ``pending``'s outputs, start the model on ``nxt`` (if any) on the worker, then finish ``pending``
    (decisions, record) while the model runs. Returns ``pending``'s result (None without one)."""
    if pending is not None:
        t_out, _ = worker.wait()
        outputs = processor.outputs()
    if nxt is not None:
        processor.model.runner.set_input(nxt.x)
        worker.start(processor.model.runner.invoke)
    if pending is None:
        return None
    return processor.finish(
        pending.frame, pending.quality, outputs, (pending.t_taken, pending.t_ready, t_out), pending.t_media
    )


def direct(processor: FrameProcessor, worker: StageWorker, frame: Frame, t_media: float | None) -> FrameResult:
    """One frame with nothing queued behind it, latency first: the input is made with the settled region and
    the model runs on THIS thread, while the worker checks the geometry and the image quality. When the geometry
    moved, the frame is redone the serial way (re-estimate, prepare, invoke), so results never differ."""
    t0 = time.monotonic()
    x = processor.speculate(frame.image)
    if x is None:
        return processor.process(frame, t0, t_media)
    processor.model.runner.set_input(x)
    worker.start(lambda: processor.check(frame.image))
    t1 = time.monotonic()
    processor.model.runner.invoke()
    t2 = time.monotonic()
    _, quality = worker.wait()
    if quality is None:
        return processor.process(frame, t0, t_media)
    return processor.finish(frame, quality, processor.outputs(), (t0, t1, t2), t_media)
