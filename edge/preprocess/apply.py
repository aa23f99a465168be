"""Estimate once, apply cheaply: a :class:`Preprocessor` holds everything precomputed for one region.

Given a :class:`PreprocessSpec` and the ultrasound-region mask of a frame geometry (from
:mod:`liveredge.edge.preprocess` region detection, a DICOM region, or ground truth), the constructor computes
the crop box, the cropped mask and the letterbox placement once. :meth:`Preprocessor.apply` then costs one crop,
one colour conversion, one mask, one resize and one table lookup per frame — O(pixels), no per-frame search.

Every step writes into arrays allocated once per geometry (the grey crop, the letterboxed canvas, the table
output with ``reuse=True``), and the table (steps 5-6 of :mod:`~liveredge.edge.preprocess.spec`) is applied
with ``cv2.LUT``: the runtime's per-frame path (:meth:`Preprocessor.apply_table` with ``reuse=True``) allocates
no image-sized array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from liveredge.edge.errors import PreprocessError
from liveredge.edge.preprocess.spec import PreprocessSpec

if TYPE_CHECKING:
    from liveredge.edge.preprocess.region import Region


_CV_LUT_DTYPES = frozenset(
    np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64)
)
"""Table dtypes ``cv2.LUT`` writes (others go through ``np.take``)."""


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
        self._crop_gray = np.empty((h, w), dtype=np.uint8)
        self._float_lut = spec.float_lut()
        self._qluts: dict[tuple[float, int, str], np.ndarray] = {}
        self._outs: dict[np.dtype, np.ndarray] = {}  # reused table outputs (height, width, channels) per dtype

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
        g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY, dst=self._crop_gray) if crop.ndim == 3 else crop
        if self._mask is not None:
            g = cv2.bitwise_and(g, self._mask, dst=self._crop_gray)
        tx, ty, tw, th = self.placement.target
        cv2.resize(g, (tw, th), dst=self._canvas[ty : ty + th, tx : tx + tw], interpolation=self._interp)
        return self._canvas

    def apply(self, frame: np.ndarray) -> np.ndarray:
        """Float model input (height, width, channels), float32, per the spec (same numbers as ``spec.normalize``)."""
        return self.apply_table(frame, self._float_lut)

    def apply_table(self, frame: np.ndarray, table: np.ndarray, *, reuse: bool = False) -> np.ndarray:
        """Model input (height, width, channels) through a 256-entry ``table`` (pixel → model value, any dtype):
        :meth:`gray` then :meth:`lookup`. This is the runtime's per-frame path (``FrameProcessor``)."""
        return self.lookup(self.gray(frame), table, reuse=reuse)

    def lookup(self, gray: np.ndarray, table: np.ndarray, *, reuse: bool = False) -> np.ndarray:
        """``table[gray]`` as (height, width, channels) of the table's dtype, with ``cv2.LUT`` (numpy for dtypes
        OpenCV lacks). ``reuse=True`` writes into a buffer kept per dtype: valid until the next ``reuse`` call."""
        table = np.asarray(table)
        if table.shape != (256,) or gray.dtype != np.uint8 or gray.shape != self.spec.input_size:
            raise PreprocessError(
                f"lookup needs a 256-entry table and a uint8 {self.spec.input_size} image, got "
                f"table {table.shape} and image {gray.dtype} {gray.shape}"
            )
        out = self._outs.get(table.dtype) if reuse else None
        if out is None:
            out = np.empty(self.spec.input_shape, dtype=table.dtype)
            if reuse:
                self._outs[table.dtype] = out
        plane = out[..., 0] if self.spec.channels == 1 else np.empty(self.spec.input_size, dtype=table.dtype)
        if table.dtype in _CV_LUT_DTYPES:
            cv2.LUT(gray, np.ascontiguousarray(table), dst=plane)  # plane is C-contiguous: written in place
        else:
            np.take(table, gray, out=plane)
        if self.spec.channels > 1:
            np.copyto(out, plane[..., None])
        return out

    def apply_quantized(self, frame: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
        """Integer model input (height, width, channels) for a quantised model input.

        Same numbers as ``spec.quantize_array``; the 256-entry table is built once per (scale, zero_point, dtype).
        """
        key = (float(scale), int(zero_point), str(dtype))
        lut = self._qluts.get(key)
        if lut is None:
            lut = self._qluts.setdefault(key, self.spec.lut(scale, zero_point, dtype))
        return self.apply_table(frame, lut)

    def _check(self, frame: np.ndarray) -> None:
        if frame.shape[:2] != self.frame_shape:
            raise PreprocessError(
                f"frame size {frame.shape[1]}x{frame.shape[0]} differs from the fitted region's "
                f"{self.frame_shape[1]}x{self.frame_shape[0]}: re-estimate the region"
            )
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
            raise PreprocessError(
                f"expected a uint8 BGR (H, W, 3) or gray (H, W) frame, got {frame.dtype} {frame.shape}"
            )
