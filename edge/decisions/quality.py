"""Quality gate: per-frame image checks and per-result probability checks (sans-I/O).

Image checks run on the model's 8-bit grayscale input (the letterboxed crop, ``Preprocessor.gray``) restricted to
the ultrasound region as it lands in that input (``region`` bool (height, width)); intensities are 0..255:

- FROZEN: mean absolute difference to the previous frame's input below ``frozen_mad`` (grey levels);
- DARK: region mean below ``dark_mean``; SATURATED: fraction of region pixels >= ``clip_level`` above
  ``saturated_fraction``.

Probability checks (:func:`probability_flags`): OUT_OF_DISTRIBUTION when the normalised entropy of the raw
probabilities (0 = one-hot, 1 = uniform) exceeds the model's ``ood_threshold`` (calibrated on validation data,
from the metadata ``operating_point``; None disables it); LOW_CONFIDENCE when the smoothed top probability is
below ``min_confidence``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.events import Quality

IMAGE_FLAGS = Quality.FROZEN | Quality.DARK | Quality.SATURATED | Quality.NO_REGION | Quality.OUT_OF_DISTRIBUTION
"""Flags meaning the frame itself is unusable (not folded into smoothing or exam aggregation)."""


@dataclass(frozen=True)
class GateConfig:
    """Image-quality thresholds (grey levels 0..255, fractions 0..1)."""

    frozen_mad: float = 0.25
    dark_mean: float = 12.0
    clip_level: int = 250
    saturated_fraction: float = 0.25


@dataclass(frozen=True)
class FrameStats:
    """Region statistics of one model input: mean grey level, clipped fraction, mean |difference| to previous."""

    mean: float
    clipped: float
    mad_prev: float | None


class ImageGate:
    """Stateful (remembers the previous input) image-quality check. Call :meth:`reset` on a new geometry."""

    def __init__(self, config: GateConfig = GateConfig()) -> None:
        self.config = config
        self._prev: np.ndarray | None = None
        self._spare: np.ndarray | None = None  # the other of two reused value buffers
        self._scratch: np.ndarray | None = None  # reused for |difference| and the clipped mask
        self._region: tuple[np.ndarray | None, tuple[int, ...], np.ndarray] | None = None  # (region, shape, indices)

    def stats(self, gray: np.ndarray, region: np.ndarray | None) -> FrameStats:
        """Statistics of a uint8 (height, width) input over the bool ``region`` (whole image when None).

        The region's pixel indices are found once per region array; each frame gathers the values into reused
        buffers (this frame's and the previous frame's) and reduces them with exact sums (``cv2.sumElems`` of
        integers, divided once: the same numbers as numpy's mean, without its cast buffers)."""
        idx = self._indices(gray, region)
        if self._spare is None or self._spare.shape != idx.shape:
            self._spare, self._scratch = np.empty(idx.shape, np.uint8), np.empty(idx.shape, np.uint8)
        values = self._spare
        np.take(gray.reshape(-1), idx, out=values)
        n = values.size
        mad = None
        if self._prev is not None and self._prev.shape == values.shape:
            mad = cv2.sumElems(cv2.absdiff(values, self._prev, dst=self._scratch))[0] / n
        self._spare, self._prev = self._prev, values
        level = math.ceil(self.config.clip_level) - 1  # v >= clip_level  <=>  v > ceil(clip_level) - 1 (integers)
        clipped = cv2.countNonZero(cv2.threshold(values, level, 1, cv2.THRESH_BINARY, dst=self._scratch)[1]) / n
        return FrameStats(cv2.sumElems(values)[0] / n, float(clipped), mad)

    def _indices(self, gray: np.ndarray, region: np.ndarray | None) -> np.ndarray:
        """Flat indices of the region's pixels in ``gray`` (all pixels when None or empty), cached per region."""
        cached = self._region
        if cached is not None and cached[0] is region and cached[1] == gray.shape:
            return cached[2]
        idx = np.flatnonzero(region) if region is not None else np.zeros(0, np.intp)
        if idx.size == 0:
            idx = np.arange(gray.size, dtype=np.intp)
        self._region = (region, gray.shape, idx)
        return idx

    def check(self, gray: np.ndarray, region: np.ndarray | None) -> tuple[Quality, FrameStats]:
        """Quality flags (FROZEN / DARK / SATURATED) of one input and its statistics."""
        s = self.stats(gray, region)
        q = Quality.OK
        if s.mad_prev is not None and s.mad_prev < self.config.frozen_mad:
            q |= Quality.FROZEN
        if s.mean < self.config.dark_mean:
            q |= Quality.DARK
        if s.clipped > self.config.saturated_fraction:
            q |= Quality.SATURATED
        return q, s

    def reset(self) -> None:
        self._prev = None
        self._region = None


def normalized_entropy(probs: np.ndarray) -> float:
    """Shannon entropy of ``probs`` divided by log(n): 0 for one-hot, 1 for uniform."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    p = p / p.sum()
    return float(-(p * np.log(p)).sum() / np.log(len(p))) if len(p) > 1 else 0.0


def probability_flags(
    probs: np.ndarray, smoothed: np.ndarray, min_confidence: float, ood_threshold: float | None
) -> Quality:
    """OUT_OF_DISTRIBUTION (raw probabilities) and LOW_CONFIDENCE (smoothed top probability) flags."""
    q = Quality.OK
    if ood_threshold is not None and normalized_entropy(probs) > ood_threshold:
        q |= Quality.OUT_OF_DISTRIBUTION
    if float(np.max(smoothed)) < min_confidence:
        q |= Quality.LOW_CONFIDENCE
    return q
