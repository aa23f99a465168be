"""Events and counters the session produces (see session.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

from liveredge.firmware_bridge.messages import (
    Alert,
    ExamEnd,
    ExamStart,
    ExamSummary,
    Hello,
    ProbeEvent,
    Result,
)


class LinkState(enum.Enum):
    """Where the session stands."""

    DISCONNECTED = "disconnected"  # no port
    HANDSHAKING = "handshaking"  # HELLO sent, waiting for HELLO / HELLO_ACK
    UP = "up"  # handshake done, frames flow
    INCOMPATIBLE = "incompatible"  # peer speaks another protocol version or schema


@dataclass(frozen=True)
class LinkUp:
    """Handshake completed; ``peer`` is the other side's HELLO / HELLO_ACK."""

    peer: Hello
    at: float


@dataclass(frozen=True)
class LinkDown:
    """The link went down (port lost, peer silent, no ACK)."""

    reason: str
    at: float


@dataclass(frozen=True)
class Incompatible:
    """The peer speaks another protocol version or schema; the link stays down."""

    reason: str


@dataclass(frozen=True)
class Delivered:
    """The peer acknowledged a reliable message."""

    msg_type: int
    exam_id: int


@dataclass(frozen=True)
class DeliveryFailed:
    """A reliable message was dropped (queue full, or the peer refused its type)."""

    msg_type: int
    exam_id: int
    reason: str


Event: TypeAlias = (
    LinkUp
    | LinkDown
    | Incompatible
    | Delivered
    | DeliveryFailed
    | ProbeEvent
    | ExamStart
    | ExamEnd
    | Result
    | ExamSummary
    | Alert
)
AppMessage: TypeAlias = ProbeEvent | ExamStart | ExamEnd | Result | ExamSummary | Alert
APP_MESSAGES = (ProbeEvent, ExamStart, ExamEnd, Result, ExamSummary, Alert)  # for isinstance: the application messages
COUNTER_NAMES: tuple[str, ...] = (
    "frames_rx",
    "frames_tx",
    "crc_errors",
    "framing_errors",
    "version_errors",
    "length_errors",
    "unknown_type",
    "payload_errors",
    "sequence_gaps",
    "retransmits",
    "duplicates",
    "acks_rx",
    "nacks_rx",
    "handshakes",
    "link_downs",
    "dropped_not_up",
    "ignored_not_up",
    "refused",
    "stray_nacks",
)
ERROR_COUNTER = {
    "overflow": "framing_errors",
    "cobs": "framing_errors",
    "short": "framing_errors",
    "crc": "crc_errors",
    "version": "version_errors",
    "length": "length_errors",
    "unknown_type": "unknown_type",
    "payload_size": "payload_errors",
}


@dataclass(frozen=True)
class SessionStats:
    """Counter snapshot. ``sequence_gaps`` counts frames missing between received sequence numbers."""

    counters: dict[str, int]
    state: LinkState
    pending: int

    def __getattr__(self, name: str) -> int:
        try:
            return self.counters[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def decode_errors(self) -> int:
        """Every received segment that failed a check."""
        return sum(self.counters[c] for c in set(ERROR_COUNTER.values()))
