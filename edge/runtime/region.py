"""Region state for a stream: estimate the ultrasound region once, re-estimate only when the geometry changes.

The first frame of a geometry gets a provisional region (``detect_region`` on that frame, ~40 ms at 640x480);
after ``warmup_frames`` frames the region is re-fitted once over that window (``detect_region_video``, which
also uses motion). From then on a :class:`~liveredge.edge.preprocess.RegionTracker` checks each frame for a size
or geometry change (its probe pixels only, ~15-25 µs at 640x480) and triggers a new estimate.
:meth:`RegionState.invalidate` forces one (reconnect). :meth:`RegionState.settled` / :meth:`RegionState.moved`
split :meth:`~RegionState.update` in two so the check can run while the model runs (``runtime.stages``).
"""

from __future__ import annotations

import numpy as np

from liveredge.edge.errors import PreprocessError
from liveredge.edge.preprocess import (
    Preprocessor,
    PreprocessSpec,
    Region,
    RegionTracker,
    detect_region,
    detect_region_video,
)


class RegionState:
    """Holds the current :class:`Preprocessor`, whether the region is usable, and the region in model-input space."""

    def __init__(self, spec: PreprocessSpec, warmup_frames: int = 15) -> None:
        self.spec = spec
        self.warmup_frames = max(1, warmup_frames)
        self.region: Region | None = None
        self.preprocessor: Preprocessor | None = None
        self.input_region: np.ndarray | None = None  # bool (height, width): region pixels in the model input
        self.estimates = 0
        self._tracker: RegionTracker | None = None
        self._window: list[np.ndarray] = []

    @property
    def ok(self) -> bool:
        return self.region is not None and self.region.ok

    def invalidate(self) -> None:
        """Forget the region: the next frame starts a new estimate (after a reconnect or a device change)."""
        self.region = self.preprocessor = self._tracker = None
        self._window = []

    def update(self, image: np.ndarray) -> Preprocessor:
        """The preprocessor to use for ``image`` (uint8 BGR (H, W, 3)), re-estimating when needed."""
        if self._tracker is None or self._tracker.update(image):
            self._adopt(detect_region(image), image)
            self._window = [image]
        elif 0 < len(self._window) < self.warmup_frames:
            self._window.append(image)
            if len(self._window) == self.warmup_frames:
                self._adopt(detect_region_video(self._window), image)
                self._window = []
        if self.preprocessor is None:
            raise PreprocessError("internal: no preprocessor after region estimation")
        return self.preprocessor

    def settled(self, image: np.ndarray) -> Preprocessor | None:
        """The current preprocessor when :meth:`update` would only run the geometry check for ``image`` (region
        fitted, warm-up over, same frame size); None otherwise. Pair it with :meth:`moved`."""
        if self._tracker is None or self._window or self.preprocessor is None:
            return None
        return self.preprocessor if self.preprocessor.frame_shape == image.shape[:2] else None

    def moved(self, image: np.ndarray) -> bool:
        """The geometry check :meth:`update` runs on a settled region: True when ``image`` needs a re-estimate."""
        return self._tracker is None or self._tracker.update(image)

    def _adopt(self, region: Region, image: np.ndarray) -> None:
        self.estimates += 1
        self.region = region
        mask = region.mask if region.ok else np.full(image.shape[:2], 255, np.uint8)
        self.preprocessor = Preprocessor(self.spec, mask)
        self.input_region = self.preprocessor.gray(np.ascontiguousarray(mask)).copy() > 127
        if self._tracker is None:
            self._tracker = RegionTracker(region, image)
        else:
            self._tracker.reset(region, image)
