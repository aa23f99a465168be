"""The interface the edge runtime uses to talk to the handheld's MCU.

The runtime depends only on :class:`RuntimeBridge` (a ``typing.Protocol``) and passes plain values::

    bridge.publish_result(frame_seq=412, timestamp_ns=time.monotonic_ns(), class_index=1,
                          confidence=0.91, quality_flags=0, class_name="steatosis")
    bridge.publish_summary(exam_id=ev.exam_id, frames=1800, uncertain_frames=12, class_index=1,
                           confidence=0.88, quality_flags=0)
    bridge.publish_alert(AlertCode.LOW_QUALITY, severity=1, detail=25)
    for event in bridge.poll_events():      # ProbeEvent | ExamStart | ExamEnd, oldest first
        ...

Values and units:

- ``frame_seq``: the runtime's frame counter (u32, wraps).
- ``timestamp_ns``: capture time, host ``time.monotonic_ns()`` nanoseconds (u64).
- ``class_index``: 0 normal, 1 steatosis, 2 fibrosis, 3 focal_lesion, 4 not_liver, 255 uncertain; ``class_name``, if given,
  must match the index (:data:`CLASS_NAMES`).
- ``confidence``: 0..1 float, sent as round(confidence × 10000).
- ``quality_flags``: bit set, see :class:`~liveredge.firmware_bridge.messages.Quality` (u16).

RESULT and ALERT are best effort (dropped while the link is down; ``publish_*`` returns False); EXAM_SUMMARY
is queued, retransmitted until the MCU acknowledges it, and survives reconnects. A value that does not fit its
wire field raises :class:`BridgeValueError`. Results are from models trained on SIMULATED data, not for
clinical use.

Implementations: :class:`SerialBridge` (on a :class:`~liveredge.firmware_bridge.link.SerialLink`) and
:class:`NullBridge` (no MCU: drops everything, returns no events).
"""

from __future__ import annotations

import time
from typing import Protocol, TypeAlias, runtime_checkable

from liveredge.firmware_bridge.errors import BridgeValueError
from liveredge.firmware_bridge.events import Event, LinkState, SessionStats
from liveredge.firmware_bridge.link import LinkConfig, SerialLink, open_link
from liveredge.firmware_bridge.messages import (
    CLASS_NAMES,
    Alert,
    AlertCode,
    ExamEnd,
    ExamStart,
    ExamSummary,
    ProbeEvent,
    Result,
)
from liveredge.firmware_bridge.session import Session, SessionConfig

InboundEvent: TypeAlias = ProbeEvent | ExamStart | ExamEnd


@runtime_checkable
class RuntimeBridge(Protocol):
    """What the edge runtime needs from the MCU link."""

    def publish_result(
        self,
        *,
        frame_seq: int,
        timestamp_ns: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
        class_name: str | None = None,
    ) -> bool: ...

    def publish_summary(
        self,
        *,
        exam_id: int,
        frames: int,
        uncertain_frames: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
    ) -> bool: ...

    def publish_alert(
        self, code: int, *, severity: int = 1, detail: int = 0, timestamp_ns: int | None = None
    ) -> bool: ...

    def poll_events(self) -> list[InboundEvent]: ...

    def close(self) -> None: ...


def _check(name: str, value: int, bits: int) -> int:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise BridgeValueError(f"{name}={value!r} does not fit an unsigned {bits}-bit field")
    return value


def _class(class_index: int, class_name: str | None) -> int:
    if class_index not in CLASS_NAMES:
        raise BridgeValueError(f"class_index={class_index!r}; valid: {sorted(CLASS_NAMES)} ({CLASS_NAMES})")
    if class_name is not None and CLASS_NAMES[class_index] != class_name:
        raise BridgeValueError(
            f"class_name={class_name!r} does not match class_index {class_index} ({CLASS_NAMES[class_index]!r})"
        )
    return class_index


def _confidence(confidence: float) -> int:
    if not 0.0 <= float(confidence) <= 1.0:
        raise BridgeValueError(f"confidence={confidence!r} must be within 0..1")
    return round(float(confidence) * 10000)


def make_result(
    *,
    frame_seq: int,
    timestamp_ns: int,
    class_index: int,
    confidence: float,
    quality_flags: int = 0,
    class_name: str | None = None,
) -> Result:
    """Validate plain values into a RESULT message."""
    return Result(
        _check("frame_seq", frame_seq, 32),
        _check("timestamp_ns", timestamp_ns, 64),
        _class(class_index, class_name),
        _confidence(confidence),
        _check("quality_flags", quality_flags, 16),
    )


def make_summary(
    *, exam_id: int, frames: int, uncertain_frames: int, class_index: int, confidence: float, quality_flags: int = 0
) -> ExamSummary:
    """Validate plain values into an EXAM_SUMMARY message."""
    return ExamSummary(
        _check("exam_id", exam_id, 32),
        _check("frames", frames, 32),
        _check("uncertain_frames", uncertain_frames, 32),
        _class(class_index, None),
        _confidence(confidence),
        _check("quality_flags", quality_flags, 16),
    )


def make_alert(code: int, *, severity: int = 1, detail: int = 0, timestamp_ns: int | None = None) -> Alert:
    """Validate plain values into an ALERT message (``timestamp_ns`` defaults to now)."""
    if int(code) not in {int(c) for c in AlertCode}:
        raise BridgeValueError(f"alert code={code!r}; valid: {[f'{c.name}={int(c)}' for c in AlertCode]}")
    stamp = time.monotonic_ns() if timestamp_ns is None else timestamp_ns
    if severity not in (0, 1, 2):
        raise BridgeValueError(f"severity={severity!r}; valid: 0 info, 1 warning, 2 critical")
    return Alert(int(code), severity, _check("detail", detail, 16), _check("timestamp_ns", stamp, 64))


class SerialBridge:
    """:class:`RuntimeBridge` over a serial link to the MCU. Link events are kept in :attr:`link_events`."""

    def __init__(self, link: SerialLink) -> None:
        self.link = link
        self.link_events: list[Event] = []

    @classmethod
    def open(
        cls,
        url: str,
        *,
        link_config: LinkConfig | None = None,
        session_config: SessionConfig | None = None,
        wait_s: float = 0.0,
    ) -> SerialBridge:
        """Open ``url`` and start the link thread; ``wait_s`` > 0 waits for the handshake (PortError if none)."""
        return cls(open_link(url, Session(session_config), link_config, wait_s))

    def publish_result(
        self,
        *,
        frame_seq: int,
        timestamp_ns: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
        class_name: str | None = None,
    ) -> bool:
        """Send a RESULT (best effort)."""
        return self.link.send(
            make_result(
                frame_seq=frame_seq,
                timestamp_ns=timestamp_ns,
                class_index=class_index,
                confidence=confidence,
                quality_flags=quality_flags,
                class_name=class_name,
            )
        )

    def publish_summary(
        self,
        *,
        exam_id: int,
        frames: int,
        uncertain_frames: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
    ) -> bool:
        """Queue an EXAM_SUMMARY (reliable: retransmitted until acknowledged)."""
        return self.link.send(
            make_summary(
                exam_id=exam_id,
                frames=frames,
                uncertain_frames=uncertain_frames,
                class_index=class_index,
                confidence=confidence,
                quality_flags=quality_flags,
            )
        )

    def publish_alert(self, code: int, *, severity: int = 1, detail: int = 0, timestamp_ns: int | None = None) -> bool:
        """Send an ALERT (best effort)."""
        return self.link.send(make_alert(code, severity=severity, detail=detail, timestamp_ns=timestamp_ns))

    def poll_events(self) -> list[InboundEvent]:
        """Probe and exam events from the MCU since the last call, oldest first."""
        inbound: list[InboundEvent] = []
        for event in self.link.take_events():
            if isinstance(event, (ProbeEvent, ExamStart, ExamEnd)):
                inbound.append(event)
            else:
                self.link_events.append(event)
        if len(self.link_events) > 10000:  # bounded for long runs: keep the newest half
            del self.link_events[:5000]
        return inbound

    @property
    def link_up(self) -> bool:
        """True while the handshake holds."""
        return self.link.state is LinkState.UP

    @property
    def stats(self) -> SessionStats:
        """Link counters (errors, gaps, retransmits, ...)."""
        return self.link.stats

    def close(self) -> None:
        """Stop the link thread and close the port."""
        self.link.stop()

    def __enter__(self) -> SerialBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullBridge:
    """:class:`RuntimeBridge` for a device without an MCU link: validates, drops, never has events."""

    def publish_result(
        self,
        *,
        frame_seq: int,
        timestamp_ns: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
        class_name: str | None = None,
    ) -> bool:
        make_result(
            frame_seq=frame_seq,
            timestamp_ns=timestamp_ns,
            class_index=class_index,
            confidence=confidence,
            quality_flags=quality_flags,
            class_name=class_name,
        )
        return False

    def publish_summary(
        self,
        *,
        exam_id: int,
        frames: int,
        uncertain_frames: int,
        class_index: int,
        confidence: float,
        quality_flags: int = 0,
    ) -> bool:
        make_summary(
            exam_id=exam_id,
            frames=frames,
            uncertain_frames=uncertain_frames,
            class_index=class_index,
            confidence=confidence,
            quality_flags=quality_flags,
        )
        return False

    def publish_alert(self, code: int, *, severity: int = 1, detail: int = 0, timestamp_ns: int | None = None) -> bool:
        make_alert(code, severity=severity, detail=detail, timestamp_ns=timestamp_ns)
        return False

    def poll_events(self) -> list[InboundEvent]:
        return []

    def close(self) -> None:
        """Nothing to release."""
