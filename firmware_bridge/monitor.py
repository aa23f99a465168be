"""Readable lines for decoded traffic, and the ``liveredge bridge monitor`` loop.

:func:`describe` is pure (an outcome or event → one line). :func:`monitor` owns a port: passive by default (it
only reads and decodes); with ``handshake=True`` it also answers the device's HELLO as a host would, so a device
that waits for a handshake starts streaming.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from liveredge.firmware_bridge.codec import DecodeError, Frame, FrameDecoder
from liveredge.firmware_bridge.errors import PortError
from liveredge.firmware_bridge.events import APP_MESSAGES, Event
from liveredge.firmware_bridge.messages import (
    CLASS_NAMES,
    AlertCode,
    Message,
    MsgType,
    NackReason,
    ProbeKind,
    Quality,
)
from liveredge.firmware_bridge.session import Session


def _quality(flags: int) -> str:
    names = [q.name or "" for q in Quality if flags & q]
    reserved = flags & ~sum(Quality) & 0xFFFF
    return "|".join(names + ([f"0x{reserved:04x}"] if reserved else [])) or "ok"


def describe_message(msg: Message) -> str:
    """One line for a message, in units (class names, confidence 0..1, quality flag names)."""
    name = msg.TYPE.name
    fields: dict[str, Any] = asdict(msg)
    if "class_index" in fields:
        idx = fields.pop("class_index")
        fields["class"] = f"{CLASS_NAMES.get(idx, '?')}({idx})"
    if "confidence_e4" in fields:
        fields["confidence"] = f"{fields.pop('confidence_e4') / 10000:.4f}"
    if "quality_flags" in fields:
        fields["quality"] = _quality(fields.pop("quality_flags"))
    if name == "PROBE_EVENT":
        fields["kind"] = _enum_name(ProbeKind, fields["kind"])
    elif name == "ALERT":
        fields["code"] = _enum_name(AlertCode, fields["code"])
    elif name == "NACK":
        fields["reason"] = _enum_name(NackReason, fields["reason"])
    elif name == "ACK":
        fields["acked_type"] = _enum_name(MsgType, fields["acked_type"])
    elif name in ("HELLO", "HELLO_ACK"):
        fields["schema_hash"] = f"0x{fields['schema_hash']:08x}"
        fields["device_id"] = f"0x{fields['device_id']:016x}"
    return name + " " + " ".join(f"{k}={v}" for k, v in fields.items())


def _enum_name(enum_cls: Any, value: int) -> str:
    try:
        return str(enum_cls(value).name)
    except ValueError:
        return str(value)


def describe(outcome: Frame | DecodeError) -> str:
    """One line for a decoded frame (with seq and flags) or a decode error."""
    if isinstance(outcome, DecodeError):
        return f"ERROR {outcome.kind}: {outcome.detail}"
    flags = "".join(f for bit, f in ((1, "A"), (2, "R")) if outcome.flags & bit) or "-"
    return f"seq={outcome.seq:5d} flags={flags:2s} {describe_message(outcome.message)}"


def describe_event(event: Event) -> str:
    """One line for a session event."""
    if isinstance(event, APP_MESSAGES):
        return describe_message(event)
    peer = getattr(event, "peer", None)
    if peer is not None:
        return (
            f"LinkUp peer device_id=0x{peer.device_id:016x} firmware={peer.fw_major}.{peer.fw_minor}."
            f"{peer.fw_patch} max_frame={peer.max_frame}"
        )
    return f"{type(event).__name__} " + " ".join(f"{k}={v}" for k, v in asdict(event).items())


@dataclass(frozen=True)
class MonitorSummary:
    """What a monitor run saw."""

    frames: int
    errors: int
    seconds: float


def monitor(
    port: Any,
    emit: Callable[[str], None],
    *,
    duration_s: float | None = None,
    count: int | None = None,
    handshake: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> MonitorSummary:
    """Decode traffic from an open pyserial ``port`` and ``emit`` one line per frame until duration/count."""
    decoder, session = FrameDecoder(), Session() if handshake else None
    start = clock()
    if session is not None:
        session.open(start)
        port.write(session.take_output())
    frames = errors = 0
    while (duration_s is None or clock() - start < duration_s) and (count is None or frames + errors < count):
        data = _read(port)
        now = clock()
        for outcome in decoder.feed(data):
            frames, errors = (frames + 1, errors) if isinstance(outcome, Frame) else (frames, errors + 1)
            emit(f"{now - start:9.3f}s {describe(outcome)}")
        if session is not None:
            session.receive(data, now)
            session.tick(now)
            session.take_events()
            port.write(session.take_output())
    return MonitorSummary(frames, errors, clock() - start)


def _read(port: Any) -> bytes:
    import serial

    try:
        return bytes(port.read(port.in_waiting or 1))
    except (serial.SerialException, OSError) as exc:
        raise PortError(f"{port.port}: device disconnected ({exc})") from exc


def open_port(url: str, baudrate: int, timeout_s: float = 0.05) -> Any:
    """Open ``url`` like the link does; PortError naming the port if it cannot be opened."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout_s, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortError(
            f"{url}: cannot open ({exc}); check the name (ls /dev/serial/by-id/) and that no other program holds it"
        ) from exc
