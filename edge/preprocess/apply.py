"""Estimate once, apply cheaply: a :class:`Preprocessor` holds everything precomputed for one region.

Given a :class:`PreprocessSpec` and the ultrasound-region mask of a frame geometry (from
:mod:`liveredge.edge.preprocess` region detection, a DICOM region, or ground truth), the constructor computes
the crop box, the cropped mask and the letterbox placement once. :meth:`Preprocessor.apply` then costs one crop,
one colour conversion, one mask, one resize and one table lookup per frame — O(pixels), no per-frame search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from liveredge.edge.errors import PreprocessError
from liveredge.edge.preprocess.spec import PreprocessSpec, with_channels

if TYPE_CHECKING:
    from liveredge.edge.preprocess.region import Region


@dataclass(frozen=True)
class Placement:
    """Where the cropped region lands in the model input: box (x, y, w, h) inside (height, width)."""

    crop: tuple[int, int, int, int]
    target: tuple[int, int, int, int]


def placement_for(spec: PreprocessSpec, mask: np.ndarray) -> Placement:
    """Crop box from the mask's bounding box (or the full frame) and its letterboxed target box."""
    if mask.ndim != 2 or mask.size == 0:
        raise PreprocessError(f"region mask must be a non-empty (H, W) array, got shape {mask.shape}")
    if spec.crop == "region":
        points = cv2.findNonZero((mask > 0).astype(np.uint8))
        if points is None:
            raise PreprocessError("region mask is empty: no ultrasound region to crop")
        crop = tuple(int(v) for v in cv2.boundingRect(points))
    else:
        crop = (0, 0, int(mask.shape[1]), int(mask.shape[0]))
    out_h, out_w = spec.input_size
    if spec.resize == "stretch":
        return Placement(crop=crop, target=(0, 0, out_w, out_h))  # type: ignore[arg-type]
    scale = min(out_w / crop[2], out_h / crop[3])
    w = max(1, min(out_w, round(crop[2] * scale)))
    h = max(1, min(out_h, round(crop[3] * scale)))
    return Placement(crop=crop, target=((out_w - w) // 2, (out_h - h) // 2, w, h))  # type: ignore[arg-type]


class Preprocessor:
    """Applies one spec to frames of one geometry. Not thread-safe (reuses its output buffer)."""

    def __init__(self, spec: PreprocessSpec, mask: np.ndarray) -> None:
        self.spec = spec
        self.frame_shape = tuple(mask.shape[:2])
        self.placement = placement_for(spec, mask)
        x, y, w, h = self.placement.crop
        crop_mask = (mask[y : y + h, x : x + w] > 0).astype(np.uint8) * 255
        self._mask = crop_mask if spec.mask_outside and not bool(crop_mask.all()) else None
        tx, ty, tw, th = self.placement.target
        self._interp = cv2.INTER_AREA if tw <= w and th <= h else cv2.INTER_LINEAR
        self._canvas = np.zeros(spec.input_size, dtype=np.uint8)
        self._float_lut = spec.float_lut()
        self._qluts: dict[tuple[float, int, str], np.ndarray] = {}

    @classmethod
    def from_region(cls, spec: PreprocessSpec, region: Region) -> Preprocessor:
        """Preprocessor for a detected :class:`Region`; raises :class:`PreprocessError` when its status is not ok."""
        if not region.ok:
            raise PreprocessError(f"no usable ultrasound region ({region.status}): {region.message}")
        return cls(spec, region.mask)

    def gray(self, frame: np.ndarray) -> np.ndarray:
        """Steps 1-4: the uint8 (height, width) image the model sees before normalisation (a view of a buffer)."""
        self._check(frame)
        x, y, w, h = self.placement.crop
        crop = frame[y : y + h, x : x + w]
        g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        if self._mask is not None:
            g = cv2.bitwise_and(g, self._mask)
        tx, ty, tw, th = self.placement.target
        cv2.resize(g, (tw, th), dst=self._canvas[ty : ty + th, tx : tx + tw], interpolation=self._interp)
        return self._canvas

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Float model input (height, width, channels), float32, per the spec (same numbers as ``spec.normalize``)."""
        return with_channels(self._float_lut[self.gray(frame)], self.spec.channels)

    def apply_quantized(self, frame: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
        """Integer model input (height, width, channels) for a quantised model input.

        Same numbers as ``spec.quantize_array``; the 256-entry table is built once per (scale, zero_point, dtype).
        """
        key = (float(scale), int(zero_point), str(dtype))
        lut = self._qluts.get(key)
        if lut is None:
            lut = self._qluts.setdefault(key, self.spec.lut(scale, zero_point, dtype))
        return with_channels(lut[self.gray(frame)], self.spec.channels)

    def _check(self, frame: np.ndarray) -> None:
        if frame.shape[:2] != self.frame_shape:
            raise PreprocessError(
                f"frame size {frame.shape[1]}x{frame.shape[0]} differs from the fitted region's "
                f"{self.frame_shape[1]}x{self.frame_shape[0]}: re-estimate the region"
            )
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
            raise PreprocessError(f"expected a uint8 BGR (H, W, 3) or gray (H, W) frame, got {frame.dtype} {frame.shape}")
