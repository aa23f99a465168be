"""Sans-I/O frame codec: messages ⇄ ``COBS(header | payload | CRC-32) 0x00``.

Decoded frame layout (little-endian)::

    offset  size  field
    0       1     version       PROTOCOL_VERSION (1)
    1       1     type          MsgType
    2       2     seq           per-direction sequence number, wraps at 65536
    4       1     flags         bit0 ACK_REQUESTED, bit1 RETRANSMIT, others 0
    5       2     length        payload length N (must equal the type's fixed size)
    7       N     payload       see messages.py
    7+N     4     crc           CRC-32/ISO-HDLC over bytes 0 .. 7+N-1

:class:`FrameDecoder` takes bytes in any chunking and returns one outcome per non-empty 0x00-delimited segment:
a :class:`Frame` or a :class:`DecodeError`. It never raises on input bytes. Checks run in this order (the C codec
uses the same order): overflow, cobs, short, crc, version, length, unknown_type, payload_size.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass

from liveredge.firmware_bridge.messages import (
    MESSAGE_CLASSES,
    PAYLOAD_SIZES,
    PROTOCOL_VERSION,
    Message,
    unpack_payload,
)
from liveredge.firmware_bridge.wire import cobs_decode, cobs_encode, cobs_max_encoded, crc32

HEADER = struct.Struct("<BBHBH")
HEADER_SIZE = HEADER.size  # 7
CRC_SIZE = 4
MAX_FRAME = 256  # largest decoded frame (header + payload + CRC), bytes
MAX_PAYLOAD = MAX_FRAME - HEADER_SIZE - CRC_SIZE  # 245
MAX_ENCODED = cobs_max_encoded(MAX_FRAME)  # 258, without the delimiter
FLAG_ACK_REQUESTED = 0x01
FLAG_RETRANSMIT = 0x02

ERROR_KINDS: tuple[str, ...] = (
    "overflow",
    "cobs",
    "short",
    "crc",
    "version",
    "length",
    "unknown_type",
    "payload_size",
)


@dataclass(frozen=True)
class Frame:
    """A frame that passed every check; ``message`` is its decoded payload."""

    version: int
    msg_type: int
    seq: int
    flags: int
    payload: bytes
    message: Message


@dataclass(frozen=True)
class DecodeError:
    """A segment that failed a check; ``kind`` is one of :data:`ERROR_KINDS`."""

    kind: str
    detail: str
    version: int | None = None  # the header's version byte, for kind "version"
    seq: int | None = None  # header seq, for CRC-valid frames (kinds version .. payload_size)
    msg_type: int | None = None  # header type, for CRC-valid frames


def encode_raw(version: int, msg_type: int, seq: int, flags: int, payload: bytes, length: int | None = None) -> bytes:
    """Encode a frame from raw parts (``length`` overrides the header length, for test vectors)."""
    header = HEADER.pack(version, msg_type, seq & 0xFFFF, flags, len(payload) if length is None else length)
    body = header + payload
    return cobs_encode(body + struct.pack("<I", crc32(body))) + b"\0"


def encode_frame(message: Message, seq: int, flags: int = 0) -> bytes:
    """Encode ``message`` as one delimited frame with sequence number ``seq``."""
    return encode_raw(PROTOCOL_VERSION, int(message.TYPE), seq, flags, message.pack())


def decode_frame(segment: bytes) -> Frame | DecodeError:
    """Decode one COBS segment (no 0x00 delimiter) into a frame or an error; never raises."""
    if len(segment) > MAX_ENCODED:
        return DecodeError("overflow", f"{len(segment)} encoded bytes > {MAX_ENCODED}")
    raw = cobs_decode(segment)
    if raw is None:
        return DecodeError("cobs", "invalid COBS code byte")
    if len(raw) < HEADER_SIZE + CRC_SIZE:
        return DecodeError("short", f"{len(raw)} bytes < {HEADER_SIZE + CRC_SIZE}")
    body, (crc,) = raw[:-CRC_SIZE], struct.unpack("<I", raw[-CRC_SIZE:])
    if crc32(body) != crc:
        return DecodeError("crc", f"crc {crc:08x} != {crc32(body):08x}")
    version, msg_type, seq, flags, length = HEADER.unpack_from(body)
    seen = {"version": version, "seq": seq, "msg_type": msg_type}
    if version != PROTOCOL_VERSION:
        return DecodeError("version", f"version {version} != {PROTOCOL_VERSION}", **seen)
    payload = body[HEADER_SIZE:]
    if length != len(payload):
        return DecodeError("length", f"header length {length} != {len(payload)} payload bytes", **seen)
    if msg_type not in MESSAGE_CLASSES:
        return DecodeError("unknown_type", f"type 0x{msg_type:02x}", **seen)
    if length != PAYLOAD_SIZES[msg_type]:
        need = PAYLOAD_SIZES[msg_type]
        return DecodeError("payload_size", f"type 0x{msg_type:02x} needs {need} bytes, got {length}", **seen)
    return Frame(version, msg_type, seq, flags, payload, unpack_payload(msg_type, payload))


class FrameDecoder:
    """Streaming decoder: :meth:`feed` bytes in any chunking, get outcomes; counts them in :attr:`counts`.

    ``counts`` keys: ``"ok"`` and every :data:`ERROR_KINDS` entry. Empty segments (0x00 0x00) are ignored.
    Memory is bounded: a segment longer than :data:`MAX_ENCODED` is discarded up to its delimiter.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.counts: Counter[str] = Counter()

    def reset(self) -> None:
        """Drop any partial frame (after a port reopen)."""
        self._buf.clear()
        self._overflow = False

    def feed(self, data: bytes) -> list[Frame | DecodeError]:
        """Consume ``data``; return the outcome of every segment completed by a 0x00 in it."""
        out: list[Frame | DecodeError] = []
        parts = bytes(data).split(b"\0")
        for part in parts[:-1]:
            self._append(part)
            outcome = self._finish()
            if outcome is not None:
                out.append(outcome)
        self._append(parts[-1])
        return out

    def _append(self, part: bytes) -> None:
        if self._overflow or not part:
            return
        if len(self._buf) + len(part) > MAX_ENCODED:
            self._overflow = True
            self._buf.clear()
            return
        self._buf += part

    def _finish(self) -> Frame | DecodeError | None:
        if self._overflow:
            outcome: Frame | DecodeError | None = DecodeError("overflow", f"segment longer than {MAX_ENCODED} bytes")
        elif self._buf:
            outcome = decode_frame(bytes(self._buf))
        else:
            outcome = None
        self.reset()
        if outcome is not None:
            self.counts["ok" if isinstance(outcome, Frame) else outcome.kind] += 1
        return outcome
