"""Sink that forwards results to the MCU through a :class:`liveredge.firmware_bridge.RuntimeBridge`, and polls
the MCU's exam start/end events into the pipeline.

Like every other sink it never blocks and never raises into the inference thread: :meth:`BridgeSink.emit` only
queues the event on the sink's own bounded :class:`~liveredge.edge.sinks.base.Worker` (full queue: dropped and
counted), and the worker thread does the conversion and the serial I/O. A bridge error (a value the wire refuses,
a port that fails) is counted, reported once as a ``bridge_error`` state event, and the run goes on.

Quality bits differ between :class:`liveredge.edge.events.Quality` and the wire's ``messages.Quality``; the map
is :data:`WIRE_QUALITY` (UNVERIFIED_MODEL is wire bit 8, on every RESULT and EXAM_SUMMARY of such a run). Class index:
the wire's fixed code for the label's NAME (``firmware_bridge.messages.CLASS_CODES``: 4 is ``not_liver``), whatever
order the model lists its labels in; a label the wire does not know goes out as 255 ("uncertain"), and is reported
once per label as a ``bridge_unknown_label`` state event. A ``storage_failed`` state event (a record the exam log
or JSONL could not store) is sent as ALERT STORAGE_FAILED (severity 2). Exam ids on the wire are u32: a numeric
``exam_id`` is sent as is, any other string as its CRC-32.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from liveredge.edge.events import UNCERTAIN, Event, ExamSummary, FrameResult, Quality, StateEvent
from liveredge.edge.sinks.base import Worker

if TYPE_CHECKING:  # the protocol lives with the bridge; edge imports firmware_bridge only when one is used
    from liveredge.firmware_bridge.runtime import RuntimeBridge as McuBridge

# events.Quality bit -> firmware_bridge.messages.Quality bit
WIRE_QUALITY: dict[Quality, int] = {
    Quality.DARK: 1 << 0,  # LOW_CONTRAST
    Quality.NO_REGION: 1 << 2,  # NO_LIVER_REGION
    Quality.SATURATED: 1 << 3,
    Quality.FROZEN: 1 << 5,  # FROZEN_IMAGE
    Quality.OUT_OF_DISTRIBUTION: 1 << 6,
    Quality.LOW_CONFIDENCE: 1 << 7,
    Quality.UNVERIFIED_MODEL: 1 << 8,
}
UNCERTAIN_INDEX = 255
STORAGE_FAILED_ALERT = 4  # firmware_bridge.messages.AlertCode.STORAGE_FAILED (edge/ does not import the bridge)
CLOSE_TIMEOUT_S = 2.0
"""How long closing waits for queued messages to reach the bridge before it gives up on them."""

StateCallback = Callable[[StateEvent], None]


def wire_quality(quality: Quality) -> int:
    """The wire's u16 quality bit set for runtime flags."""
    return sum(bit for flag, bit in WIRE_QUALITY.items() if flag in quality)


def wire_exam_id(exam_id: str) -> int:
    """u32 exam id for the wire: the number itself when ``exam_id`` is decimal, else CRC-32 of its UTF-8."""
    if exam_id.isdigit() and int(exam_id) < 1 << 32:
        return int(exam_id)
    return zlib.crc32(exam_id.encode("utf-8"))


def wire_class(label: str) -> int:
    """The wire's fixed class code for ``label`` (by name), 255 ("uncertain") for a name the wire does not know."""
    from liveredge.firmware_bridge.messages import CLASS_CODES

    return CLASS_CODES.get(label, UNCERTAIN_INDEX)


def _unit(x: float) -> float:
    return min(1.0, max(0.0, x)) if x == x else 0.0  # NaN -> 0


class BridgeSink:
    """Publishes FrameResult → RESULT and ExamSummary → EXAM_SUMMARY on its own worker thread.

    ``on_state`` (the pipeline's ``post_state``) receives the sink's own alerts: ``bridge_unknown_label`` (once per
    label), ``bridge_error`` (the first failure of the bridge; the count is in :attr:`errors`) and
    ``bridge_dropped`` (the first event dropped because the queue was full; the count is in :attr:`dropped`).
    """

    def __init__(
        self, bridge: McuBridge, *, on_state: StateCallback | None = None, maxsize: int = 256, close_bridge: bool = True
    ) -> None:
        self.bridge = bridge
        self.on_state = on_state
        self.close_bridge = close_bridge
        self._unknown: set[str] = set()
        self._reported: set[str] = set()
        self._worker: Worker[Event] = Worker("bridge sink", self._handle, maxsize=maxsize)

    def emit(self, event: Event) -> None:
        """Queue ``event`` for the worker (never blocks, never raises); a label the wire does not know is reported
        here, on the caller's thread, so the alert is in order with the results."""
        if isinstance(event, (FrameResult, ExamSummary)) and event.label not in self._unknown:
            self._check_label(event.label)
        if not self._worker.submit(event) and not self._worker.closed:
            self._report_once("bridge_dropped", f"MCU link queue full: {self._worker.dropped} events dropped")

    def _handle(self, event: Event) -> None:
        try:
            self._publish(event)
        except Exception as exc:
            self._report_once("bridge_error", f"MCU link: {type(exc).__name__}: {exc}")
            raise  # counted by the worker

    def _publish(self, event: Event) -> None:
        if isinstance(event, FrameResult):
            self.bridge.publish_result(
                frame_seq=event.seq & 0xFFFFFFFF,
                timestamp_ns=max(0, int(event.t_capture * 1e9)),
                class_index=self._index(event.label),
                confidence=_unit(event.confidence),
                quality_flags=wire_quality(event.quality),
            )
        elif isinstance(event, StateEvent) and event.state == "storage_failed":
            self.bridge.publish_alert(STORAGE_FAILED_ALERT, severity=2, detail=0)
        elif isinstance(event, ExamSummary):
            worst = Quality.OK if event.frames_used == event.frames_total else Quality.LOW_CONFIDENCE
            if event.quality_counts.get(Quality.UNVERIFIED_MODEL.name.lower()):
                worst |= Quality.UNVERIFIED_MODEL
            self.bridge.publish_summary(
                exam_id=wire_exam_id(event.exam_id),
                frames=event.frames_total,
                uncertain_frames=event.frames_total - event.frames_used,
                class_index=self._index(event.label),
                confidence=_unit(event.confidence),
                quality_flags=wire_quality(worst),
            )

    @staticmethod
    def _index(label: str) -> int:
        return wire_class(label)

    def _check_label(self, label: str) -> None:
        if wire_class(label) == UNCERTAIN_INDEX and label != UNCERTAIN:
            self._unknown.add(label)
            self._state("bridge_unknown_label", f"label {label!r} has no code on the MCU wire; sent as 255 (uncertain)")

    def _report_once(self, name: str, detail: str) -> None:
        if name not in self._reported:
            self._reported.add(name)
            self._state(name, detail)

    def _state(self, name: str, detail: str) -> None:
        if self.on_state is not None:
            self.on_state(StateEvent(state=name, detail=detail, wall_time=time.time(), t=time.monotonic()))

    def poll(self, start_exam: Callable[[str], None], end_exam: Callable[[], None]) -> None:
        """Apply the MCU's EXAM_START / EXAM_END events (the pipeline calls it between frames; never raises)."""
        try:
            events = list(self.bridge.poll_events())
        except Exception as exc:  # noqa: BLE001 - the MCU link must not end the run
            self._report_once("bridge_error", f"MCU link: {type(exc).__name__}: {exc}")
            return
        from liveredge.firmware_bridge.messages import ExamEnd, ExamStart

        for event in events:
            if isinstance(event, ExamStart):
                start_exam(str(event.exam_id))
            elif isinstance(event, ExamEnd):
                end_exam()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued event reached the bridge; False on timeout."""
        return self._worker.flush(timeout_s)

    @property
    def dropped(self) -> int:
        return self._worker.dropped

    @property
    def errors(self) -> int:
        return self._worker.errors

    def close(self) -> None:
        """Hand what is queued to the bridge (at most :data:`CLOSE_TIMEOUT_S`), then close the bridge (unless it
        was given with ``close_bridge=False``: a link shared by several runs)."""
        self._worker.close(timeout_s=CLOSE_TIMEOUT_S)
        if self.close_bridge:
            self.bridge.close()
