"""Thin pyserial shell around a :class:`~liveredge.firmware_bridge.session.Session`: owns the port and one thread.

The reader thread loops ``read(in_waiting or 1)`` (10 ms timeout) → ``session.receive`` → ``session.tick`` →
write ``session.take_output()``. It survives any received bytes (the session counts damage instead of raising)
and any port failure: the port is closed, the session told (pending reliable messages stay queued), and the
port reopened with exponential back-off (50 ms doubling to 0.5 s by default). Every (re)open:

1. ``serial.serial_for_url(url, exclusive=True, ...)`` — URLs work (``loop://``, ``/dev/serial/by-id/...``,
   a symlink that a replugged device re-points, ``hwgrep://``),
2. low-latency mode where the driver supports it (FTDI's 16 ms latency timer; a pty or CDC-ACM has none),
3. ``open_delay_s`` for boards that reset when DTR rises on open, then an input flush (drops the partial frame
   and boot noise), then the handshake (0x00 + HELLO).

Time is ``time.monotonic()`` seconds, passed to the session as a number.

Writing never holds the session lock (the lock the reader thread and :meth:`SerialLink.send` share): the session's
output is appended, under the lock, to a bounded outbound buffer (``max_out_bytes``; whole frames beyond it are
dropped and counted in :attr:`SerialLink.out_dropped`), and whichever thread finds the writer free writes it, in
order, outside the lock. A port that stops accepting writes therefore blocks only the thread writing (up to
``write_timeout_s``, then the port counts as lost), never a caller of ``send``/``take_events`` waiting for the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liveredge.firmware_bridge.errors import PortError
from liveredge.firmware_bridge.events import Event, LinkState, SessionStats
from liveredge.firmware_bridge.messages import Message
from liveredge.firmware_bridge.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkConfig:
    """Port settings and reconnect policy (seconds)."""

    baudrate: int = 115200
    open_delay_s: float = 0.0  # e.g. 2.0 for boards that reset on open (Arduino-style DTR auto-reset)
    read_timeout_s: float = 0.01
    write_timeout_s: float = 0.5
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 0.5
    exclusive: bool = True
    low_latency: bool = True
    max_events: int = 10000  # events kept for take_events(); the oldest are dropped beyond this
    max_out_bytes: int = 65536  # bytes waiting for the port; further frames are dropped (counted) beyond this


def _default_opener(url: str, **kwargs: Any) -> Any:
    import serial  # pyserial; the `edge` extra

    return serial.serial_for_url(url, **kwargs)


def _port_errors() -> tuple[type[BaseException], ...]:
    import serial

    return (serial.SerialException, OSError, ValueError)


class SerialLink:
    """A session on a serial port, serviced by a background thread. Thread-safe; use as a context manager."""

    def __init__(
        self,
        url: str,
        session: Session | None = None,
        config: LinkConfig | None = None,
        *,
        opener: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.session = session or Session()
        self.config = config or LinkConfig()
        self._opener = opener or _default_opener
        self._clock = clock
        self._lock = threading.RLock()  # the session, the port reference, the event and outbound buffers
        self._write_lock = threading.Lock()  # held by the one thread writing; never taken under ``_lock``
        self._out: deque[bytes] = deque()
        self._out_bytes = 0
        self.out_dropped = 0
        self._write_failure: tuple[BaseException, Any] | None = None  # (error, port) of a write on another thread
        self._stop = threading.Event()
        self._port: Any = None
        self._thread: threading.Thread | None = None
        self._events: deque[Event] = deque(maxlen=self.config.max_events)
        self.opens = 0
        self.port_failures = 0
        self.last_error = ""

    # ---- public API ------------------------------------------------------------------------------------
    def start(self) -> SerialLink:
        """Start the thread (it opens the port and keeps it open)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"lrb-link {self.url}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            try:
                port.cancel_read()
            except _port_errors():
                pass
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            port, self._port = self._port, None
        self._close(port)

    def __enter__(self) -> SerialLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def send(self, message: Message) -> bool:
        """Send now if the link is up; reliable messages are queued until acknowledged. False: dropped."""
        with self._lock:
            ok = self.session.send(message, self._clock())
            self._collect()
        self._drain()
        return ok

    def take_events(self) -> list[Event]:
        """Events since the last call (LinkUp, LinkDown, messages, ...)."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
            return events

    @property
    def state(self) -> LinkState:
        """Current session state."""
        return self.session.state

    @property
    def stats(self) -> SessionStats:
        """Session counters."""
        with self._lock:
            return self.session.stats

    @property
    def writing(self) -> bool:
        """True while a thread is inside a port write (a write that stays True for long: the port is full)."""
        return self._write_lock.locked()

    def wait_until_up(self, timeout_s: float) -> bool:
        """Block until the handshake is done (or ``timeout_s`` passes)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.session.state is LinkState.UP:
                return True
            time.sleep(0.005)
        return self.session.state is LinkState.UP

    # ---- thread ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.config.backoff_initial_s
        while not self._stop.is_set():
            if self._port is None:
                if not self._open():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2.0, self.config.backoff_max_s)
                    continue
                backoff = self.config.backoff_initial_s
            failure, self._write_failure = self._write_failure, None
            if failure is not None and failure[1] is self._port:  # closed by its owner, the reader, not mid-read
                self._lost(failure[0])
                continue
            try:
                self._service()
            except _port_errors() as exc:
                self._lost(exc)
            except Exception as exc:  # a bug must not kill the link: log it, reopen
                log.exception("bridge link: unexpected error on %s", self.url)
                self._lost(exc)

    def _open(self) -> bool:
        cfg = self.config
        try:
            port = self._opener(
                self.url,
                baudrate=cfg.baudrate,
                timeout=cfg.read_timeout_s,
                write_timeout=cfg.write_timeout_s,
                exclusive=cfg.exclusive,
            )
        except _port_errors() as exc:
            self.last_error = f"cannot open {self.url}: {exc}"
            return False
        if cfg.low_latency:
            try:
                port.set_low_latency_mode(True)
            except (AttributeError, NotImplementedError, ValueError, OSError):
                pass  # pty, CDC-ACM, loop://: no latency timer to lower
        if cfg.open_delay_s > 0 and self._stop.wait(cfg.open_delay_s):
            port.close()
            return False
        try:
            port.reset_input_buffer()
        except _port_errors():
            pass
        with self._lock:
            self._port = port
            self.opens += 1
            self.session.open(self._clock())
            self._collect()
        self._drain()
        return True

    def _service(self) -> None:
        port = self._port
        if port is None:  # a writer lost the port meanwhile
            return
        data = port.read(port.in_waiting or 1)
        with self._lock:
            now = self._clock()
            if data:
                self.session.receive(data, now)
            self.session.tick(now)
            self._collect()
        self._drain()

    def _collect(self) -> None:
        """Move the session's output to the outbound buffer and its events to ours; caller holds ``_lock``."""
        out = self.session.take_output()
        self._events.extend(self.session.take_events())
        if not out or self._port is None:
            return
        if self._out_bytes + len(out) > self.config.max_out_bytes:
            self.out_dropped += 1  # the port is not taking bytes: drop whole frames, never block
            return
        self._out.append(out)
        self._out_bytes += len(out)

    def _drain(self) -> None:
        """Write the outbound buffer in order, outside ``_lock``; returns at once when another thread is writing
        (that thread writes what was queued meanwhile). Port errors close the port."""
        while self._out:
            if not self._write_lock.acquire(blocking=False):
                return
            failure: tuple[BaseException, Any] | None = None
            try:
                while True:
                    with self._lock:
                        port = self._port
                        chunk = b"".join(self._out)
                        self._out.clear()
                        self._out_bytes = 0
                    if not chunk or port is None:
                        break
                    try:
                        port.write(chunk)
                    except _port_errors() as exc:
                        failure = (exc, port)
                        break
            finally:
                self._write_lock.release()
            if failure is not None:
                self._write_failed(*failure)
                return

    def _write_failed(self, exc: BaseException, port: Any) -> None:
        """A write failed: the reader thread closes the port (here when we are it, else on its next turn)."""
        if threading.current_thread() is self._thread:
            self._lost(exc)
            return
        with self._lock:
            if port is self._port:
                self._write_failure = (exc, port)

    def _lost(self, exc: BaseException) -> None:
        with self._lock:
            self.port_failures += 1
            self.last_error = f"{self.url}: {exc}"
            log.warning("bridge link lost: %s", self.last_error)
            self.session.close(self._clock(), f"port lost: {exc}")
            self._events.extend(self.session.take_events())
            self.session.take_output()
            self._out.clear()
            self._out_bytes = 0
            port, self._port = self._port, None
        self._close(port)

    def _close(self, port: Any) -> None:
        """Close a port already detached from the link; waits for a write in progress on it (at most the write
        timeout), never closes a port under a writer. Caller must not hold ``_lock``."""
        if port is None:
            return
        with self._write_lock:
            try:
                port.close()
            except _port_errors():
                pass


def open_link(
    url: str, session: Session | None = None, config: LinkConfig | None = None, wait_s: float = 0.0
) -> SerialLink:
    """Start a link on ``url``; with ``wait_s`` > 0, raise :class:`PortError` if it is not up by then."""
    link = SerialLink(url, session, config).start()
    if wait_s > 0 and not link.wait_until_up(wait_s):
        link.stop()
        raise PortError(
            f"{url}: no handshake within {wait_s:g} s ({link.last_error or 'no answer to HELLO'}); "
            "check the port name, the cable and that the device runs a liveredge-compatible firmware"
        )
    return link
