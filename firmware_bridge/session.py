"""Sans-I/O session state machine: handshake, heartbeats, link-down, ACK/retransmit, dedupe, counters.

The session owns no port, thread or clock. The shell feeds it received bytes and the time (``now``: monotonic
seconds as a float), and takes the bytes to write and the events it produced::

    session.open(now)                 # port (re)opened: flush + HELLO
    session.receive(data, now)        # bytes from the port, any chunking; never raises on content
    session.send(message, now)        # queue/transmit an application message
    session.tick(now)                 # timers: HELLO retry, heartbeat, link timeout, retransmits
    out = session.take_output()       # bytes to write to the port
    events = session.take_events()    # LinkUp / LinkDown / Incompatible / Delivered / DeliveryFailed / messages
    session.close(now, reason)        # port lost

Both ends run the same machine (host and MCU emulator). Reliable types (EXAM_START, EXAM_END, EXAM_SUMMARY)
carry ACK_REQUESTED, are retransmitted every ``ack_timeout_s`` with the same seq until an ACK names that seq and
type, survive reconnects (re-sent with new seqs after the next handshake) and are delivered once per
``(type, exam_id)`` by the receiver. What a side accepts depends on its ``role`` (:mod:`.rules`: direction and
value checks, answered with NACK); a NACK(INCOMPATIBLE) only counts while our HELLO is outstanding.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from liveredge.firmware_bridge.codec import (
    FLAG_ACK_REQUESTED,
    FLAG_RETRANSMIT,
    MAX_FRAME,
    DecodeError,
    Frame,
    FrameDecoder,
    encode_frame,
)
from liveredge.firmware_bridge.events import (
    APP_MESSAGES,
    COUNTER_NAMES,
    ERROR_COUNTER,
    AppMessage,
    Delivered,
    DeliveryFailed,
    Event,
    Incompatible,
    LinkDown,
    LinkState,
    LinkUp,
    SessionStats,
)
from liveredge.firmware_bridge.messages import (
    PROTOCOL_VERSION,
    SCHEMA_HASH,
    Ack,
    Heartbeat,
    Hello,
    HelloAck,
    Message,
    Nack,
    NackReason,
    reliable_key,
)
from liveredge.firmware_bridge.rules import NACK_OF_VERDICT, Role, cleaned, verdict


@dataclass(frozen=True)
class SessionConfig:
    """Timers in seconds; identity goes into our HELLO / HELLO_ACK."""

    device_id: int = 0
    firmware: tuple[int, int, int] = (0, 1, 0)
    role: Role = Role.HOST
    busy_backoff_s: float = 0.4  # after NACK(BUSY): wait this long before sending the refused message again
    heartbeat_interval_s: float = 0.25
    link_timeout_s: float = 1.0  # no valid frame for this long while UP -> link down, re-handshake
    hello_retry_s: float = 0.25
    ack_timeout_s: float = 0.2
    max_retransmits: int = 10  # then the link is declared down and re-handshaken (the message stays queued)
    max_pending: int = 32
    dedupe_window: int = 256


@dataclass
class _Pending:
    message: Message
    key: tuple[int, int]
    seq: int = -1
    sent_at: float | None = None
    attempts: int = 0


@dataclass
class _Timers:
    last_rx: float = 0.0
    last_hello: float = float("-inf")
    last_heartbeat: float = float("-inf")
    started: float | None = None


class Session:
    """One end of the link; see the module docstring for the calling pattern."""

    def __init__(self, config: SessionConfig | None = None) -> None:
        self.config = config or SessionConfig()
        self.state = LinkState.DISCONNECTED
        self._decoder = FrameDecoder()
        self._out = bytearray()
        self._events: list[Event] = []
        self._tx_seq = 0
        self._rx_expected: int | None = None
        self._pending: list[_Pending] = []
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._timers = _Timers()
        self._incompatible_reported = False
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.peer: Hello | None = None

    # ---- shell-facing API -------------------------------------------------------------------------------
    def open(self, now: float) -> None:
        """The port was (re)opened: drop partial input, send 0x00 (flushes the peer's decoder) and HELLO."""
        if self._timers.started is None:
            self._timers.started = now
        self._decoder.reset()
        self.state = LinkState.HANDSHAKING
        self._incompatible_reported = False
        self._timers.last_rx = now
        self._out += b"\0"
        self._send_hello(now)

    def close(self, now: float, reason: str) -> None:
        """The port is gone; pending reliable messages stay queued for the next connection."""
        if self.state is LinkState.UP:
            self._down(now, reason, rehandshake=False)
        self.state = LinkState.DISCONNECTED
        for item in self._pending:
            item.sent_at = None

    def receive(self, data: bytes, now: float) -> None:
        """Feed received bytes; outcomes become events and counters. Never raises on content."""
        for outcome in self._decoder.feed(data):
            if isinstance(outcome, DecodeError):
                self._on_error(outcome, now)
            else:
                self._on_frame(outcome, now)

    def send(self, message: Message, now: float) -> bool:
        """Send an application message; returns False if a best-effort one was dropped (link not up)."""
        key = reliable_key(message)
        if key is not None:
            self._queue_reliable(_Pending(message, key), now)
            return True
        if self.state is not LinkState.UP:
            self.counters["dropped_not_up"] += 1
            return False
        self._transmit(message)
        return True

    def tick(self, now: float) -> None:
        """Run the timers."""
        if self.state in (LinkState.HANDSHAKING, LinkState.INCOMPATIBLE):
            retry = self.config.hello_retry_s * (4 if self.state is LinkState.INCOMPATIBLE else 1)
            if now - self._timers.last_hello >= retry:
                self._send_hello(now)
        elif self.state is LinkState.UP:
            if now - self._timers.last_rx > self.config.link_timeout_s:
                self._down(now, f"no valid frame for {self.config.link_timeout_s:g} s")
                return
            if now - self._timers.last_heartbeat >= self.config.heartbeat_interval_s:
                self._send_heartbeat(now)
            self._retransmit_due(now)

    def take_output(self) -> bytes:
        """Bytes to write to the port (and forget)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def take_events(self) -> list[Event]:
        """Events since the last call."""
        events, self._events = self._events, []
        return events

    @property
    def stats(self) -> SessionStats:
        """A snapshot of the counters."""
        return SessionStats(dict(self.counters), self.state, len(self._pending))

    # ---- transmit side ----------------------------------------------------------------------------------
    def _transmit(self, message: Message, flags: int = 0, seq: int | None = None) -> int:
        use = self._tx_seq if seq is None else seq
        if seq is None:
            self._tx_seq = (self._tx_seq + 1) & 0xFFFF
        self._out += encode_frame(message, use, flags)
        self.counters["frames_tx"] += 1
        return use

    def _identity(self, cls: type[Hello]) -> Hello:
        major, minor, patch = self.config.firmware
        return cls(PROTOCOL_VERSION, SCHEMA_HASH, MAX_FRAME, self.config.device_id, major, minor, patch)

    def _send_hello(self, now: float) -> None:
        self._tx_seq = 0
        self._transmit(self._identity(Hello))
        self._timers.last_hello = now

    def uptime_ms(self, now: float) -> int:
        """This side's clock on the wire (HEARTBEAT.uptime_ms, PROBE_EVENT/EXAM_*.device_ms): milliseconds since
        the session first opened (boot, for the MCU), wrapping at 2**32."""
        return int((now - (self._timers.started if self._timers.started is not None else now)) * 1000) & 0xFFFFFFFF

    def _send_heartbeat(self, now: float) -> None:
        errors = min(self.stats.decode_errors, 0xFFFF)
        self._transmit(Heartbeat(self.uptime_ms(now), errors))
        self._timers.last_heartbeat = now

    def _queue_reliable(self, item: _Pending, now: float) -> None:
        if len(self._pending) >= self.config.max_pending:
            old = self._pending.pop(0)
            self._events.append(DeliveryFailed(old.key[0], old.key[1], "pending queue full"))
        self._pending.append(item)
        if self.state is LinkState.UP:
            self._send_pending(item, now)

    def _send_pending(self, item: _Pending, now: float) -> None:
        item.seq = self._transmit(item.message, FLAG_ACK_REQUESTED)
        item.sent_at = now
        item.attempts = 0

    def _retransmit_due(self, now: float) -> None:
        for item in list(self._pending):
            if item.sent_at is None or now - item.sent_at < self.config.ack_timeout_s:
                continue
            if item.attempts >= self.config.max_retransmits:
                self._down(now, f"no ACK for {item.message.TYPE.name} after {item.attempts} retransmits")
                return
            self._transmit(item.message, FLAG_ACK_REQUESTED | FLAG_RETRANSMIT, seq=item.seq)
            item.sent_at = now
            item.attempts += 1
            self.counters["retransmits"] += 1

    def _down(self, now: float, reason: str, rehandshake: bool = True) -> None:
        self.counters["link_downs"] += 1
        self._events.append(LinkDown(reason, now))
        for item in self._pending:
            item.sent_at = None
        if rehandshake:
            self.state = LinkState.HANDSHAKING
            self._out += b"\0"
            self._send_hello(now)

    def _up(self, now: float, peer: Hello) -> None:
        self.state = LinkState.UP
        self.peer = peer
        self.counters["handshakes"] += 1
        self._timers.last_heartbeat = float("-inf")
        self._events.append(LinkUp(peer, now))
        for item in self._pending:
            self._send_pending(item, now)

    # ---- receive side -----------------------------------------------------------------------------------
    def _on_error(self, error: DecodeError, now: float) -> None:
        self.counters[ERROR_COUNTER[error.kind]] += 1
        if error.kind == "version" and self.state is not LinkState.UP:
            self._incompatible(f"peer frames use protocol version {error.version}, we speak {PROTOCOL_VERSION}")
        elif error.seq is not None and self.state is LinkState.UP and error.kind != "version":
            reason = NackReason.UNKNOWN_TYPE if error.kind == "unknown_type" else NackReason.BAD_PAYLOAD
            self._transmit(Nack(error.seq, reason))

    def _incompatible(self, reason: str) -> None:
        self.state = LinkState.INCOMPATIBLE
        if not self._incompatible_reported:
            self._incompatible_reported = True
            self._events.append(Incompatible(reason))

    def _on_frame(self, frame: Frame, now: float) -> None:
        self.counters["frames_rx"] += 1
        msg = frame.message
        if isinstance(msg, Hello):
            self._on_hello(frame, msg, now)
            return
        if isinstance(msg, Nack) and msg.reason == NackReason.INCOMPATIBLE:
            self.counters["nacks_rx"] += 1
            if self.state is LinkState.UP or msg.nacked_seq != 0:  # not an answer to our HELLO (seq 0)
                self.counters["stray_nacks"] += 1
                return
            self._incompatible("the peer refused our HELLO as incompatible (protocol version or schema hash)")
            return
        if self.state is not LinkState.UP:
            self.counters["ignored_not_up"] += 1
            return
        self._timers.last_rx = now
        self._track_seq(frame)
        if isinstance(msg, Ack):
            self._on_ack(msg)
        elif isinstance(msg, Nack):
            self._on_nack(msg, now)
        elif isinstance(msg, APP_MESSAGES):
            ruling = verdict(self.config.role, frame)
            if ruling in NACK_OF_VERDICT:
                self.counters["refused"] += 1
                self._transmit(Nack(frame.seq, NACK_OF_VERDICT[ruling]))
            else:
                self._deliver(frame, cleaned(msg))

    def _on_hello(self, frame: Frame, msg: Hello, now: float) -> None:
        if msg.protocol_version != PROTOCOL_VERSION or msg.schema_hash != SCHEMA_HASH:
            self._incompatible(
                f"peer protocol {msg.protocol_version} schema {msg.schema_hash:08x}, "
                f"ours {PROTOCOL_VERSION} {SCHEMA_HASH:08x}"
            )
            self._transmit(Nack(frame.seq, NackReason.INCOMPATIBLE))
            return
        self._timers.last_rx = now
        self._rx_expected = (frame.seq + 1) & 0xFFFF
        if not isinstance(msg, HelloAck):
            self._tx_seq = 0
            self._transmit(self._identity(HelloAck))
            self._up(now, msg)
        elif self.state is not LinkState.UP:
            self._up(now, msg)

    def _track_seq(self, frame: Frame) -> None:
        if frame.flags & FLAG_RETRANSMIT:
            return
        if self._rx_expected is not None and frame.seq != self._rx_expected:
            gap = (frame.seq - self._rx_expected) & 0xFFFF
            if gap < 0x8000:
                self.counters["sequence_gaps"] += gap
        self._rx_expected = (frame.seq + 1) & 0xFFFF

    def _on_ack(self, msg: Ack) -> None:
        self.counters["acks_rx"] += 1
        for item in self._pending:
            if item.seq == msg.acked_seq and int(item.message.TYPE) == msg.acked_type and item.sent_at is not None:
                self._pending.remove(item)
                self._events.append(Delivered(item.key[0], item.key[1]))
                return

    def _on_nack(self, msg: Nack, now: float) -> None:
        self.counters["nacks_rx"] += 1
        for item in self._pending:
            if item.seq == msg.nacked_seq and item.sent_at is not None:
                if msg.reason in (NackReason.UNKNOWN_TYPE, NackReason.BAD_PAYLOAD):  # the same bytes would fail
                    self._pending.remove(item)
                    why = "refuses the type" if msg.reason == NackReason.UNKNOWN_TYPE else "refuses the values"
                    self._events.append(DeliveryFailed(item.key[0], item.key[1], f"peer {why}"))
                elif msg.reason == NackReason.BUSY:  # back off, and do not count it towards link-down
                    item.sent_at = now + self.config.busy_backoff_s - self.config.ack_timeout_s
                    item.attempts = max(0, item.attempts - 1)
                else:
                    item.sent_at = now - self.config.ack_timeout_s  # retransmit on the next tick
                return

    def _deliver(self, frame: Frame, msg: AppMessage) -> None:
        key = reliable_key(msg)
        if key is None:
            self._events.append(msg)
            return
        self._transmit(Ack(frame.seq, frame.msg_type))
        if key in self._seen:
            self.counters["duplicates"] += 1
            return
        self._seen[key] = None
        while len(self._seen) > self.config.dedupe_window:
            self._seen.popitem(last=False)
        self._events.append(msg)
