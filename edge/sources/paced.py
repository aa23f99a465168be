"""Base for finite, replayable sources (video files, images, folders, DICOM, the simulator, pre-rendered clips).

The subclass produces the next decoded image; this class paces delivery: ``rate="realtime"`` delivers frame
``k`` at ``t0 + k / fps`` (like a live probe), ``rate="max"`` delivers as fast as the consumer reads (offline
analysis: every frame, no drops — back-pressure comes from the consumer calling :meth:`read`). The next frame
is decoded *before* waiting, so ``t_capture`` is the moment it became due, not decode time later.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.sources.base import Pacer, ReadResult, SourceStatus, ok

RATES = ("realtime", "max")

Produced = tuple[np.ndarray, int]  # (BGR image, source index)


def check_rate(rate: str) -> str:
    """Validate a replay rate name ("realtime" or "max")."""
    if rate not in RATES:
        raise ConfigError(f"rate {rate!r} is not one of {', '.join(RATES)}")
    return rate


class PacedSource(ABC):
    """Common ``read`` for sources that replay stored frames. Subclasses implement the hooks below."""

    uri: str
    identity: str
    nominal_fps: float | None

    def __init__(
        self, uri: str, identity: str, *, rate: str = "realtime", fps: float | None = None, loop: bool = False
    ) -> None:
        self.uri = uri
        self.identity = identity
        self.rate = check_rate(rate)
        self.loop = loop
        if fps is not None and fps <= 0:
            raise ConfigError(f"source {uri}: fps must be > 0, got {fps}")
        self._fps_override = fps
        self.nominal_fps: float | None = fps
        self._pacer = Pacer(None)
        self._pending: Produced | None = None
        self._seq = 0
        self._opened = False

    def open(self) -> None:
        """Open the underlying file/device (raises ``SourceError``) and restart the schedule."""
        self._open()
        fps = self._fps_override or self._native_fps() or 30.0
        self.nominal_fps = fps
        self._pacer = Pacer(fps if self.rate == "realtime" else None)
        self._pending = None
        self._seq = 0
        self._opened = True

    def read(self, timeout_s: float) -> ReadResult:
        """Next frame, paced by the rate; END after the last frame unless ``loop``; ERROR with a detail."""
        if not self._opened:
            return ReadResult(SourceStatus.ERROR, detail=f"{self.uri}: read before open()")
        if self._pending is None:
            produced = self._produce()
            if isinstance(produced, ReadResult):
                return produced
            self._pending = produced
        wait = self._pacer.wait_s(time.monotonic())
        if wait > timeout_s:
            time.sleep(max(0.0, timeout_s))
            return ReadResult(SourceStatus.TIMEOUT, detail="next frame not due yet")
        if wait > 0:
            time.sleep(wait)
        image, index = self._pending
        self._pending = None
        self._pacer.advance()
        seq = self._seq
        self._seq += 1
        return ok(image, seq, index)

    def close(self) -> None:
        self._opened = False
        self._pending = None
        self._close()

    # -- hooks -------------------------------------------------------------------------------------------
    @abstractmethod
    def _open(self) -> None:
        """Open the medium; raise ``SourceError`` (or a subclass) naming it when that fails."""

    @abstractmethod
    def _produce(self) -> Produced | ReadResult:
        """Decode the next frame, or return an END / ERROR ``ReadResult`` (never raise for data problems)."""

    def _native_fps(self) -> float | None:
        """The medium's own frame rate when it has one."""
        return None

    def _close(self) -> None:  # noqa: B027 - an optional hook: sources without a medium to release keep it
        """Release the medium (default: nothing)."""

    def seek(self, index: int) -> None:
        """Continue from source index ``index`` (used by the watchdog to resume after a reopen)."""
        self._pending = None
        self._seek(index)

    def _seek(self, index: int) -> None:  # noqa: B027 - an optional hook: not seekable unless overridden
        """Default: not seekable; replay restarts from the beginning."""

    def __enter__(self) -> PacedSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
