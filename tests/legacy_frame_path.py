"""The runtime's per-frame path as it was before issue 20 (reference for tests/test_runtime_equivalence.py).

Kept verbatim in behaviour: the region tracker converts the WHOLE frame to grey for every check, the crop is
converted and masked into fresh arrays, the input table is applied with numpy indexing, the image gate gathers
the region with a boolean mask into int16 copies, and the model runs on the calling thread. Only the tests use
it; it must not be "optimised".
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.decisions.quality import FrameStats, ImageGate
from liveredge.edge.events import FrameResult, Quality
from liveredge.edge.preprocess import Preprocessor, Region
from liveredge.edge.preprocess.detect import as_bgr, background_threshold
from liveredge.edge.preprocess.tracker import _FIRE, _probe_points
from liveredge.edge.runtime.processor import FrameProcessor
from liveredge.edge.runtime.region import RegionState
from liveredge.edge.sources.base import Frame


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(as_bgr(frame), cv2.COLOR_BGR2GRAY)


def _patch_means(gray: np.ndarray, pts: np.ndarray) -> np.ndarray:
    offs = np.arange(-2, 3)
    ys = np.clip(pts[:, 1, None, None] + offs[None, :, None], 0, gray.shape[0] - 1)
    xs = np.clip(pts[:, 0, None, None] + offs[None, None, :], 0, gray.shape[1] - 1)
    return gray[ys, xs].reshape(len(pts), -1).mean(axis=1)


class LegacyTracker:
    """The old RegionTracker: a full-frame grey conversion on every update."""

    def __init__(self, region: Region, frame: np.ndarray, n_probes: int = 32) -> None:
        self.n_probes = n_probes
        self.reset(region, frame)

    def reset(self, region: Region, frame: np.ndarray) -> None:
        self.region, self.shape = region, region.frame_shape
        self._inside, self._outside = _probe_points(region.mask, self.n_probes)
        gray = _gray(frame)
        self.dark = background_threshold(gray) + 1.0
        if len(self._outside):
            self._outside = self._outside[_patch_means(gray, self._outside) <= self.dark]

    def update(self, frame: np.ndarray) -> bool:
        if frame.shape[:2] != self.shape:
            return True
        if not self.region.ok:
            return False
        gray = _gray(frame)
        changed = False
        if len(self._inside):
            changed |= float((_patch_means(gray, self._inside) <= self.dark).mean()) >= _FIRE
        if len(self._outside) >= 4:
            changed |= float((_patch_means(gray, self._outside) > self.dark).mean()) >= _FIRE
        return changed


class LegacyRegionState(RegionState):
    def _adopt(self, region: Region, image: np.ndarray) -> None:
        self.estimates += 1
        self.region = region
        mask = region.mask if region.ok else np.full(image.shape[:2], 255, np.uint8)
        self.preprocessor = Preprocessor(self.spec, mask)
        self.input_region = legacy_gray(self.preprocessor, np.ascontiguousarray(mask)).copy() > 127
        if self._tracker is None:
            self._tracker = LegacyTracker(region, image)  # type: ignore[assignment]  # same duck type
        else:
            self._tracker.reset(region, image)


class LegacyGate(ImageGate):
    def stats(self, gray: np.ndarray, region: np.ndarray | None) -> FrameStats:
        values = gray[region] if region is not None else gray.ravel()
        if values.size == 0:
            values = gray.ravel()
        mad = None
        if self._prev is not None and self._prev.shape == values.shape:
            mad = float(np.mean(np.abs(values.astype(np.int16) - self._prev)))
        self._prev = values.astype(np.int16)
        return FrameStats(float(values.mean()), float(np.mean(values >= self.config.clip_level)), mad)


def legacy_gray(pre: Preprocessor, frame: np.ndarray) -> np.ndarray:
    """The old ``Preprocessor.gray``: fresh arrays for the grey crop and the masked crop."""
    x, y, w, h = pre.placement.crop
    crop = frame[y : y + h, x : x + w]
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if pre._mask is not None:
        g = cv2.bitwise_and(g, pre._mask)
    canvas = np.zeros(pre.spec.input_size, np.uint8)
    tx, ty, tw, th = pre.placement.target
    cv2.resize(g, (tw, th), dst=canvas[ty : ty + th, tx : tx + tw], interpolation=pre._interp)
    return canvas


class LegacyProcessor(FrameProcessor):
    """FrameProcessor with the old prepare/infer/post steps, run back to back on the calling thread."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.region = LegacyRegionState(self.model.meta.preprocess, self.region.warmup_frames)
        self.gate = LegacyGate(self.gate.config)

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, Quality]:
        pre = self.region.update(image)
        gray = legacy_gray(pre, image)
        table = self.model.input_lut if self.model.input_lut is not None else pre.spec.float_lut()
        x = table[gray]
        x = x[..., None] if pre.spec.channels == 1 else np.repeat(x[..., None], pre.spec.channels, axis=-1)
        quality, _ = self.gate.check(gray, self.region.input_region if self.region.ok else None)
        if not self.region.ok:
            quality |= Quality.NO_REGION
        return x, quality

    def process(self, frame: Frame, t_taken: float | None = None, t_media: float | None = None) -> FrameResult:
        t0 = time.monotonic() if t_taken is None else t_taken
        x, quality = self.prepare(frame.image)
        runner = self.model.runner
        runner.set_input(x)
        runner.invoke()
        probs = tempered(runner.probs(), self.model.meta.operating_point.temperature)
        if frame.frozen:
            quality |= Quality.FROZEN
        cam = runner.cam() if self.engine.liver_gate.needs_logits else None
        logits = None if cam is None else cam.reshape(-1, cam.shape[-1]).mean(axis=0)
        t_decide = frame.t_capture if t_media is None else t_media
        decision = self.engine.decide(t_decide, probs, quality | self.model.base_quality, logits)
        result = FrameResult(
            seq=frame.seq,
            t_capture=frame.t_capture,
            t_result=time.monotonic(),
            wall_time=time.time(),
            probs=tuple(round(float(p), 6) for p in probs),
            smoothed=tuple(round(p, 6) for p in decision.smoothed),
            label=decision.label,
            confidence=round(decision.confidence, 6),
            quality=decision.quality,
            exam_id=self.exam.exam_id,
            site_sha256=self.model.site_sha256,
            stage_ms={"total": (time.monotonic() - t0)},
        )
        self.exam.add(result)
        return result
