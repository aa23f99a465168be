"""Exam aggregation: frame results between an exam start and end → one :class:`ExamSummary` (sans-I/O).

Frames whose quality has an image flag (frozen, dark, saturated, no region, out of distribution) are counted but
not used; the summary's class probabilities are the mean of the used frames' raw probabilities. The summary is
:data:`NOT_LIVER` when the "not a liver" gate fired on most of the frames that showed an image (all but dark /
no-region ones) — never a disease then; otherwise :data:`UNCERTAIN` when fewer than ``min_frames`` frames were
usable or the top mean probability of a liver class is below the model's ``min_confidence``.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from liveredge.edge.decisions.quality import IMAGE_FLAGS
from liveredge.edge.errors import ConfigError
from liveredge.edge.events import NOT_LIVER, UNCERTAIN, ExamSummary, FrameResult, Quality

_NO_IMAGE = Quality.DARK | Quality.NO_REGION


class ExamAggregator:
    """Collects :class:`FrameResult` s of one exam at a time."""

    def __init__(
        self, labels: tuple[str, ...], min_confidence: float, min_frames: int = 5, site_sha256: str | None = None
    ) -> None:
        if min_frames < 1:
            raise ConfigError(f"an exam needs min_frames >= 1, got {min_frames}")
        self.labels = labels
        self.min_confidence = min_confidence
        self.min_frames = min_frames
        self.site_sha256 = site_sha256
        self.exam_id: str | None = None
        self._t_start = 0.0
        self._sum = np.zeros(len(labels), dtype=np.float64)
        self._total = 0
        self._used = 0
        self._imaged = 0
        self._not_liver = 0
        self._counts: Counter[str] = Counter()

    @property
    def active(self) -> bool:
        return self.exam_id is not None

    def start(self, exam_id: str, t: float) -> None:
        """Begin an exam at time ``t`` (seconds, the runtime's monotonic clock). An open exam must end first."""
        if self.exam_id is not None:
            raise ConfigError(f"exam {self.exam_id!r} is still open; end it before starting {exam_id!r}")
        self.exam_id, self._t_start = exam_id, t
        self._sum[:] = 0
        self._total = self._used = self._imaged = self._not_liver = 0
        self._counts = Counter()

    def add(self, result: FrameResult) -> None:
        """Count one frame result (ignored when no exam is open)."""
        if self.exam_id is None:
            return
        self._total += 1
        for name in result.quality.names() or ["ok"]:
            self._counts[name] += 1
        if not result.quality & _NO_IMAGE:
            self._imaged += 1
            self._not_liver += result.label == NOT_LIVER
        if not result.quality & IMAGE_FLAGS:
            self._used += 1
            self._sum += np.asarray(result.probs, dtype=np.float64)

    def end(self, t: float) -> ExamSummary:
        """Close the open exam at time ``t`` and summarise it."""
        if self.exam_id is None:
            raise ConfigError("no exam is open; start one before ending it")
        mean = self._sum / self._used if self._used else np.zeros(len(self.labels))
        liver = np.array([name != NOT_LIVER for name in self.labels])
        top = int(np.argmax(np.where(liver, mean, -1.0)))
        confident = self._used >= self.min_frames and mean[top] >= self.min_confidence
        label, confidence = (self.labels[top], float(mean[top])) if confident else (UNCERTAIN, float(mean[top]))
        if self._imaged and 2 * self._not_liver > self._imaged:
            label, confidence = NOT_LIVER, self._not_liver / self._imaged
        summary = ExamSummary(
            exam_id=self.exam_id,
            label=label,
            confidence=round(confidence, 6),
            class_probs={name: round(float(p), 6) for name, p in zip(self.labels, mean, strict=True)},
            frames_total=self._total,
            frames_used=self._used,
            quality_counts=dict(self._counts),
            t_start=self._t_start,
            t_end=t,
            wall_time=time.time(),
            site_sha256=self.site_sha256,
        )
        self.exam_id = None
        return summary
