"""MCU emulator: behaves like the handheld's microcontroller on a pseudo-terminal.

:class:`Handheld` is the sans-I/O part: a device-side :class:`Session` plus the probe's state (frozen, depth,
gain, preset) and fault injection. :class:`PtyEmulator` is the shell: it owns a pty pair (``os.openpty()``,
slave in raw mode with ``tty.setraw``) and a thread, and optionally keeps a symlink pointing at the current
slave, like ``/dev/serial/by-id/...`` does for a real device that is unplugged and replugged.

Faults the tests use: :meth:`PtyEmulator.reset` (MCU reboot mid-stream: partial frame, new session, HELLO),
:meth:`PtyEmulator.unplug` / :meth:`PtyEmulator.replug` (the pty is closed and a new one made), and
:meth:`Handheld.drop_outgoing` (lose the next N outgoing frames of a type, e.g. an ACK).
"""

from __future__ import annotations

import errno
import os
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from liveredge.firmware_bridge.codec import Frame, FrameDecoder
from liveredge.firmware_bridge.events import Event
from liveredge.firmware_bridge.messages import ExamEnd, ExamStart, Message, ProbeEvent, ProbeKind
from liveredge.firmware_bridge.rules import Role
from liveredge.firmware_bridge.session import Session, SessionConfig

EMULATOR_DEVICE_ID = 0x00E1_0000_0000_0001


class Handheld:
    """The emulated MCU, sans I/O: call :meth:`receive` / :meth:`tick`, write :meth:`take_output`."""

    def __init__(self, config: SessionConfig | None = None, seed: int | None = None) -> None:
        self.config = config or SessionConfig(device_id=EMULATOR_DEVICE_ID, firmware=(1, 0, 0), role=Role.MCU)
        self.session = Session(self.config)
        self.frozen, self.depth_mm, self.gain_db, self.preset = 0, 160, 50, 1
        self._rng = random.Random(seed)
        self.next_exam_id = self._rng.randrange(1, 2**31)  # unique across reboots: receivers dedupe by exam id
        self.current_exam: int | None = None
        self._drop: dict[int, int] = {}
        self._splitter = FrameDecoder()
        self.dropped_frames = 0

    def boot(self, now: float) -> None:
        """Power-on / reset: a fresh session (sequence numbers and pending messages are lost), then HELLO."""
        self.session = Session(self.config)
        self.session.open(now)

    def drop_outgoing(self, msg_type: int, count: int = 1) -> None:
        """Lose the next ``count`` outgoing frames of ``msg_type`` (a lossy line)."""
        self._drop[int(msg_type)] = self._drop.get(int(msg_type), 0) + count

    def take_output(self) -> bytes:
        """The session's output minus dropped frames."""
        out = self.session.take_output()
        if not any(self._drop.values()):
            return out
        kept = bytearray()
        for chunk in out.split(b"\0")[:-1]:
            outcome = self._splitter.feed(chunk + b"\0")
            msg_type = outcome[0].msg_type if outcome and isinstance(outcome[0], Frame) else None
            if msg_type is not None and self._drop.get(msg_type, 0) > 0:
                self._drop[msg_type] -= 1
                self.dropped_frames += 1
                continue
            kept += chunk + b"\0"
        return bytes(kept)

    def probe(self, kind: ProbeKind, now: float, value: int = 0) -> ProbeEvent:
        """Apply a probe action and send its PROBE_EVENT (best effort)."""
        if kind in (ProbeKind.FREEZE, ProbeKind.UNFREEZE):
            self.frozen = int(kind is ProbeKind.FREEZE)
        elif kind is ProbeKind.DEPTH:
            self.depth_mm = value
        elif kind is ProbeKind.GAIN:
            self.gain_db = value
        elif kind is ProbeKind.PRESET:
            self.preset = value
        button = value if kind is ProbeKind.BUTTON else 0
        event = ProbeEvent(
            int(kind), self.frozen, self.depth_mm, self.gain_db, self.preset, button, self._device_ms(now)
        )
        self.session.send(event, now)
        return event

    def exam_start(self, now: float, exam_id: int | None = None) -> int:
        """Start an exam (reliable EXAM_START); returns its id."""
        exam = self._exam_id(exam_id)
        self.current_exam = exam
        self.session.send(ExamStart(exam, self._device_ms(now)), now)
        return exam

    def exam_end(self, now: float, exam_id: int | None = None) -> int:
        """End the current (or given) exam (reliable EXAM_END); returns its id."""
        exam = exam_id if exam_id is not None else (self.current_exam or self._exam_id(None))
        self.current_exam = None
        self.session.send(ExamEnd(exam, self._device_ms(now)), now)
        return exam

    def random_action(self, now: float) -> Message | None:
        """One random probe/exam action (the emulator's ``--random`` mode)."""
        roll = self._rng.random()
        if roll < 0.1:
            if self.current_exam is None:
                return ExamStart(self.exam_start(now), self._device_ms(now))
            return ExamEnd(self.exam_end(now), self._device_ms(now))
        kind = self._rng.choice(list(ProbeKind))
        value = {
            ProbeKind.DEPTH: self._rng.randrange(40, 300, 10),
            ProbeKind.GAIN: self._rng.randrange(0, 101),
            ProbeKind.PRESET: self._rng.randrange(0, 8),
            ProbeKind.BUTTON: self._rng.randrange(1, 5),
        }
        return self.probe(kind, now, value.get(kind, 0))

    def _exam_id(self, exam_id: int | None) -> int:
        if exam_id is not None:
            return exam_id
        exam, self.next_exam_id = self.next_exam_id, (self.next_exam_id + 1) & 0xFFFFFFFF
        return exam

    def _device_ms(self, now: float) -> int:
        return self.session.uptime_ms(now)  # the same clock as HEARTBEAT.uptime_ms: ms since boot


class PtyEmulator:
    """A :class:`Handheld` on a pty, serviced by a thread. Thread-safe actions; see the module docstring."""

    def __init__(
        self,
        handheld: Handheld | None = None,
        link_path: str | os.PathLike[str] | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.handheld = handheld or Handheld()
        self.link_path = Path(link_path) if link_path is not None else None
        self._on_event = on_event
        self._clock = clock
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self.received: list[Event] = []
        self.path = ""
        self.write_drops = 0
        self._stalled = threading.Event()

    def start(self) -> str:
        """Create the pty, boot the MCU and start the thread; returns the path the host should open."""
        with self._lock:
            self._plug()
            self.handheld.boot(self._clock())
        self._thread = threading.Thread(target=self._run, name="lrb-emulator", daemon=True)
        self._thread.start()
        return str(self.link_path or self.path)

    def stop(self) -> None:
        """Stop the thread, close the pty and remove the symlink (a dangling link would look like a device)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            self._unplug_fds()
            if self.link_path is not None and self.link_path.is_symlink():
                self.link_path.unlink(missing_ok=True)

    def __enter__(self) -> PtyEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def act(self, action: Callable[[Handheld, float], object]) -> object:
        """Run ``action(handheld, now)`` under the lock (e.g. ``lambda h, t: h.exam_start(t)``)."""
        with self._lock:
            result = action(self.handheld, self._clock())
            self._flush()
            return result

    def reset(self, partial: bytes = b"\x05\x01\x20\x07") -> None:
        """MCU reboot mid-stream: a frame cut short on the wire, then boot (0x00 + HELLO)."""
        with self._lock:
            self._write(partial)
            self.handheld.boot(self._clock())
            self._flush()

    def inject(self, raw: bytes) -> None:
        """Put raw bytes on the line (noise, garbage, a hand-made frame)."""
        with self._lock:
            self._write(raw)

    def unplug(self) -> None:
        """Pull the cable: close both ends of the pty (the host's reads fail) and remove the symlink (as udev)."""
        with self._lock:
            self._unplug_fds()
            if self.link_path is not None:
                self.link_path.unlink(missing_ok=True)
            self.handheld.session.close(self._clock(), "unplugged")

    def replug(self) -> str:
        """Plug back in: a new pty (new /dev/pts number), the symlink re-pointed, the MCU says HELLO."""
        with self._lock:
            self._plug()
            self.handheld.session.open(self._clock())
            self._flush()
        return str(self.link_path or self.path)

    def stall(self) -> None:
        """The MCU stops reading its UART (hung firmware, flow control held): the pty's buffer fills and the
        host's writes block. Timers and output go on. :meth:`resume` reads again."""
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def take_received(self) -> list[Event]:
        """Events the MCU received since the last call."""
        with self._lock:
            events, self.received = self.received, []
            return events

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave, self.path = master, slave, os.ttyname(slave)
        if self.link_path is not None:
            tmp = self.link_path.with_name(self.link_path.name + ".new")
            tmp.unlink(missing_ok=True)
            os.symlink(self.path, tmp)
            os.replace(tmp, self.link_path)

    def _unplug_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _run(self) -> None:
        while not self._stop.is_set():
            master = self._master
            data = b""
            if master is None or self._stalled.is_set():
                self._stop.wait(0.01)
            else:
                data = self._read(master)
            with self._lock:
                now = self._clock()
                if data and self._master is not None:
                    self.handheld.session.receive(data, now)
                if self._master is not None:
                    self.handheld.session.tick(now)
                self._flush()

    def _read(self, master: int) -> bytes:
        try:
            ready, _, _ = select.select([master], [], [], 0.01)
            return os.read(master, 4096) if ready else b""
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO, errno.EBADF):
                return b""  # EIO: nobody has the slave open; EBADF: unplugged meanwhile
            raise

    def _flush(self) -> None:
        self._write(self.handheld.take_output())
        for event in self.handheld.session.take_events():
            self.received.append(event)
            if self._on_event is not None:
                self._on_event(event)

    def _write(self, data: bytes) -> None:
        if not data or self._master is None:
            return
        try:
            os.write(self._master, data)
        except BlockingIOError:
            self.write_drops += 1  # nobody reading: a UART would drop too
        except OSError:
            self.write_drops += 1
