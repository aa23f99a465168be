"""The threaded pipeline: capture thread → one-slot mailbox → inference thread (process) → sinks.

The capture thread only reads the source and posts frames (latest wins; ``backpressure=True`` for offline
``--rate max`` replay waits instead). The calling thread runs :class:`FrameProcessor` and hands each event to the
sinks, which must not block (slow sinks queue on their own threads). State events from a watched source
(:meth:`Pipeline.post_state`, any thread) and exam commands are applied on the inference thread between frames.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from liveredge.edge.bounds import check_exam_id, check_frame
from liveredge.edge.errors import ConfigError, LiveredgeError
from liveredge.edge.events import Event, FrameResult, StateEvent
from liveredge.edge.runtime.cores import pipeline_mode
from liveredge.edge.runtime.mailbox import LatestMailbox
from liveredge.edge.runtime.processor import FrameProcessor
from liveredge.edge.runtime.stages import Staged, StageWorker, advance, direct, stage
from liveredge.edge.sinks import FrameSink, Sink
from liveredge.edge.sources.base import Frame, Source, SourceStatus
from liveredge.edge.sources.watchdog import WatchedSource

MODES = ("serial", "direct", "staged")
"""How the inference side may run (:class:`PipelineConfig` ``mode``)."""

RESET_STATES = frozenset({"source_reconnected", "source_lost", "source_error"})
"""State names after which smoothing and the region estimate start afresh."""


@dataclass(frozen=True)
class PipelineConfig:
    """``read_timeout_s`` per source read; ``backpressure`` (no drops, offline); ``max_frames`` or None;
    ``mode``: how the inference side uses the cores (:mod:`liveredge.edge.runtime.stages`): ``"serial"``,
    ``"direct"`` (checks beside ``invoke()``), ``"staged"`` (also the next frame prepared while the model runs),
    or None = :func:`~liveredge.edge.runtime.cores.pipeline_mode` (staged on 2+ usable cores, else serial)."""

    read_timeout_s: float = 0.25
    backpressure: bool = False
    max_frames: int | None = None
    mode: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in (None, *MODES):
            raise ConfigError(
                f"pipeline mode must be one of {', '.join(MODES)} (or None: by core count), got {self.mode!r}"
            )


@dataclass(frozen=True)
class RunStats:
    """What a run did: frames captured/processed/dropped, how it ended, wall seconds."""

    captured: int
    processed: int
    dropped: int
    end: str
    detail: str
    elapsed_s: float


class ExamPoller(Protocol):
    """Something the pipeline asks, between frames, for exam commands (the MCU link's EXAM_START / EXAM_END)."""

    def poll(self, start_exam: Callable[[str], None], end_exam: Callable[[], None]) -> None: ...


def state(name: str, detail: str) -> StateEvent:
    return StateEvent(state=name, detail=detail, wall_time=time.time(), t=time.monotonic())


class Pipeline:
    """Runs one source through one processor into sinks until the source ends, fails, or :meth:`stop`.

    Sinks that implement :class:`~liveredge.edge.sinks.FrameSink` get ``submit(frame, result, heatmap)`` for frame
    results, the others ``emit``; ``pollers`` are asked for exam commands between frames; ``exam_notes`` (the
    effective configuration) is logged again with every exam start. Usually built by
    :func:`liveredge.edge.runtime.compose`.
    """

    def __init__(
        self,
        source: Source,
        processor: FrameProcessor,
        sinks: Sequence[Sink],
        config: PipelineConfig = PipelineConfig(),
        *,
        pollers: Sequence[ExamPoller] = (),
        exam_notes: str | None = None,
    ) -> None:
        self.source = source
        self.processor = processor
        self.sinks = list(sinks)
        self.config = config
        self.mailbox: LatestMailbox[Frame] = LatestMailbox()
        self._stop = threading.Event()
        self._control: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._end = ("stopped", "")
        self.processed = 0
        self.direct_frames = 0  # frames run latency-first (nothing queued behind them) by the overlapped loop
        self.mode = config.mode or pipeline_mode()
        self.pollers: list[Callable[[], None]] = [partial(p.poll, self.start_exam, self.end_exam) for p in pollers]
        self.exam_notes = exam_notes  # effective configuration, logged again with every exam start
        # each sink with its FrameSink face (None: events only), decided once rather than per result
        self._routes = [(s, s if isinstance(s, FrameSink) else None) for s in self.sinks]

    # --- thread-safe controls ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the run to end (signal handlers call this); returns at once."""
        self._stop.set()
        self.mailbox.close()

    def post_state(self, event: StateEvent) -> None:
        """Forward a state event (e.g. from WatchedSource's callback thread) to the sinks."""
        self._control.put(("state", event))

    def start_exam(self, exam_id: str) -> None:
        """Start exam ``exam_id`` between frames; an id that is not 1..64 printable characters is refused with an
        ``exam_refused`` state event (ids come from stdin, the MCU and the command line)."""
        try:
            check_exam_id(exam_id)
        except ConfigError as exc:
            self._control.put(("state", state("exam_refused", str(exc))))
            return
        self._control.put(("exam_start", exam_id))

    def end_exam(self) -> None:
        self._control.put(("exam_end", None))

    # --- run ----------------------------------------------------------------------------------------------
    def run(self) -> RunStats:
        """Open the source, run until done, close the source; SourceError from open() propagates."""
        t0 = time.monotonic()
        self.source.open()
        self.emit(state("running", f"source {self.source.uri}"))
        capture = threading.Thread(target=self._capture_loop, name="liveredge-capture", daemon=True)
        capture.start()
        try:
            self._inference_loop()
        finally:
            self.stop()
            capture.join(timeout=max(2.0, self.config.read_timeout_s * 4))
            self._apply_controls()
            self.source.close()
        end, detail = self._end
        return RunStats(
            self.mailbox.put_count, self.processed, self.mailbox.dropped, end, detail, time.monotonic() - t0
        )

    def _capture_loop(self) -> None:
        count, limit = 0, self.config.max_frames
        try:
            while not self._stop.is_set():
                result = self.source.read(self.config.read_timeout_s)
                if result.status is SourceStatus.OK and result.frame is not None:
                    check_frame(
                        result.frame.image.shape, f"source {self.source.uri} frame {result.frame.seq}"
                    )  # before any preprocessing touches it
                    self.mailbox.put(result.frame, block=self.config.backpressure)
                    count += 1
                    if limit is not None and count >= limit:
                        self._end = ("max_frames", f"{count} frames")
                        break
                elif result.status is SourceStatus.END:
                    self._end = ("end", result.detail)
                    break
                elif result.status is SourceStatus.ERROR:
                    if isinstance(self.source, WatchedSource) and not self.source.gave_up:
                        continue  # the watchdog is reconnecting and reports its own state events
                    self._end = ("error", result.detail)
                    if not isinstance(self.source, WatchedSource):
                        self.post_state(state("source_error", result.detail))
                    break
        except LiveredgeError as exc:
            self._end = ("error", str(exc))
            self.post_state(state("source_error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug in a source ends the run as an error, never as a clean end
            self._end = ("error", f"unexpected {type(exc).__name__} in the capture thread: {exc}")
            self.post_state(state("source_error", self._end[1]))
        finally:
            self.mailbox.close()

    def _inference_loop(self) -> None:
        if self.mode != "serial":
            self._staged_loop(self.mode == "staged")
            return
        while True:
            self._apply_controls()
            frame = self.mailbox.get(timeout_s=0.05)
            if frame is None:
                if self.mailbox.drained:
                    return
                continue
            result = self.processor.process(frame, time.monotonic(), self._media_time(frame))
            self.processed += 1
            self._deliver(frame, result)

    def _staged_loop(self, stage_queued: bool) -> None:
        """The same steps overlapped (:mod:`liveredge.edge.runtime.stages`): with ``stage_queued``, while the
        source is ahead (a frame is waiting when the loop comes back for one), frame N+1 is prepared and frame N-1
        finished while the model runs frame N on the worker; any other frame runs
        :func:`~liveredge.edge.runtime.stages.direct`. Controls are applied only with no frame in flight, as in
        the serial loop."""
        worker = StageWorker()
        pending: Staged | None = None
        try:
            while True:
                self._poll()
                if pending is not None and not self._control.empty():
                    pending = self._advance(worker, pending, None)
                self._apply_controls(poll=False)
                behind = self.mailbox.waiting  # a frame is already waiting: the source is ahead of us
                frame = self.mailbox.get(timeout_s=0.0 if pending is not None else 0.05)
                if frame is None and pending is None:
                    if self.mailbox.drained:
                        return
                elif frame is None or pending is not None or (stage_queued and (behind or self.mailbox.waiting)):
                    nxt = stage(self.processor, frame, self._media_time(frame)) if frame is not None else None
                    pending = self._advance(worker, pending, nxt)
                else:
                    self._done(frame, direct(self.processor, worker, frame, self._media_time(frame)))
                    self.direct_frames += 1
        finally:
            worker.close()  # bounded; waits for a job still running

    def _advance(self, worker: StageWorker, pending: Staged | None, nxt: Staged | None) -> Staged | None:
        result = advance(self.processor, worker, pending, nxt)
        if pending is not None and result is not None:
            self._done(pending.frame, result)
        return nxt

    def _done(self, frame: Frame, result: FrameResult) -> None:
        self.processed += 1
        self._deliver(frame, result)

    def _media_time(self, frame: Frame) -> float | None:
        """Offline replay (back-pressure): media seconds from the source index and the source's frame rate."""
        fps = self.source.nominal_fps
        return frame.source_index / fps if self.config.backpressure and fps else None

    def _deliver(self, frame: Frame, result: FrameResult) -> None:
        """Results go to ``submit(frame, result, heatmap)`` of frame sinks and ``emit`` of the others."""
        for sink, frame_sink in self._routes:
            if frame_sink is not None:
                frame_sink.submit(frame, result, heatmap=self.processor.last_heatmap)
            else:
                sink.emit(result)

    def _poll(self) -> None:
        for poll in self.pollers:
            poll()

    def _apply_controls(self, poll: bool = True) -> None:
        if poll:
            self._poll()
        while True:
            try:
                kind, value = self._control.get_nowait()
            except queue.Empty:
                return
            if kind == "state":
                if value.state in RESET_STATES:
                    self.processor.reset()
                self.emit(value)
            elif kind == "exam_start":
                summary = self.processor.end_exam()  # a new start closes an exam left open
                if summary is not None:
                    self.emit(summary)
                self.processor.start_exam(value)
                self.emit(state("exam_started", value))
                if self.exam_notes is not None:
                    self.emit(state("config", self.exam_notes))
            elif kind == "exam_end":
                summary = self.processor.end_exam()
                if summary is not None:
                    self.emit(summary)

    def finish(self) -> None:
        """After :meth:`run`: end an open exam (its summary goes to the sinks) and apply pending controls."""
        self.end_exam()
        self._apply_controls()

    def emit(self, event: Event) -> None:
        """Hand one event to every sink (sinks must not block)."""
        for sink in self.sinks:
            sink.emit(event)
