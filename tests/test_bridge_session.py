"""Session state machine, driven with explicit time: handshake, ACK/retransmit, resets, link-down, counters."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveredge.firmware_bridge.codec import FLAG_ACK_REQUESTED, FLAG_RETRANSMIT, FrameDecoder, encode_frame, encode_raw
from liveredge.firmware_bridge.events import Delivered, Incompatible, LinkDown, LinkState, LinkUp
from liveredge.firmware_bridge.messages import (
    SCHEMA_HASH,
    Ack,
    ExamEnd,
    ExamStart,
    ExamSummary,
    Hello,
    MsgType,
    Nack,
    NackReason,
    ProbeEvent,
    ProbeKind,
    Result,
)
from liveredge.firmware_bridge.rules import Role
from liveredge.firmware_bridge.session import Session, SessionConfig


def _pump(a: Session, b: Session, now: float, rounds: int = 4) -> None:
    for _ in range(rounds):
        b.receive(a.take_output(), now)
        a.receive(b.take_output(), now)


def _pair() -> tuple[Session, Session]:
    host, mcu = Session(SessionConfig(device_id=1)), Session(SessionConfig(device_id=2, role=Role.MCU))
    host.open(0.0)
    mcu.open(0.0)
    _pump(host, mcu, 0.0)
    assert host.state is mcu.state is LinkState.UP
    host.take_events()
    mcu.take_events()
    return host, mcu


def _messages(events: list) -> list:
    return [e for e in events if hasattr(e, "TYPE")]


def test_handshake_exchanges_identity() -> None:
    host, mcu = (
        Session(SessionConfig(device_id=1)),
        Session(SessionConfig(device_id=2, firmware=(3, 4, 5), role=Role.MCU)),
    )
    host.open(0.0)
    mcu.receive(host.take_output(), 0.0)
    host.receive(mcu.take_output(), 0.0)
    (up,) = host.take_events()
    assert isinstance(up, LinkUp) and up.peer.device_id == 2 and (up.peer.fw_major, up.peer.fw_patch) == (3, 5)
    assert mcu.take_events()[0].peer.device_id == 1
    assert host.stats.handshakes == mcu.stats.handshakes == 1


def test_lost_ack_is_retransmitted_and_delivered_once() -> None:
    host, mcu = _pair()
    host.send(ExamSummary(77, 100, 3, 1, 9000, 0), 0.3)
    mcu.receive(host.take_output(), 0.3)
    assert _messages(mcu.take_events()) == [ExamSummary(77, 100, 3, 1, 9000, 0)]
    mcu.take_output()  # the ACK is lost
    host.tick(0.4)
    types = [f.msg_type for f in FrameDecoder().feed(host.take_output())]
    assert MsgType.EXAM_SUMMARY not in types and host.stats.pending == 1  # not yet due
    host.tick(0.55)
    mcu.receive(host.take_output(), 0.55)
    host.receive(mcu.take_output(), 0.55)
    assert _messages(mcu.take_events()) == []  # the retransmit is deduplicated
    assert host.take_events() == [Delivered(int(MsgType.EXAM_SUMMARY), 77)]
    assert host.stats.retransmits == 1 and mcu.stats.duplicates == 1 and host.stats.pending == 0


def test_peer_reset_resynchronizes_and_counts_no_gap() -> None:
    host, mcu = _pair()
    for i in range(3):
        mcu.send(ProbeEvent(6, 0, 100, 50, 1, i, 0), 0.1)
    host.receive(mcu.take_output()[:-5], 0.1)  # the MCU reboots while sending
    rebooted = Session(SessionConfig(device_id=2, role=Role.MCU))
    rebooted.open(0.2)
    _pump(host, rebooted, 0.2)
    rebooted.send(ProbeEvent(1, 1, 100, 50, 1, 0, 5), 0.3)
    host.receive(rebooted.take_output(), 0.3)
    events = host.take_events()
    assert isinstance(events[-2], LinkUp) and events[-1] == ProbeEvent(1, 1, 100, 50, 1, 0, 5)
    assert host.stats.framing_errors + host.stats.crc_errors == 1 and host.stats.sequence_gaps == 0


def test_silence_brings_the_link_down_and_hello_is_retried() -> None:
    host, _ = _pair()
    host.tick(0.5)
    host.take_output()
    host.tick(1.2)
    assert host.state is LinkState.HANDSHAKING
    assert isinstance(host.take_events()[0], LinkDown)
    out = FrameDecoder().feed(host.take_output())
    assert [f.msg_type for f in out] == [MsgType.HELLO]
    host.tick(1.3)
    assert host.take_output() == b""
    host.tick(1.46)
    assert [f.msg_type for f in FrameDecoder().feed(host.take_output())] == [MsgType.HELLO]


def test_pending_survives_reconnect_and_is_not_duplicated() -> None:
    host, mcu = _pair()
    mcu.send(ExamEnd(9, 0), 0.1)
    host.receive(mcu.take_output(), 0.1)
    host.take_output()  # ACK lost: the cable is pulled
    mcu.close(0.2, "unplugged")
    host.close(0.2, "unplugged")
    host.open(0.5)
    mcu.open(0.5)
    _pump(host, mcu, 0.5)
    assert _messages(host.take_events()) == [ExamEnd(9, 0)]
    assert Delivered(int(MsgType.EXAM_END), 9) in mcu.take_events()
    assert host.stats.duplicates == 1 and mcu.stats.pending == 0


def test_incompatible_schema_is_refused() -> None:
    host = Session()
    host.open(0.0)
    host.take_output()
    host.receive(encode_frame(Hello(1, SCHEMA_HASH ^ 1, 256, 5, 1, 0, 0), 0), 0.0)
    assert host.state is LinkState.INCOMPATIBLE
    assert isinstance(host.take_events()[0], Incompatible)
    (nack,) = FrameDecoder().feed(host.take_output())
    assert nack.message == Nack(0, NackReason.INCOMPATIBLE)
    host.receive(encode_raw(2, 0x01, 0, 0, b"\0" * 19), 0.1)
    assert host.stats.version_errors == 1
    refused = Session()
    refused.open(0.0)
    refused.receive(encode_frame(Nack(0, NackReason.INCOMPATIBLE), 0), 0.1)
    assert refused.state is LinkState.INCOMPATIBLE and isinstance(refused.take_events()[0], Incompatible)
    refused.take_output()
    refused.tick(0.9)
    assert refused.take_output() == b""  # HELLO is retried every 1 s, not every 250 ms
    refused.tick(1.01)
    assert [f.msg_type for f in FrameDecoder().feed(refused.take_output())] == [MsgType.HELLO]


def test_sequence_gap_unknown_type_and_dropped_best_effort() -> None:
    host, mcu = _pair()
    for i in range(4):
        mcu.send(ProbeEvent(int(ProbeKind.DEPTH), 0, 100 + i, 50, 1, 0, i), 0.1)  # best effort, MCU -> host
    frames = mcu.take_output().split(b"\0")
    host.receive(b"\0".join(frames[:1] + frames[2:]), 0.1)  # one RESULT lost on the line
    assert host.stats.sequence_gaps == 1 and len(_messages(host.take_events())) == 3
    host.receive(encode_raw(1, 0x7E, 200, 0, b"\x01"), 0.2)
    (nack,) = FrameDecoder().feed(host.take_output())
    assert nack.message == Nack(200, NackReason.UNKNOWN_TYPE)
    lonely = Session()
    assert lonely.send(Result(0, 0, 0, 0, 0), 0.0) is False and lonely.stats.dropped_not_up == 1
    assert lonely.send(ExamStart(1, 0), 0.0) is True and lonely.stats.pending == 1


_DAMAGE = st.one_of(
    st.binary(min_size=1, max_size=60).map(lambda b: b + b"\0"),
    st.integers(1, 20).map(lambda n: encode_frame(Result(1, 2, 3, 4, 5), 9)[:n] + b"\0"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plan=st.lists(st.tuples(st.lists(_DAMAGE, max_size=2), st.booleans()), min_size=1, max_size=10),
    chunk=st.integers(1, 64),
)
def test_session_never_raises_and_accounts_for_damage(plan: list, chunk: int) -> None:
    host, mcu = _pair()
    stream, sent, damaged = bytearray(), [], 0
    for i, (damage, reliable) in enumerate(plan):
        for d in damage:
            stream += d
            damaged += sum(1 for part in d.split(b"\0")[:-1] if part)
        msg = ExamStart(1000 + i, i) if reliable else ProbeEvent(6, 0, 10, 20, 1, i % 256, i)
        mcu.send(msg, 0.1)
        stream += mcu.take_output()
        sent.append(msg)
    for lo in range(0, len(stream), chunk):
        host.receive(bytes(stream[lo : lo + chunk]), 0.1)
    assert _messages(host.take_events()) == sent
    assert host.stats.decode_errors == damaged and host.stats.sequence_gaps == 0
    acks = [f.message for f in FrameDecoder().feed(host.take_output()) if isinstance(f.message, Ack)]
    assert len(acks) == sum(1 for m in sent if isinstance(m, ExamStart))


def test_emulated_handheld_random_actions_are_valid_frames() -> None:
    from liveredge.firmware_bridge.emulator import Handheld

    handheld = Handheld(seed=3)
    host = Session()
    handheld.boot(0.0)
    host.open(0.0)
    _pump(host, handheld.session, 0.0)
    sent = [handheld.random_action(0.01 * i) for i in range(60)]
    host.receive(handheld.take_output(), 0.6)
    got = _messages(host.take_events())
    assert got == sent and host.stats.decode_errors == 0
    assert {type(m) for m in got} == {ProbeEvent, ExamStart, ExamEnd}


def test_the_session_follows_every_receiver_rule_vector() -> None:
    """Each ``rules`` vector: a side that is UP gets the frame and sends exactly ``reply`` (NACK, ACK or nothing)."""
    import json

    from liveredge.firmware_bridge.vectors import VECTORS_PATH

    for rule in json.loads(VECTORS_PATH.read_text())["rules"]:
        side = Session(SessionConfig(role=Role(rule["role"])))
        side.open(0.0)
        side.receive(encode_frame(Hello(1, SCHEMA_HASH, 256, 9, 1, 0, 0), 0), 0.0)
        side.take_output()
        side.take_events()
        side.receive(bytes.fromhex(rule["hex"]), 0.0)
        assert side.take_output().hex() == rule["reply"], rule["name"]
        assert side.state.value == rule["state_after"], rule["name"]
        delivered = _messages(side.take_events())
        assert len(delivered) == (rule["verdict"] in ("deliver", "ack")), rule["name"]
        if "quality_delivered" in rule:
            assert delivered[0].quality_flags == rule["quality_delivered"]


def test_refused_values_are_not_retransmitted_and_busy_backs_off() -> None:
    host, mcu = _pair()
    host.send(ExamSummary(1, 10, 1, 1, 5000, 0), 0.0)
    mcu.receive(host.take_output(), 0.0)
    mcu.take_output()
    host.receive(encode_frame(Nack(1, NackReason.BUSY), 5), 0.05)  # the MCU's queue is full

    def summaries() -> list[int]:
        return [f.flags for f in FrameDecoder().feed(host.take_output()) if f.msg_type == MsgType.EXAM_SUMMARY]

    host.tick(0.25)
    assert summaries() == []  # not at the 200 ms ACK timeout: BUSY asks for 400 ms
    host.tick(0.46)
    assert summaries() == [FLAG_ACK_REQUESTED | FLAG_RETRANSMIT]
    host.receive(encode_frame(Nack(1, NackReason.BAD_PAYLOAD), 6), 0.5)
    assert host.stats.pending == 0 and any(type(e).__name__ == "DeliveryFailed" for e in host.take_events())


def test_wire_clocks_are_the_senders_uptime() -> None:
    from liveredge.firmware_bridge.emulator import Handheld

    mcu = Handheld(seed=3)
    mcu.boot(100.0)
    event = mcu.probe(ProbeKind.FREEZE, 101.5)
    assert event.device_ms == 1500 == mcu.session.uptime_ms(101.5)  # ms since boot, as HEARTBEAT.uptime_ms
