"""Watchdog around any source: lost/error/frozen detection, reopen with back-off, state events.

``WatchedSource`` is itself a :class:`~liveredge.edge.sources.base.Source`. It

* flags each frame whose image repeats the previous one (``Frame.frozen``, see :func:`is_frozen`);
* treats "no frame for ``timeout_s``", an ``ERROR`` read, or (optionally) a stream frozen for
  ``freeze_timeout_s`` as a lost source: closes it and reopens a fresh one from the factory (the factory
  opens by the source's stable identity) after a back-off of ``initial_s * factor**(n-1)`` capped at
  ``max_s`` seconds; file-like sources resume after the last delivered frame (``seek``);
* renumbers ``seq`` so it keeps increasing across reconnects;
* reports every change as a :class:`~liveredge.edge.events.StateEvent` through ``on_event``.

While reconnecting, ``read`` returns ``TIMEOUT`` with a detail; after ``max_attempts`` failed attempts it
returns ``ERROR`` for good and :attr:`gave_up` is True (``max_attempts=None``: retry forever, for live probes).
The caller stops on ``END`` or on ``ERROR`` with ``gave_up``; everything else means "keep reading".
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from liveredge.edge.errors import ConfigError, SourceError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources.base import Frame, ReadResult, Source, SourceStatus, is_frozen


@dataclass(frozen=True)
class WatchPolicy:
    """Watchdog settings (seconds). ``freeze_timeout_s=None``: frozen streams are flagged, not reopened."""

    timeout_s: float = 2.0
    initial_s: float = 0.25
    factor: float = 2.0
    max_s: float = 5.0
    max_attempts: int | None = None
    freeze_timeout_s: float | None = None
    freeze_event_frames: int = 3

    def delay_s(self, attempt: int) -> float:
        """Back-off before reconnect attempt ``attempt`` (1-based)."""
        return min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))


@dataclass
class _Run:
    """Mutable bookkeeping of the current connection."""

    last_frame_t: float
    last_image: np.ndarray | None = None
    frozen_since: float | None = None
    frozen_count: int = 0


class WatchedSource:
    """A self-healing source built from ``factory`` (called for the first open and every reopen)."""

    def __init__(
        self,
        factory: Callable[[], Source],
        policy: WatchPolicy = WatchPolicy(),
        *,
        on_event: Callable[[StateEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if policy.timeout_s <= 0 or policy.initial_s < 0 or policy.factor < 1:
            raise ConfigError("watchdog: need timeout_s > 0, initial_s >= 0 and factor >= 1")
        self._factory, self.policy = factory, policy
        self._on_event, self._clock, self._sleep = on_event, clock, sleep
        self._inner: Source | None = None
        self.uri, self.identity = "", ""
        self.nominal_fps: float | None = None
        self.state = "closed"
        self.gave_up = False
        self.attempts = 0
        self.reconnects = 0
        self._detail = ""
        self._next_attempt = 0.0
        self._seq_base = 0
        self._next_seq = 0
        self._last_index = -1
        self._bad_reads = 0
        self._run = _Run(0.0)

    def open(self) -> None:
        """First open; raises ``SourceError`` when the source cannot be opened at all (bad path, no device)."""
        source = self._factory()
        self.uri, self.identity = source.uri, source.identity
        source.open()
        self._adopt(source, "source_opened", f"{source.uri} ({source.identity})")

    def _adopt(self, source: Source, state: str, detail: str) -> None:
        self._inner = source
        self.nominal_fps = source.nominal_fps
        self.state, self._seq_base = "streaming", self._next_seq
        self._run = _Run(self._clock())
        self._emit(state, detail)

    def read(self, timeout_s: float) -> ReadResult:
        if self.state == "streaming" and self._inner is not None:
            return self._read_streaming(self._inner, timeout_s)
        if self.state == "reconnecting":
            return self._reconnect_step(timeout_s)
        if self.state == "ended":
            return ReadResult(SourceStatus.END, detail=self._detail)
        if self.state == "failed":
            return ReadResult(SourceStatus.ERROR, detail=self._detail)
        return ReadResult(SourceStatus.ERROR, detail=f"{self.uri or 'source'}: read before open()")

    def _read_streaming(self, inner: Source, timeout_s: float) -> ReadResult:
        result = inner.read(timeout_s)
        now = self._clock()
        if result.status is SourceStatus.OK and result.frame is not None:
            return self._deliver(result.frame, now)
        if result.status is SourceStatus.END:
            self._finish("ended", "source_ended", result.detail or f"{self.uri}: end of source")
            return ReadResult(SourceStatus.END, detail=self._detail)
        if result.status is SourceStatus.ERROR:
            self._bad_reads += 1
            self._lose("source_error", result.detail or f"{self.uri}: read error")
            return ReadResult(SourceStatus.ERROR, detail=self._detail)
        if now - self._run.last_frame_t > self.policy.timeout_s:
            self._lose("source_lost", f"{self.uri}: no frame for {now - self._run.last_frame_t:.1f} s")
            return ReadResult(SourceStatus.TIMEOUT, detail=self._detail)
        return result

    def _deliver(self, frame: Frame, now: float) -> ReadResult:
        run = self._run
        frozen = is_frozen(run.last_image, frame.image)
        run.last_image, run.last_frame_t = frame.image, now
        self.attempts, self._bad_reads = 0, 0  # healthy again: the next loss starts a fresh back-off
        self._track_freeze(frozen, now)
        seq = self._seq_base + frame.seq
        self._next_seq, self._last_index = seq + 1, frame.source_index
        out = dataclasses.replace(frame, seq=seq, frozen=frozen)
        if (
            self.policy.freeze_timeout_s is not None
            and run.frozen_since is not None
            and now - run.frozen_since > self.policy.freeze_timeout_s
        ):
            self._lose("source_lost", f"{self.uri}: frozen for {now - run.frozen_since:.1f} s")
        return ReadResult(SourceStatus.OK, out)

    def _track_freeze(self, frozen: bool, now: float) -> None:
        run = self._run
        if frozen:
            run.frozen_count += 1
            run.frozen_since = run.frozen_since if run.frozen_since is not None else now
            if run.frozen_count == self.policy.freeze_event_frames:
                self._emit("source_frozen", f"{self.uri}: image unchanged for {run.frozen_count} frames")
            return
        if run.frozen_count >= self.policy.freeze_event_frames:
            self._emit("source_unfrozen", f"{self.uri}: image changing again after {run.frozen_count} frozen frames")
        run.frozen_count, run.frozen_since = 0, None

    def _lose(self, state: str, detail: str) -> None:
        self._close_inner()
        self.state, self._detail = "reconnecting", detail
        self._next_attempt = self._clock() + self.policy.delay_s(1)
        self._emit(state, detail)

    def _reconnect_step(self, timeout_s: float) -> ReadResult:
        wait = self._next_attempt - self._clock()
        if wait > timeout_s:
            self._sleep(max(0.0, timeout_s))
            return ReadResult(SourceStatus.TIMEOUT, detail=f"reconnecting in {wait - timeout_s:.2f} s: {self._detail}")
        if wait > 0:
            self._sleep(wait)
        if self.policy.max_attempts is not None and self.attempts >= self.policy.max_attempts:
            return self._give_up(self._detail)
        self.attempts += 1
        self._emit("source_reconnecting", f"{self.uri}: attempt {self.attempts}")
        try:
            source = self._factory()
            source.open()
        except SourceError as exc:
            return self._attempt_failed(str(exc))
        resume = self._last_index + 1 + self._bad_reads  # skip frames that failed to read
        if resume > 0 and hasattr(source, "seek"):
            source.seek(resume)
        self.reconnects += 1
        self._adopt(source, "source_reconnected", f"{source.uri} after {self.attempts} attempt(s)")
        return ReadResult(SourceStatus.TIMEOUT, detail=f"{self.uri}: reconnected")

    def _attempt_failed(self, why: str) -> ReadResult:
        limit = self.policy.max_attempts
        if limit is not None and self.attempts >= limit:
            return self._give_up(why)
        delay = self.policy.delay_s(self.attempts + 1)
        self._next_attempt = self._clock() + delay
        self._emit("source_reconnect_failed", f"{why}; next attempt in {delay:.2f} s")
        return ReadResult(SourceStatus.TIMEOUT, detail=f"reconnect attempt {self.attempts} failed: {why}")

    def _give_up(self, why: str) -> ReadResult:
        self.gave_up = True
        self._finish("failed", "source_failed", f"{self.uri}: gave up after {self.attempts} attempts: {why}")
        return ReadResult(SourceStatus.ERROR, detail=self._detail)

    def _finish(self, state: str, event: str, detail: str) -> None:
        self._close_inner()
        self.state, self._detail = state, detail
        self._emit(event, detail)

    def _close_inner(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()

    def _emit(self, state: str, detail: str) -> None:
        if self._on_event is not None:
            self._on_event(StateEvent(state=state, detail=detail, wall_time=time.time(), t=self._clock()))

    def close(self) -> None:
        self._close_inner()
        self.state = "closed"

    @property
    def inner(self) -> Source | None:
        """The source currently open (None while reconnecting)."""
        return self._inner
