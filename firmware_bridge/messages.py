"""Message schema of the serial protocol: type codes, payload layouts, units, schema hash.

Every payload is a fixed sequence of little-endian unsigned integers (no padding, no floats, no strings), so the
C codec can decode it with one width table. Field codes: ``B`` u8, ``H`` u16, ``I`` u32, ``Q`` u64.

Units: ``*_ms`` device uptime milliseconds (u32, wraps after 49.7 days); ``timestamp_ns`` host monotonic
nanoseconds (``time.monotonic_ns()``) when the frame was captured; ``confidence_e4`` confidence × 10000
(0..10000); ``depth_mm`` millimetres; ``gain_db`` decibels 0..100.

Class indices (``class_index``): 0 normal, 1 steatosis, 2 fibrosis, 3 focal_lesion, 4 not_liver (the frame or
exam is not a liver: the MCU should prompt "reposition the probe"), 255 uncertain. Results come from models
trained on SIMULATED data and are not for clinical use.

The schema hash is CRC-32 of :func:`schema_text` (every type code, name and field with its width, and the class
table). Both ends send it in HELLO; a mismatch means the two sides disagree on some layout or on what a class
code means, and the link refuses to come up.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import astuple, dataclass, fields
from typing import ClassVar, TypeAlias

from liveredge.edge.events import CLASSES, NOT_LIVER, UNCERTAIN
from liveredge.firmware_bridge.wire import crc32

PROTOCOL_VERSION = 1

CLASS_NAMES: dict[int, str] = {**dict(enumerate((*CLASSES, NOT_LIVER))), 255: UNCERTAIN}
"""The wire's fixed class codes: 0 normal, 1 steatosis, 2 fibrosis, 3 focal_lesion, 4 not_liver, 255 uncertain
(pinned by SCHEMA_HASH and the vectors; the names come from their one home, ``liveredge.edge.events``)."""
CLASS_CODES: dict[str, int] = {name: code for code, name in CLASS_NAMES.items()}


class MsgType(enum.IntEnum):
    """Message type codes (header byte 1)."""

    HELLO = 0x01
    HELLO_ACK = 0x02
    HEARTBEAT = 0x03
    PROBE_EVENT = 0x10
    EXAM_START = 0x11
    EXAM_END = 0x12
    RESULT = 0x20
    EXAM_SUMMARY = 0x21
    ALERT = 0x22
    ACK = 0x30
    NACK = 0x31


class ProbeKind(enum.IntEnum):
    """PROBE_EVENT.kind: what changed on the probe."""

    FREEZE = 1
    UNFREEZE = 2
    DEPTH = 3
    GAIN = 4
    PRESET = 5
    BUTTON = 6


class AlertCode(enum.IntEnum):
    """ALERT.code."""

    SOURCE_LOST = 1
    MODEL_ERROR = 2
    LOW_QUALITY = 3
    STORAGE_FAILED = 4


class NackReason(enum.IntEnum):
    """NACK.reason."""

    BAD_FRAME = 1
    UNKNOWN_TYPE = 2
    BAD_PAYLOAD = 3
    INCOMPATIBLE = 4
    BUSY = 5


class Quality(enum.IntFlag):
    """RESULT / EXAM_SUMMARY quality_flags bits; bits 9..15 are reserved (send 0, ignore on receipt)."""

    LOW_CONTRAST = 1 << 0
    BLURRED = 1 << 1
    NO_LIVER_REGION = 1 << 2
    SATURATED = 1 << 3
    MOTION = 1 << 4
    FROZEN_IMAGE = 1 << 5
    OUT_OF_DISTRIBUTION = 1 << 6
    LOW_CONFIDENCE = 1 << 7
    UNVERIFIED_MODEL = 1 << 8  # the runtime runs a model without a trusted signed statement (--allow-unverified)


class _Message:
    """Mixin: a payload is the fields packed in declaration order with ``LAYOUT``."""

    TYPE: ClassVar[MsgType]
    LAYOUT: ClassVar[str]

    def pack(self) -> bytes:
        """Payload bytes; raises ``struct.error`` if a field does not fit its width."""
        return struct.pack("<" + self.LAYOUT, *astuple(self))  # type: ignore[call-overload]  # fields are ints (dataclass of the layout)


@dataclass(frozen=True)
class Hello(_Message):
    """HELLO (either side, on open/boot/resync); HELLO_ACK has the same layout (the answer)."""

    TYPE: ClassVar[MsgType] = MsgType.HELLO
    LAYOUT: ClassVar[str] = "BIHQBBH"
    protocol_version: int
    schema_hash: int
    max_frame: int  # largest decoded frame (header + payload + CRC) in bytes the sender accepts
    device_id: int
    fw_major: int
    fw_minor: int
    fw_patch: int


@dataclass(frozen=True)
class HelloAck(Hello):
    """HELLO_ACK: answer to HELLO, carrying the answering side's identity."""

    TYPE: ClassVar[MsgType] = MsgType.HELLO_ACK


@dataclass(frozen=True)
class Heartbeat(_Message):
    """HEARTBEAT: sent every heartbeat interval while the link is up; ``rx_errors`` saturates at 65535."""

    TYPE: ClassVar[MsgType] = MsgType.HEARTBEAT
    LAYOUT: ClassVar[str] = "IH"
    uptime_ms: int
    rx_errors: int


@dataclass(frozen=True)
class ProbeEvent(_Message):
    """PROBE_EVENT (MCU → host): ``kind`` says what changed; the other fields are the full probe state after it."""

    TYPE: ClassVar[MsgType] = MsgType.PROBE_EVENT
    LAYOUT: ClassVar[str] = "BBHBBBI"
    kind: int
    frozen: int  # 0 live, 1 frozen
    depth_mm: int
    gain_db: int
    preset: int
    button: int  # button id for kind BUTTON, else 0
    device_ms: int


@dataclass(frozen=True)
class ExamStart(_Message):
    """EXAM_START (MCU → host, reliable)."""

    TYPE: ClassVar[MsgType] = MsgType.EXAM_START
    LAYOUT: ClassVar[str] = "II"
    exam_id: int
    device_ms: int


@dataclass(frozen=True)
class ExamEnd(_Message):
    """EXAM_END (MCU → host, reliable)."""

    TYPE: ClassVar[MsgType] = MsgType.EXAM_END
    LAYOUT: ClassVar[str] = "II"
    exam_id: int
    device_ms: int


@dataclass(frozen=True)
class Result(_Message):
    """RESULT (host → MCU, best effort): one classified frame."""

    TYPE: ClassVar[MsgType] = MsgType.RESULT
    LAYOUT: ClassVar[str] = "IQBHH"
    frame_seq: int
    timestamp_ns: int
    class_index: int
    confidence_e4: int
    quality_flags: int

    @property
    def confidence(self) -> float:
        """Confidence 0..1."""
        return self.confidence_e4 / 10000.0


@dataclass(frozen=True)
class ExamSummary(_Message):
    """EXAM_SUMMARY (host → MCU, reliable): the exam's overall class."""

    TYPE: ClassVar[MsgType] = MsgType.EXAM_SUMMARY
    LAYOUT: ClassVar[str] = "IIIBHH"
    exam_id: int
    frames: int
    uncertain_frames: int
    class_index: int
    confidence_e4: int
    quality_flags: int


@dataclass(frozen=True)
class Alert(_Message):
    """ALERT (host → MCU, best effort)."""

    TYPE: ClassVar[MsgType] = MsgType.ALERT
    LAYOUT: ClassVar[str] = "BBHQ"
    code: int
    severity: int  # 0 info, 1 warning, 2 critical
    detail: int  # code-specific number (e.g. consecutive low-quality frames)
    timestamp_ns: int


@dataclass(frozen=True)
class Ack(_Message):
    """ACK: the frame ``acked_seq`` of type ``acked_type`` arrived (only reliable types are acknowledged)."""

    TYPE: ClassVar[MsgType] = MsgType.ACK
    LAYOUT: ClassVar[str] = "HB"
    acked_seq: int
    acked_type: int


@dataclass(frozen=True)
class Nack(_Message):
    """NACK: the frame ``nacked_seq`` was refused for ``reason`` (the sender retransmits unless INCOMPATIBLE)."""

    TYPE: ClassVar[MsgType] = MsgType.NACK
    LAYOUT: ClassVar[str] = "HB"
    nacked_seq: int
    reason: int


Message: TypeAlias = (
    Hello | HelloAck | Heartbeat | ProbeEvent | ExamStart | ExamEnd | Result | ExamSummary | Alert | Ack | Nack
)

MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (Hello, HelloAck, Heartbeat, ProbeEvent, ExamStart, ExamEnd, Result, ExamSummary, Alert, Ack, Nack)
}
PAYLOAD_SIZES: dict[int, int] = {t: struct.calcsize("<" + c.LAYOUT) for t, c in MESSAGE_CLASSES.items()}
# Types that are acknowledged and retransmitted until acknowledged; the key deduplicates across reconnects.
RELIABLE_TYPES: frozenset[int] = frozenset({MsgType.EXAM_START, MsgType.EXAM_END, MsgType.EXAM_SUMMARY})


def schema_text() -> str:
    """Canonical text of every message layout (``0xNN NAME field:uN,...`` lines sorted by code), then the class
    table (``classes CODE:name,...`` in ascending code order)."""
    width = {"B": 8, "H": 16, "I": 32, "Q": 64}
    lines = []
    for code in sorted(MESSAGE_CLASSES):
        cls = MESSAGE_CLASSES[code]
        parts = [f"{f.name}:u{width[c]}" for f, c in zip(fields(cls), cls.LAYOUT, strict=True)]
        lines.append(f"0x{code:02x} {MsgType(code).name} " + ",".join(parts))
    lines.append("classes " + ",".join(f"{code}:{name}" for code, name in sorted(CLASS_NAMES.items())))
    return "\n".join(lines) + "\n"


SCHEMA_HASH: int = crc32(schema_text().encode("ascii"))


def unpack_payload(msg_type: int, payload: bytes) -> Message:
    """Build the message of ``msg_type`` from its payload (caller checked type and size)."""
    cls = MESSAGE_CLASSES[msg_type]
    return cls(*struct.unpack("<" + cls.LAYOUT, payload))


def field_values(message: Message) -> list[int]:
    """The message's wire fields in order, as plain ints (what the C test prints)."""
    return [int(v) for v in astuple(message)]


def reliable_key(message: Message) -> tuple[int, int] | None:
    """Deduplication key ``(type, exam_id)`` of a reliable message; ``None`` for best-effort ones."""
    if message.TYPE in RELIABLE_TYPES and isinstance(message, (ExamStart, ExamEnd, ExamSummary)):
        return (int(message.TYPE), int(message.exam_id))
    return None
