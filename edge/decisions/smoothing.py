"""Time-aware smoothing of class probabilities and hysteresis before the reported class changes (sans-I/O).

Both classes take the frame time ``t`` in seconds (``time.monotonic()``; any monotonic clock works) and
probabilities in 0..1 as float arrays of shape (n_classes,). They hold no I/O and are tested on arrays.
"""

from __future__ import annotations

import math

import numpy as np

from liveredge.edge.errors import ConfigError


class TimeEma:
    """Exponential moving average whose weight follows elapsed time, not frame count.

    ``alpha = 1 - exp(-dt / tau_s)``: a frame 1 tau after the previous one moves the average 63 % of the way;
    dropped frames or a slower source therefore do not change the time constant. ``tau_s = 0`` disables smoothing.
    """

    def __init__(self, tau_s: float) -> None:
        if not (tau_s >= 0 and math.isfinite(tau_s)):
            raise ConfigError(f"smoothing time constant must be >= 0 s, got {tau_s}")
        self.tau_s = float(tau_s)
        self._value: np.ndarray | None = None
        self._t = 0.0

    @property
    def value(self) -> np.ndarray | None:
        return None if self._value is None else self._value.copy()

    def alpha(self, dt: float) -> float:
        """Weight of a new sample that arrives ``dt`` seconds after the previous one."""
        if self.tau_s == 0:
            return 1.0
        return 1.0 - math.exp(-max(dt, 0.0) / self.tau_s)

    def update(self, t: float, probs: np.ndarray) -> np.ndarray:
        """Fold in ``probs`` observed at time ``t``; returns the smoothed probabilities (a new array)."""
        p = np.asarray(probs, dtype=np.float64)
        if self._value is None:
            self._value = p.copy()
        else:
            a = self.alpha(t - self._t)
            self._value = self._value + a * (p - self._value)
        self._t = t
        return self._value.copy()

    def reset(self) -> None:
        self._value = None


class Hysteresis:
    """Reported class with a margin and a minimum dwell time before it changes.

    A candidate class replaces the reported one only after it has led continuously for ``min_dwell_s`` seconds
    and beats the reported class by ``margin`` (probability units). After :meth:`reset` nothing is reported
    until a class has led for ``min_dwell_s``.
    """

    def __init__(self, margin: float, min_dwell_s: float) -> None:  # defaults: engine.DecisionConfig
        if not (0 <= margin < 1) or min_dwell_s < 0:
            raise ConfigError(f"hysteresis needs 0 <= margin < 1 and min_dwell_s >= 0, got {margin}, {min_dwell_s}")
        self.margin = margin
        self.min_dwell_s = min_dwell_s
        self.reported: int | None = None
        self._leader: int | None = None
        self._since = 0.0

    def update(self, t: float, probs: np.ndarray) -> int | None:
        """Feed smoothed probabilities at time ``t``; returns the reported class index or None (not yet)."""
        leader = int(np.argmax(probs))
        if leader != self._leader:
            self._leader, self._since = leader, t
        if leader == self.reported:
            return self.reported
        dwelt = t - self._since >= self.min_dwell_s
        beats = self.reported is None or probs[leader] >= probs[self.reported] + self.margin
        if dwelt and beats:
            self.reported = leader
        return self.reported

    def reset(self) -> None:
        self.reported = None
        self._leader = None
