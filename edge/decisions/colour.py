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
        self._ys: np.ndarray | None = None
        self._xs: np.ndarray | None = None

    def reset(self, mask: np.ndarray | None) -> None:
        """Sample positions for the uint8/bool (H, W) region ``mask`` (None: no region, nothing is checked)."""
        if mask is None:
            self._ys = self._xs = None
            return
        ys, xs = np.nonzero(mask)
        stride = max(1, int(np.ceil(len(ys) / MAX_SAMPLES)))
        self._ys, self._xs = ys[::stride].copy(), xs[::stride].copy()

    def fraction(self, image: np.ndarray) -> float:
        """Share of sampled region pixels of the uint8 BGR ``image`` that are strongly coloured (0 for grey)."""
        if self._ys is None or self._xs is None or len(self._ys) == 0 or image.ndim != 3 or image.shape[2] < 3:
            return 0.0
        if int(self._ys[-1]) >= image.shape[0] or int(self._xs.max()) >= image.shape[1]:
            return 0.0  # the frame is not the size the region was found in: the tracker re-estimates next
        px = image[self._ys, self._xs, :3]  # uint8 (n, 3): a few kB, no image-sized temporary
        hi, lo = px.max(axis=1), px.min(axis=1)
        return float(np.count_nonzero(((hi - lo) >= CHROMA_MIN) & (hi >= VALUE_MIN))) / len(hi)

    def fires(self, image: np.ndarray) -> bool:
        """Whether the region shows colour flow (the frame is then not a B-mode frame the model knows)."""
        return self.fraction(image) > COLOUR_FLOW_FRACTION
