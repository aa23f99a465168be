"""The source contract: status, frame record, the ``Source`` protocol and small sans-I/O helpers.

Every frame a source yields is an (H, W, 3) uint8 **BGR** image (OpenCV's order), stamped with
``t_capture`` = ``time.monotonic()`` seconds at the moment the frame was dequeued from the device or file
(after any real-time pacing wait), a sequence number ``seq`` (0.., counts every frame the source produced,
so gaps mean frames dropped before the consumer saw them) and ``source_index`` (frame index in a file, or
``seq`` for live sources).
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError, SourceError
from liveredge.edge.image import as_bgr

__all__ = [
    "Frame",
    "ReadResult",
    "Source",
    "SourceNotSupported",
    "SourceStatus",
    "SourceUnavailable",
    "as_bgr",
    "Pacer",
    "is_frozen",
    "ok",
]


class SourceStatus(enum.Enum):
    """Outcome of one :meth:`Source.read`."""

    OK = "ok"  # a frame is attached
    TIMEOUT = "timeout"  # no frame within the timeout; the source may still deliver later
    END = "end"  # a finite source (file, folder, clip) has no more frames
    ERROR = "error"  # the source failed (vanished, truncated, corrupt); ``detail`` says why


@dataclass(frozen=True)
class Frame:
    """One captured frame. ``image`` is (H, W, 3) uint8 BGR; times are ``time.monotonic()`` seconds.

    ``frozen`` is set by :class:`~liveredge.edge.sources.watchdog.WatchedSource` when the image repeats the
    previous one (see :func:`is_frozen`); the decisions side maps it to ``Quality.FROZEN``.
    """

    image: np.ndarray
    seq: int
    t_capture: float
    source_index: int
    frozen: bool = False


@dataclass(frozen=True)
class ReadResult:
    """What :meth:`Source.read` returns: a status, the frame when ``status is OK``, and a human detail."""

    status: SourceStatus
    frame: Frame | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is SourceStatus.OK


@runtime_checkable
class Source(Protocol):
    """A frame source. ``open`` raises :class:`SourceError`; ``read`` never raises for data problems."""

    uri: str
    identity: str  # stable identity to reopen by: by-id device path, absolute file path, url
    nominal_fps: float | None

    def open(self) -> None: ...

    def read(self, timeout_s: float) -> ReadResult: ...

    def close(self) -> None: ...


class SourceUnavailable(SourceError):
    """The source does not exist or cannot be opened right now (file missing, device absent, server down)."""


class SourceNotSupported(SourceError):
    """The URI names a kind of source this install cannot provide."""


def ok(image: np.ndarray, seq: int, source_index: int, t_capture: float | None = None) -> ReadResult:
    """Build an OK result, stamping ``t_capture`` now unless given."""
    stamp = time.monotonic() if t_capture is None else t_capture
    return ReadResult(SourceStatus.OK, Frame(image, seq, stamp, source_index))


def is_frozen(
    prev: np.ndarray | None, cur: np.ndarray, *, step: int = 4, tol: int = 2, max_changed: float = 0.002
) -> bool:
    """True when ``cur`` repeats ``prev`` (a scanner freeze or a stuck source).

    Cheap: compares every ``step``-th pixel (all channels) of both uint8 images; a sample "changed" when it
    differs by more than ``tol`` grey levels; frozen when at most ``max_changed`` (fraction 0..1) of the samples
    changed (so a blinking clock or cursor in the overlay does not hide a freeze). Different shapes → False.
    About 0.1 ms for a 480×640×3 frame at ``step=4`` (OpenCV nearest-neighbour subsampling).
    """
    if prev is None or prev.shape != cur.shape:
        return False
    size = (max(1, cur.shape[1] // step), max(1, cur.shape[0] // step))  # nearest = every step-th pixel, fast
    a = cv2.resize(prev, size, interpolation=cv2.INTER_NEAREST).reshape(-1)
    b = cv2.resize(cur, size, interpolation=cv2.INTER_NEAREST).reshape(-1)
    diff = cv2.absdiff(a, b)
    changed = cv2.countNonZero(cv2.threshold(diff, tol, 255, cv2.THRESH_BINARY)[1])
    return bool(changed <= max_changed * a.size)


class Pacer:
    """Real-time schedule for replaying recorded frames: frame ``k`` is due at ``t0 + k / fps``.

    ``fps=None`` means "as fast as possible" (no waiting). Like a probe's hardware clock, the schedule holds its
    average rate: a frame delivered a little late (sleep overshoot, a busy CPU) does not push later frames back.
    Only when the consumer falls more than ``max_lag_s`` behind (it stopped reading) does the schedule re-anchor
    instead of bursting through the backlog. Sans-I/O: the clock is passed in; :meth:`wait_s` says how long to sleep.
    """

    def __init__(self, fps: float | None, max_lag_s: float = 0.1) -> None:
        if fps is not None and fps <= 0:
            raise ConfigError(f"replay rate: fps must be > 0, got {fps}")
        self.fps = fps
        self.max_lag_s = max_lag_s
        self._t0: float | None = None
        self._k = 0

    def wait_s(self, now: float) -> float:
        """Seconds to wait before the next frame is due (0 when due or unpaced)."""
        if self.fps is None:
            return 0.0
        if self._t0 is None:
            self._t0, self._k = now, 0
            return 0.0
        due = self._t0 + self._k / self.fps
        if now - due > max(self.max_lag_s, 1.0 / self.fps):  # far behind: re-anchor
            self._t0, self._k = now, 0
            return 0.0
        return max(0.0, due - now)

    def advance(self) -> None:
        """Mark the due frame as delivered."""
        self._k += 1

    def reset(self) -> None:
        self._t0, self._k = None, 0
