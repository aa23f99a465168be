"""Colour-flow check (sans-I/O): is the ultrasound region painted with colour or power Doppler?

The reference models learn from grey B-mode images only. A colour-flow or power-Doppler overlay turns part of the
region into saturated reds, blues and yellows, which the grey conversion maps to bright blobs the model has never
seen: on such a frame its answer means nothing, whatever its confidence. B-mode pixels are grey (JPEG and video
codecs leave a chroma of a few levels); Doppler pixels have a chroma (max - min of B, G, R) of 100 and more.

The frame is flagged OUT_OF_DISTRIBUTION when more than :data:`COLOUR_FLOW_FRACTION` of the region's pixels are
strongly coloured. The constants are design values from what the two kinds of pixels are, not fitted to any data
set: chroma >= 60 and brightness >= 60 (so dark noise with a large relative tint does not count), over 0.5 % of
the region: even a small flow signal, turned grey, is a bright blob a model can read as a lesion, while grey B-mode
screens have none (calipers and labels drawn in colour inside the image stay well below it). Sampled on a fixed grid of at most
:data:`MAX_SAMPLES` region pixels, chosen once per geometry, so a frame costs a few microseconds.
"""

from __future__ import annotations

import numpy as np

COLOUR_FLOW_FRACTION = 0.005
CHROMA_MIN = 60
VALUE_MIN = 60
MAX_SAMPLES = 2048


class ColourFlowCheck:
    """Fraction of strongly coloured pixels inside the region; :meth:`reset` with each new region mask."""

    def __init__(self) -> None:
        self._flat: np.ndarray | None = None  # sampled pixels as indices into the (H*W, channels) pixel rows
        self._shape: tuple[int, int] = (0, 0)
        self._px: np.ndarray = np.empty((0, 3), np.uint8)

    def reset(self, mask: np.ndarray | None) -> None:
        """Sample positions for the uint8/bool (H, W) region ``mask`` (None: no region, nothing is checked)."""
        if mask is None:
            self._flat = None
            return
        ys, xs = np.nonzero(mask)
        stride = max(1, int(np.ceil(len(ys) / MAX_SAMPLES)))
        self._shape = (int(mask.shape[0]), int(mask.shape[1]))
        self._flat = (ys[::stride].astype(np.intp) * self._shape[1] + xs[::stride]).astype(np.intp)

    def fraction(self, image: np.ndarray) -> float:
        """Share of sampled region pixels of the uint8 BGR ``image`` that are strongly coloured (0 for grey)."""
        flat = self._flat
        if flat is None or len(flat) == 0 or image.ndim != 3 or image.shape[2] < 3:
            return 0.0
        if image.shape[:2] != self._shape:
            return 0.0  # the frame is not the size the region was found in: the tracker re-estimates next
        rows = np.ascontiguousarray(image).reshape(-1, image.shape[2])  # a view for a frame as captured
        if self._px.shape != (len(flat), image.shape[2]) or self._px.dtype != image.dtype:
            self._px = np.empty((len(flat), image.shape[2]), image.dtype)
        px = np.take(rows, flat, axis=0, out=self._px)  # a few kB, no image-sized temporary
        b, g, r = px[:, 0], px[:, 1], px[:, 2]
        hi = np.maximum(np.maximum(b, g), r)
        chroma = hi - np.minimum(np.minimum(b, g), r)  # uint8: hi >= lo, no wrap
        return float(np.count_nonzero((chroma >= CHROMA_MIN) & (hi >= VALUE_MIN))) / len(flat)

    def fires(self, image: np.ndarray) -> bool:
        """Whether the region shows colour flow (the frame is then not a B-mode frame the model knows)."""
        return self.fraction(image) > COLOUR_FLOW_FRACTION
