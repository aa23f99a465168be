"""Build the shared test vectors (``firmware_bridge/vectors.json``), the single source of truth for both codecs.

``python -m liveredge.firmware_bridge.vectors`` rewrites the file; a test checks the committed file equals what
this module builds, and that the Python and C decoders give each vector's ``expect`` outcome.

File layout::

    {"protocol_version": 1, "schema_hash": "0x936027bc", "schema": "<schema_text()>",
     "crc": "CRC-32/ISO-HDLC", "max_frame": 256, "max_encoded": 258,
     "vectors": [{"name", "note", "hex" (one frame incl. its 0x00), "expect" ("ok" or an error kind),
                  and for "ok": "type", "type_name", "seq", "flags", "payload" (hex), "fields" (ints in wire order),
                  "message" (field name -> int)}],
     "rules": [{"name", "note", "role" ("host" | "mcu": the receiving side), "hex" (a CRC-valid frame),
                "verdict" (``rules.VERDICTS``), "reply" (hex: what a side that is UP, having answered the peer's
                HELLO with HELLO_ACK seq 0, sends back), "state_after" ("up"), and for delivered RESULT /
                EXAM_SUMMARY "quality_delivered" (reserved bits cleared)}]}
"""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from liveredge.firmware_bridge.codec import (
    FLAG_ACK_REQUESTED,
    FLAG_RETRANSMIT,
    MAX_ENCODED,
    MAX_FRAME,
    Frame,
    decode_frame,
    encode_frame,
    encode_raw,
)
from liveredge.firmware_bridge.messages import (
    PROTOCOL_VERSION,
    SCHEMA_HASH,
    Ack,
    Alert,
    ExamEnd,
    ExamStart,
    ExamSummary,
    Heartbeat,
    Hello,
    HelloAck,
    Message,
    MsgType,
    Nack,
    ProbeEvent,
    Result,
    field_values,
    schema_text,
)
from liveredge.firmware_bridge.wire import cobs_encode, crc32

VECTORS_PATH = Path(__file__).with_name("vectors.json")

VALID: tuple[tuple[str, Message, int, int], ...] = (
    ("hello", Hello(1, SCHEMA_HASH, 256, 0x0123456789ABCDEF, 1, 2, 300), 0, 0),
    ("hello_ack", HelloAck(1, SCHEMA_HASH, 256, 0, 0, 1, 0), 0, 0),
    ("heartbeat", Heartbeat(123456, 0), 17, 0),
    ("heartbeat_max", Heartbeat(0xFFFFFFFF, 0xFFFF), 0xFFFF, 0),
    ("probe_freeze", ProbeEvent(1, 1, 160, 50, 2, 0, 1000), 3, 0),
    ("probe_button", ProbeEvent(6, 0, 0, 0, 0, 3, 0), 4, 0),
    ("exam_start", ExamStart(0xDEADBEEF, 5000), 5, FLAG_ACK_REQUESTED),
    ("exam_end", ExamEnd(0xDEADBEEF, 65000), 6, FLAG_ACK_REQUESTED | FLAG_RETRANSMIT),
    ("result", Result(42, 1_234_567_890_123, 1, 9137, 0x0005), 7, 0),
    ("result_uncertain", Result(0, 0, 255, 0, 0x0080), 8, 0),
    ("exam_summary", ExamSummary(0xDEADBEEF, 1800, 12, 2, 8800, 0x0001), 9, FLAG_ACK_REQUESTED),
    ("alert_source_lost", Alert(1, 2, 0, 987_654_321), 10, 0),
    ("alert_low_quality", Alert(3, 1, 25, 5_000_000_000), 11, 0),
    ("ack", Ack(9, int(MsgType.EXAM_SUMMARY)), 12, 0),
    ("nack", Nack(9, 1), 13, 0),
    ("result_not_liver", Result(43, 1_234_600_000_000, 4, 9600, 0x0040), 14, 0),  # gate fired: OUT_OF_DISTRIBUTION
    ("exam_summary_not_liver", ExamSummary(0xCAFE0001, 90, 88, 4, 9778, 0x0000), 15, FLAG_ACK_REQUESTED),
)


def _result_body(version: int = PROTOCOL_VERSION, msg_type: int = 0x20, length: int | None = None) -> bytes:
    payload = Result(42, 1_234_567_890_123, 1, 9137, 5).pack()
    header = struct.pack("<BBHBH", version, msg_type, 7, 0, len(payload) if length is None else length)
    return header + payload


def _with_crc(body: bytes, delta: int = 0) -> bytes:
    return cobs_encode(body + struct.pack("<I", (crc32(body) ^ delta) & 0xFFFFFFFF)) + b"\0"


def _invalid() -> list[tuple[str, str, bytes]]:
    good = encode_frame(Result(42, 1_234_567_890_123, 1, 9137, 5), 7)
    return [
        ("bad_crc", "RESULT whose CRC has one bit flipped", _with_crc(_result_body(), 0x00000100)),
        ("bad_length", "RESULT whose header says 16 payload bytes, 17 follow", _with_crc(_result_body(length=16))),
        ("truncated_tail", "RESULT missing its last 3 encoded bytes", good[:-4] + b"\0"),
        ("truncated_head", "only the first 6 encoded bytes of a RESULT", good[:6] + b"\0"),
        ("unknown_type", "type 0x7f with a valid CRC", encode_raw(1, 0x7F, 1, 0, b"\x01\x02\x03\x04")),
        ("wrong_version", "RESULT with protocol version 2", _with_crc(_result_body(version=2))),
        ("payload_size", "HEARTBEAT with 7 payload bytes", encode_raw(1, 0x03, 1, 0, b"\x01" * 7)),
        ("bad_cobs", "COBS code byte points past the end", b"\x05\x01\x02\0"),
        ("too_short", "valid COBS, 5 decoded bytes", cobs_encode(b"\x01\x20\x00\x00\x00") + b"\0"),
        ("overflow", f"{MAX_ENCODED + 42} bytes before the delimiter", b"\x01" * (MAX_ENCODED + 42) + b"\0"),
    ]


def _valid_entry(name: str, message: Message, seq: int, flags: int) -> dict[str, Any]:
    data = encode_frame(message, seq, flags)
    return {
        "name": name,
        "note": f"valid {message.TYPE.name}",
        "hex": data.hex(),
        "expect": "ok",
        "type": int(message.TYPE),
        "type_name": message.TYPE.name,
        "seq": seq,
        "flags": flags,
        "payload": message.pack().hex(),
        "fields": field_values(message),
        "message": asdict(message),
    }


RULES: tuple[tuple[str, str, str, Message, int, int], ...] = (
    (
        "host_refuses_result",
        "a RESULT sent to the host (wrong direction)",
        "host",
        Result(42, 1_234_567_890_123, 1, 9137, 5),
        3,
        0,
    ),
    (
        "mcu_refuses_exam_start",
        "an EXAM_START sent to the MCU (wrong direction): NACK, no ACK",
        "mcu",
        ExamStart(7, 100),
        3,
        FLAG_ACK_REQUESTED,
    ),
    ("mcu_refuses_class_9", "RESULT class_index 9 (not in the class table)", "mcu", Result(1, 2, 9, 5000, 0), 3, 0),
    ("mcu_refuses_confidence", "RESULT confidence_e4 10001", "mcu", Result(1, 2, 1, 10001, 0), 3, 0),
    (
        "mcu_refuses_summary_counts",
        "EXAM_SUMMARY uncertain_frames > frames",
        "mcu",
        ExamSummary(5, 10, 11, 1, 5000, 0),
        3,
        FLAG_ACK_REQUESTED,
    ),
    ("mcu_refuses_severity", "ALERT severity 3", "mcu", Alert(1, 3, 0, 5), 3, 0),
    ("host_refuses_frozen_2", "PROBE_EVENT frozen 2", "host", ProbeEvent(1, 2, 160, 50, 1, 0, 10), 3, 0),
    (
        "host_refuses_probe_kind",
        "PROBE_EVENT kind 9 (not a ProbeKind)",
        "host",
        ProbeEvent(9, 0, 160, 50, 1, 0, 10),
        3,
        0,
    ),
    (
        "mcu_clears_reserved_quality",
        "RESULT with reserved quality bits 9..15 set: delivered with them cleared",
        "mcu",
        Result(1, 2, 1, 5000, 0xFE05),
        3,
        0,
    ),
    (
        "mcu_no_ack_for_result",
        "RESULT with ACK_REQUESTED: delivered, never acknowledged",
        "mcu",
        Result(1, 2, 255, 0, 0),
        3,
        FLAG_ACK_REQUESTED,
    ),
    (
        "mcu_acks_summary_without_flag",
        "EXAM_SUMMARY without ACK_REQUESTED: acknowledged all the same",
        "mcu",
        ExamSummary(6, 10, 1, 2, 8000, 0),
        3,
        0,
    ),
    ("host_acks_exam_start", "EXAM_START to the host: ACK", "host", ExamStart(8, 100), 3, FLAG_ACK_REQUESTED),
    ("host_delivers_probe_event", "PROBE_EVENT to the host", "host", ProbeEvent(3, 0, 120, 50, 1, 0, 10), 3, 0),
    (
        "host_ignores_stray_incompatible",
        "NACK(INCOMPATIBLE) naming seq 5 while UP: not an answer to our HELLO, counted and ignored (the link stays up)",
        "host",
        Nack(5, 4),
        3,
        0,
    ),
)


def _rule_entry(name: str, note: str, role: str, message: Message, seq: int, flags: int) -> dict[str, Any]:
    from liveredge.firmware_bridge.rules import Role, cleaned, verdict
    from liveredge.firmware_bridge.session import Session, SessionConfig

    data = encode_frame(message, seq, flags)
    frame = decode_frame(data[:-1])
    assert isinstance(frame, Frame)
    side = Session(SessionConfig(role=Role(role)))
    side.open(0.0)
    side.receive(encode_frame(Hello(1, SCHEMA_HASH, 256, 9, 1, 0, 0), 0), 0.0)  # the peer's HELLO: we are UP
    side.take_output()
    side.receive(data, 0.0)
    entry: dict[str, Any] = {
        "name": name,
        "note": note,
        "role": role,
        "hex": data.hex(),
        "verdict": verdict(Role(role), frame),
        "reply": side.take_output().hex(),
        "state_after": side.state.value,
    }
    delivered = cleaned(message)
    if entry["verdict"] == "deliver" and isinstance(delivered, (Result, ExamSummary)):
        entry["quality_delivered"] = delivered.quality_flags
    return entry


def build_vectors() -> dict[str, Any]:
    """The whole vector document (deterministic)."""
    vectors = [_valid_entry(*v) for v in VALID]
    for name, note, data in _invalid():
        outcome = decode_frame(data[:-1])
        kind = "ok" if isinstance(outcome, Frame) else outcome.kind
        vectors.append({"name": name, "note": note, "hex": data.hex(), "expect": kind})
    return {
        "protocol_version": PROTOCOL_VERSION,
        "schema_hash": f"0x{SCHEMA_HASH:08x}",
        "schema": schema_text(),
        "crc": "CRC-32/ISO-HDLC",
        "max_frame": MAX_FRAME,
        "max_encoded": MAX_ENCODED,
        "vectors": vectors,
        "rules": [_rule_entry(*r) for r in RULES],
    }


def render() -> str:
    """The vector file's exact text."""
    return json.dumps(build_vectors(), indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) ``vectors.json``."""
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        same = VECTORS_PATH.exists() and VECTORS_PATH.read_text() == render()
        print("vectors.json is current" if same else "vectors.json is stale: rerun without --check")
        return 0 if same else 1
    VECTORS_PATH.write_text(render())
    print(f"wrote {VECTORS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
