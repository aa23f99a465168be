"""Codec: the shared vectors decode as the JSON says, whole and byte by byte; damage never escapes (Hypothesis)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveredge.firmware_bridge import vectors as vectors_module
from liveredge.firmware_bridge.codec import MAX_ENCODED, DecodeError, Frame, FrameDecoder, decode_frame, encode_frame
from liveredge.firmware_bridge.messages import (
    SCHEMA_HASH,
    ExamSummary,
    Heartbeat,
    ProbeEvent,
    Result,
    field_values,
    schema_text,
)
from liveredge.firmware_bridge.wire import cobs_decode, cobs_encode, crc32

VECTORS = json.loads(Path(vectors_module.VECTORS_PATH).read_text())


def _outcome_line(outcome: Frame | DecodeError) -> str:
    if isinstance(outcome, DecodeError):
        return outcome.kind
    return f"ok {outcome.msg_type} {outcome.seq} {outcome.flags} " + ",".join(map(str, field_values(outcome.message)))


def _expected_line(vector: dict) -> str:
    if vector["expect"] != "ok":
        return vector["expect"]
    return f"ok {vector['type']} {vector['seq']} {vector['flags']} " + ",".join(map(str, vector["fields"]))


def test_committed_vectors_are_current() -> None:
    assert vectors_module.VECTORS_PATH.read_text() == vectors_module.render(), "rerun vectors.py"


def test_vectors_cover_every_type_and_every_error_kind() -> None:
    kinds = {v["expect"] for v in VECTORS["vectors"]}
    types = {v["type_name"] for v in VECTORS["vectors"] if v["expect"] == "ok"}
    assert kinds >= {"ok", "crc", "length", "cobs", "unknown_type", "version", "payload_size", "short", "overflow"}
    assert types == {
        "HELLO",
        "HELLO_ACK",
        "HEARTBEAT",
        "PROBE_EVENT",
        "EXAM_START",
        "EXAM_END",
        "RESULT",
        "EXAM_SUMMARY",
        "ALERT",
        "ACK",
        "NACK",
    }
    assert int(VECTORS["schema_hash"], 16) == SCHEMA_HASH == crc32(VECTORS["schema"].encode())
    assert VECTORS["schema"] == schema_text()


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_vector_decodes_whole_and_byte_by_byte(vector: dict) -> None:
    data = bytes.fromhex(vector["hex"])
    assert data.endswith(b"\0") and b"\0" not in data[:-1]
    whole = decode_frame(data[:-1])
    assert _outcome_line(whole) == _expected_line(vector)
    decoder = FrameDecoder()
    outcomes = [o for b in data for o in decoder.feed(bytes([b]))]
    assert [_outcome_line(o) for o in outcomes] == [_expected_line(vector)]
    if vector["expect"] == "ok":
        assert isinstance(whole, Frame) and whole.payload.hex() == vector["payload"]
        assert encode_frame(whole.message, vector["seq"], vector["flags"]) == data


def test_cobs_round_trip_at_block_boundaries() -> None:
    rng = random.Random(7)
    for n in (0, 1, 253, 254, 255, 508, 509, 700):
        for _ in range(20):
            data = bytes(rng.choice((0, 1, 255, rng.randrange(256))) for _ in range(n))
            enc = cobs_encode(data)
            assert b"\0" not in enc and cobs_decode(enc) == data and len(enc) <= n + 1 + n // 254
    assert cobs_encode(b"\x01" * 254) == b"\xff" + b"\x01" * 254
    assert cobs_decode(b"\x05\x01") is None


def test_crc_check_value() -> None:
    assert crc32(b"123456789") == 0xCBF43926


_MESSAGES = st.one_of(
    st.builds(
        Result,
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**64 - 1),
        st.sampled_from([0, 1, 2, 3, 255]),
        st.integers(0, 10000),
        st.integers(0, 0xFFFF),
    ),
    st.builds(Heartbeat, st.integers(0, 2**32 - 1), st.integers(0, 0xFFFF)),
    st.builds(
        ProbeEvent,
        st.integers(1, 6),
        st.integers(0, 1),
        st.integers(0, 300),
        st.integers(0, 100),
        st.integers(0, 9),
        st.integers(0, 8),
        st.integers(0, 2**32 - 1),
    ),
    st.builds(
        ExamSummary,
        st.integers(0, 2**32 - 1),
        st.integers(0, 99999),
        st.integers(0, 999),
        st.sampled_from([0, 1, 2, 3, 255]),
        st.integers(0, 10000),
        st.integers(0, 0xFFFF),
    ),
)


@st.composite
def _damage(draw: st.DrawFn) -> bytes:
    """One chunk of damage; a chunk that may lack its own 0x00 gets one, as a rebooting sender sends."""
    kind = draw(st.sampled_from(["garbage", "truncate", "flip", "overlong"]))
    frame = encode_frame(draw(_MESSAGES), draw(st.integers(0, 0xFFFF)))
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=80)) + b"\0"
    if kind == "truncate":
        return frame[: draw(st.integers(1, len(frame) - 2))] + b"\0"
    if kind == "overlong":
        return bytes([draw(st.integers(1, 255))]) * (MAX_ENCODED + 5) + b"\0"
    data = bytearray(frame)
    flips = draw(
        st.lists(st.tuples(st.integers(0, len(data) - 2), st.integers(0, 7)), min_size=1, max_size=3, unique=True)
    )  # distinct bits: two flips of one bit would cancel out
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    return bytes(data)


def _segments(chunk: bytes) -> int:
    return sum(1 for part in chunk.split(b"\0")[:-1] if part)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(
        st.tuples(st.lists(_damage(), max_size=3), _MESSAGES, st.integers(0, 0xFFFF)), min_size=1, max_size=12
    ),
    cuts=st.lists(st.integers(0, 4000), max_size=30),
)
def test_damage_never_escapes_and_is_counted(items: list, cuts: list[int]) -> None:
    stream = bytearray()
    sent, damaged_segments = [], 0
    for damage, message, seq in items:
        for chunk in damage:
            stream += chunk
            damaged_segments += _segments(chunk)
        stream += encode_frame(message, seq)
        sent.append((message, seq))
    decoder = FrameDecoder()
    outcomes: list[Frame | DecodeError] = []
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        outcomes += decoder.feed(bytes(stream[lo:hi]))
    frames = [(o.message, o.seq) for o in outcomes if isinstance(o, Frame)]
    errors = [o for o in outcomes if isinstance(o, DecodeError)]
    assert frames == sent
    assert len(errors) == damaged_segments
    assert sum(v for k, v in decoder.counts.items() if k != "ok") == damaged_segments
    assert decoder.counts["ok"] == len(sent)
