"""Detect + apply in one call: how datasets, calibration and evaluation turn a stored frame into a tensor.

The runtime does the same two steps but keeps the :class:`Preprocessor` between frames (estimate once,
apply cheaply, :class:`~liveredge.edge.preprocess.tracker.RegionTracker` to notice changes). Both paths run
exactly :func:`~liveredge.edge.preprocess.detect.detect_region` and :meth:`Preprocessor.apply`, so a model
sees the same numbers in training, int8 calibration and on the device.
"""

from __future__ import annotations

import numpy as np

from liveredge.edge.errors import PreprocessError
from liveredge.edge.preprocess.apply import Preprocessor
from liveredge.edge.preprocess.detect import as_bgr, detect_region
from liveredge.edge.preprocess.region import Region
from liveredge.edge.preprocess.spec import PreprocessSpec


def preprocessor_for(frame_bgr: np.ndarray, spec: PreprocessSpec, region: Region | None = None) -> Preprocessor:
    """A :class:`Preprocessor` for this frame's geometry (detects the region unless one is given or not needed).

    Raises :class:`PreprocessError` when the spec needs a region and the frame has none.
    """
    bgr = as_bgr(frame_bgr)
    if spec.crop == "full" and not spec.mask_outside:
        return Preprocessor(spec, np.full(bgr.shape[:2], 255, dtype=np.uint8))
    region = detect_region(bgr) if region is None else region
    if region.frame_shape != bgr.shape[:2]:
        raise PreprocessError(
            f"region was fitted on {region.frame_shape[1]}x{region.frame_shape[0]} frames, "
            f"this frame is {bgr.shape[1]}x{bgr.shape[0]}"
        )
    return Preprocessor.from_region(spec, region)


def prepare_gray(frame_bgr: np.ndarray, spec: PreprocessSpec, region: Region | None = None) -> np.ndarray:
    """Steps 1-4 of the spec: uint8 (height, width) model-view image (a new array)."""
    bgr = as_bgr(frame_bgr)
    return preprocessor_for(bgr, spec, region).gray(bgr).copy()


def prepare_frame(frame_bgr: np.ndarray, spec: PreprocessSpec, region: Region | None = None) -> np.ndarray:
    """Float32 model input (height, width, channels) for one uint8 BGR frame: detect the region, apply the spec.

    ``region`` skips detection (e.g. ground truth or a region fitted over a clip's warm-up window).
    """
    bgr = as_bgr(frame_bgr)
    return preprocessor_for(bgr, spec, region).apply(bgr)
