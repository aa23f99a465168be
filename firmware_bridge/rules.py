"""Receiver rules for CRC-valid frames (docs/serial-protocol.md §9.1, protocol 1 revision 2), sans I/O.

What a side does with a decoded frame depends on its role (host or MCU) and the frame alone::

    verdict(Role.HOST, frame) -> "control" | "deliver" | "ack" | "nack_unknown_type" | "nack_bad_payload"

- ``control``: HELLO, HELLO_ACK, HEARTBEAT, ACK, NACK — handled by the session state machine (§6, §7, §9).
- Direction (§3): an application type sent the wrong way (a RESULT arriving at the host, an EXAM_START at the MCU)
  is refused with ``NACK(seq, UNKNOWN_TYPE)`` — "this end never accepts this type" — and not delivered.
- Values (§4, §5): a field outside its defined range (``class_index`` not in the class table, ``confidence_e4`` >
  10000, ``uncertain_frames`` > ``frames``, ALERT ``severity`` > 2, PROBE_EVENT ``frozen`` > 1 or an unknown
  ``kind``) is refused with ``NACK(seq, BAD_PAYLOAD)`` and not delivered. Reserved ``quality_flags`` bits 9..15 are
  not an error: they are cleared on receipt (:func:`cleaned`).
- ``ack``: a reliable type (EXAM_START, EXAM_END, EXAM_SUMMARY) is acknowledged and delivered once, whether or not
  its ``ACK_REQUESTED`` flag is set; ``deliver``: any other application type is delivered and never acknowledged,
  even with ``ACK_REQUESTED`` set.

The C reference codec implements the same table (``lrb_receive_verdict`` in ``c/lrb.c``); the vectors' ``rules``
entries pin both.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TypeVar

from liveredge.firmware_bridge.codec import Frame
from liveredge.firmware_bridge.messages import (
    CLASS_NAMES,
    RELIABLE_TYPES,
    Alert,
    ExamSummary,
    Message,
    MsgType,
    NackReason,
    ProbeEvent,
    ProbeKind,
    Result,
)

M = TypeVar("M", bound=Message)

MAX_CONFIDENCE_E4 = 10000
RESERVED_QUALITY_BITS = 0xFE00
"""quality_flags bits 9..15: send 0, cleared on receipt."""


class Role(enum.Enum):
    """Which end of the link a session is."""

    HOST = "host"
    MCU = "mcu"


CONTROL_TYPES = frozenset({MsgType.HELLO, MsgType.HELLO_ACK, MsgType.HEARTBEAT, MsgType.ACK, MsgType.NACK})
ACCEPTED: dict[Role, frozenset[MsgType]] = {
    Role.HOST: frozenset({MsgType.PROBE_EVENT, MsgType.EXAM_START, MsgType.EXAM_END}),  # what the MCU sends
    Role.MCU: frozenset({MsgType.RESULT, MsgType.EXAM_SUMMARY, MsgType.ALERT}),  # what the host sends
}
VERDICTS = ("control", "deliver", "ack", "nack_unknown_type", "nack_bad_payload")
NACK_OF_VERDICT = {"nack_unknown_type": NackReason.UNKNOWN_TYPE, "nack_bad_payload": NackReason.BAD_PAYLOAD}


def value_problem(message: Message) -> str | None:
    """Why a message's field values are outside their defined ranges, or None when they are in range."""
    if isinstance(message, (Result, ExamSummary)):
        if message.class_index not in CLASS_NAMES:
            return f"class_index {message.class_index} is not in the class table"
        if message.confidence_e4 > MAX_CONFIDENCE_E4:
            return f"confidence_e4 {message.confidence_e4} > {MAX_CONFIDENCE_E4}"
    if isinstance(message, ExamSummary) and message.uncertain_frames > message.frames:
        return f"uncertain_frames {message.uncertain_frames} > frames {message.frames}"
    if isinstance(message, Alert) and message.severity > 2:
        return f"severity {message.severity} > 2"
    if isinstance(message, ProbeEvent):
        if message.frozen > 1:
            return f"frozen {message.frozen} is not 0 or 1"
        if message.kind not in {int(k) for k in ProbeKind}:
            return f"kind {message.kind} is not a ProbeKind"
    return None


def verdict(role: Role, frame: Frame) -> str:
    """What a ``role`` side does with a CRC-valid ``frame`` (one of :data:`VERDICTS`)."""
    msg_type = MsgType(frame.msg_type)
    if msg_type in CONTROL_TYPES:
        return "control"
    if msg_type not in ACCEPTED[role]:
        return "nack_unknown_type"
    if value_problem(frame.message) is not None:
        return "nack_bad_payload"
    return "ack" if msg_type in RELIABLE_TYPES else "deliver"


def cleaned(message: M) -> M:
    """``message`` with the reserved quality bits cleared (RESULT, EXAM_SUMMARY); others unchanged."""
    if isinstance(message, (Result, ExamSummary)) and message.quality_flags & RESERVED_QUALITY_BITS:
        return dataclasses.replace(message, quality_flags=message.quality_flags & ~RESERVED_QUALITY_BITS & 0xFFFF)
    return message
