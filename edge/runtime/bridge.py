"""Sink that forwards results to the MCU through a :class:`liveredge.firmware_bridge.RuntimeBridge`, and polls
the MCU's exam start/end events into the pipeline.

Quality bits differ between :class:`liveredge.edge.events.Quality` and the wire's ``messages.Quality``; the map
is :data:`WIRE_QUALITY` (UNVERIFIED_MODEL is wire bit 8, on every RESULT and EXAM_SUMMARY of such a run). Class index:
the wire's fixed code for the label's NAME (``firmware_bridge.messages.CLASS_CODES``: 4 is ``not_liver``), whatever
order the model lists its labels in; a label the wire does not know goes out as 255 ("uncertain"). A
``storage_failed`` state event (a record the exam log or JSONL could not store) is sent as ALERT STORAGE_FAILED
(severity 2). Exam ids on the wire are u32: a numeric ``exam_id`` is sent as is, any other string as its CRC-32.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from liveredge.edge.events import Event, ExamSummary, FrameResult, Quality, StateEvent

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


def wire_quality(quality: Quality) -> int:
    """The wire's u16 quality bit set for runtime flags."""
    return sum(bit for flag, bit in WIRE_QUALITY.items() if flag in quality)


def wire_exam_id(exam_id: str) -> int:
    """u32 exam id for the wire: the number itself when ``exam_id`` is decimal, else CRC-32 of its UTF-8."""
    if exam_id.isdigit() and int(exam_id) < 1 << 32:
        return int(exam_id)
    return zlib.crc32(exam_id.encode("utf-8"))


class BridgeSink:
    """Publishes FrameResult → RESULT and ExamSummary → EXAM_SUMMARY (the bridge queues, never blocks)."""

    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge

    @staticmethod
    def _index(label: str) -> int:
        from liveredge.firmware_bridge.messages import CLASS_CODES

        return CLASS_CODES.get(label, UNCERTAIN_INDEX)

    def emit(self, event: Event) -> None:
        if isinstance(event, FrameResult):
            self.bridge.publish_result(
                frame_seq=event.seq & 0xFFFFFFFF, timestamp_ns=int(event.t_capture * 1e9),
                class_index=self._index(event.label), confidence=min(1.0, max(0.0, event.confidence)),
                quality_flags=wire_quality(event.quality),
            )
        elif isinstance(event, StateEvent) and event.state == "storage_failed":
            self.bridge.publish_alert(STORAGE_FAILED_ALERT, severity=2, detail=0)
        elif isinstance(event, ExamSummary):
            worst = Quality.OK if event.frames_used == event.frames_total else Quality.LOW_CONFIDENCE
            if event.quality_counts.get(Quality.UNVERIFIED_MODEL.name.lower()):  # type: ignore[union-attr]
                worst |= Quality.UNVERIFIED_MODEL
            self.bridge.publish_summary(
                exam_id=wire_exam_id(event.exam_id), frames=event.frames_total,
                uncertain_frames=event.frames_total - event.frames_used, class_index=self._index(event.label),
                confidence=min(1.0, max(0.0, event.confidence)), quality_flags=wire_quality(worst),
            )

    def poll(self, start_exam: Callable[[str], None], end_exam: Callable[[], None]) -> None:
        """Apply the MCU's EXAM_START / EXAM_END events (call regularly from the pipeline)."""
        for event in self.bridge.poll_events():
            name = type(event).__name__
            if name == "ExamStart":
                start_exam(str(event.exam_id))
            elif name == "ExamEnd":
                end_exam()

    def close(self) -> None:
        close = getattr(self.bridge, "close", None)
        if close is not None:
            close()
