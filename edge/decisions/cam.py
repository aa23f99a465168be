"""Class-activation heatmap from a model's CAM output (sans-I/O, numpy + OpenCV resize).

The model's CAM output is a float32 map (h, w, n_classes) in the model-input geometry (after crop and
letterbox); the heatmap of one class is its channel, negative evidence clipped to 0, scaled to 0..255 and
resized to the model input size (height, width). Drawing it on a frame is the display sink's job.
"""

from __future__ import annotations

import cv2
import numpy as np

from liveredge.edge.errors import ModelError


def cam_heatmap(cam: np.ndarray, class_index: int, size: tuple[int, int]) -> np.ndarray:
    """uint8 (height, width) heatmap of ``class_index`` from a (h, w, n_classes) CAM; all zero when flat."""
    if cam.ndim != 3 or not 0 <= class_index < cam.shape[2]:
        raise ModelError(f"CAM must be (h, w, n_classes) with class {class_index} in range, got shape {cam.shape}")
    channel = np.maximum(cam[:, :, class_index].astype(np.float32), 0.0)
    top = float(channel.max())
    scaled = np.zeros_like(channel) if top <= 0 else channel * (255.0 / top)
    height, width = size
    return cv2.resize(scaled, (width, height), interpolation=cv2.INTER_LINEAR).round().astype(np.uint8)
