"""liveredge.firmware_bridge — framed, checksummed, versioned serial link to the handheld's MCU.

Layers (specification: ``docs/serial-protocol.md``; shared vectors: ``firmware_bridge/vectors.json``):

- ``wire`` COBS + CRC-32, ``messages`` layouts and schema hash, ``codec`` frames ⇄ messages (sans-I/O),
- ``session`` handshake / heartbeats / ACK-retransmit / dedupe / counters (sans-I/O, time passed in),
- ``link`` the pyserial shell (port, reader thread, reconnect), ``runtime`` the hook the edge runtime calls
  (:class:`RuntimeBridge`, :class:`SerialBridge`, :class:`NullBridge`),
- ``emulator`` an MCU on a pty, ``monitor`` readable traffic, ``c/`` the C99 reference codec.

No TensorFlow; importing this package stays cheap (pyserial is imported when a port is opened).
Results carried over the link come from models trained on SIMULATED data and are not for clinical use.
"""

from liveredge.firmware_bridge.codec import DecodeError, Frame, FrameDecoder, decode_frame, encode_frame
from liveredge.firmware_bridge.errors import BridgeValueError, PortError, ScriptError
from liveredge.firmware_bridge.events import (
    Delivered,
    DeliveryFailed,
    Incompatible,
    LinkDown,
    LinkState,
    LinkUp,
    SessionStats,
)
from liveredge.firmware_bridge.link import LinkConfig, SerialLink
from liveredge.firmware_bridge.messages import (
    CLASS_NAMES,
    PROTOCOL_VERSION,
    SCHEMA_HASH,
    Ack,
    Alert,
    AlertCode,
    ExamEnd,
    ExamStart,
    ExamSummary,
    Heartbeat,
    Hello,
    HelloAck,
    MsgType,
    Nack,
    NackReason,
    ProbeEvent,
    ProbeKind,
    Quality,
    Result,
)
from liveredge.firmware_bridge.runtime import InboundEvent, NullBridge, RuntimeBridge, SerialBridge
from liveredge.firmware_bridge.session import Session, SessionConfig

__all__ = [
    "CLASS_NAMES",
    "PROTOCOL_VERSION",
    "SCHEMA_HASH",
    "Ack",
    "Alert",
    "AlertCode",
    "BridgeValueError",
    "DecodeError",
    "Delivered",
    "DeliveryFailed",
    "ExamEnd",
    "ExamStart",
    "ExamSummary",
    "Frame",
    "FrameDecoder",
    "Heartbeat",
    "Hello",
    "HelloAck",
    "InboundEvent",
    "Incompatible",
    "LinkConfig",
    "LinkDown",
    "LinkState",
    "LinkUp",
    "MsgType",
    "Nack",
    "NackReason",
    "NullBridge",
    "PortError",
    "ProbeEvent",
    "ProbeKind",
    "Quality",
    "Result",
    "RuntimeBridge",
    "ScriptError",
    "SerialBridge",
    "SerialLink",
    "Session",
    "SessionConfig",
    "SessionStats",
    "decode_frame",
    "encode_frame",
]
