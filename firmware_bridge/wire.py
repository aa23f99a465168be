"""Byte-level primitives of the serial protocol: COBS and CRC-32.

COBS (Consistent Overhead Byte Stuffing, Cheshire & Baker 1999) turns any byte string into one without 0x00,
so 0x00 delimits frames and a receiver resynchronizes after any damage at the next 0x00. Encoded size is at most
``len(data) + 1 + len(data) // 254``. Neither function adds or strips the 0x00 delimiter.

CRC is CRC-32/ISO-HDLC (the zlib / Ethernet CRC: poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF),
transmitted little-endian. Check value: ``crc32(b"123456789") == 0xCBF43926``.
"""

from __future__ import annotations

import zlib

__all__ = ["cobs_encode", "cobs_decode", "crc32", "cobs_max_encoded"]


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC of ``data`` as an unsigned 32-bit int."""
    return zlib.crc32(data) & 0xFFFFFFFF


def cobs_max_encoded(n: int) -> int:
    """Upper bound of the COBS-encoded size of ``n`` bytes (no delimiter)."""
    return n + 1 + n // 254


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``; the result contains no 0x00 and no trailing delimiter.

    A final run of exactly 254 non-zero bytes ends with code 0xFF and no extra 0x01 block (as cobs-python).
    """
    out = bytearray()
    pos = 0
    n = len(data)
    while True:
        zero = data.find(b"\0", pos, pos + 254)
        if zero >= 0:
            out.append(zero - pos + 1)
            out += data[pos:zero]
            pos = zero + 1
            continue
        end = min(pos + 254, n)
        out.append(end - pos + 1)
        out += data[pos:end]
        if end - pos < 254 or end == n:
            return bytes(out)
        pos = end


def cobs_decode(data: bytes) -> bytes | None:
    """Decode one COBS-encoded frame (without delimiter); ``None`` if it is not valid COBS."""
    out = bytearray()
    pos = 0
    n = len(data)
    while pos < n:
        code = data[pos]
        end = pos + code
        if code == 0 or end > n:
            return None
        chunk = data[pos + 1 : end]
        if b"\0" in chunk:
            return None
        out += chunk
        pos = end
        if code != 0xFF and pos < n:
            out.append(0)
    return bytes(out)
