"""Frame normalisation, in one place: every frame the runtime, the sources and preprocessing handle is a
contiguous (H, W, 3) uint8 BGR array (OpenCV's order)."""

from __future__ import annotations

import cv2
import numpy as np

from liveredge.edge.errors import PreprocessError


def as_bgr(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """``frame`` as a contiguous uint8 BGR (H, W, 3) array: grey (H, W) / (H, W, 1) and BGRA are converted, BGR is
    returned as is (copied only when not contiguous). :class:`PreprocessError` naming ``name`` when unusable."""
    if not isinstance(frame, np.ndarray):
        raise PreprocessError(f"{name}: expected a numpy image array, got {type(frame).__name__}")
    if frame.size == 0:
        raise PreprocessError(f"{name}: empty frame (shape {frame.shape}); check the source")
    if frame.dtype != np.uint8:
        raise PreprocessError(
            f"{name}: {frame.dtype} pixels, expected 8-bit (uint8); window/scale 16-bit or float data to 0..255 first"
        )
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(np.ascontiguousarray(frame.reshape(frame.shape[:2])), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame if frame.flags.c_contiguous else np.ascontiguousarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    raise PreprocessError(
        f"{name}: shape {frame.shape} is not an image; expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
    )
