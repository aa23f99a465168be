"""Video files through OpenCV's FFmpeg backend (``file://clip.mp4`` or a bare path)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2

from liveredge.edge.bounds import check_pixels
from liveredge.edge.errors import DataError, SourceError
from liveredge.edge.sources.base import ReadResult, SourceStatus, SourceUnavailable, as_bgr
from liveredge.edge.sources.paced import PacedSource, Produced


class VideoFileSource(PacedSource):
    """Frames of a video file, paced in real time or as fast as possible.

    A file that is removed while being read, or that ends before the frame count in its header (truncated),
    yields ``ERROR`` with a detail saying so; a clean end yields ``END`` (or rewinds when ``loop``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        uri: str | None = None,
        rate: str = "realtime",
        fps: float | None = None,
        loop: bool = False,
    ) -> None:
        self.path = Path(path)
        super().__init__(uri or str(path), str(self.path.resolve()), rate=rate, fps=fps, loop=loop)
        self._cap: cv2.VideoCapture | None = None
        self._index = 0
        self._expected = 0

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(f"video {self.path}: no such file; check the path")
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"video {self.path}: cannot be decoded (truncated, corrupt or not a video); re-export or re-copy it"
            )
        try:
            check_pixels(
                int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), f"video {self.path}"
            )
        except DataError as exc:
            cap.release()
            raise SourceError(str(exc)) from exc
        self._cap = cap
        self._expected = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        self._index = 0

    def _native_fps(self) -> float | None:
        fps = self._cap.get(cv2.CAP_PROP_FPS) if self._cap is not None else 0.0
        return float(fps) if 0.5 < fps < 1000 else None

    def _seek(self, index: int) -> None:
        if self._cap is not None and index > 0:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, float(index))
            self._index = index

    def _produce(self) -> Produced | ReadResult:
        if self._cap is None:
            return ReadResult(SourceStatus.ERROR, detail=f"video {self.path}: not open")
        if not os.path.exists(self.path):
            return ReadResult(SourceStatus.ERROR, detail=f"video {self.path}: file removed while reading")
        try:
            good, image = self._cap.read()
        except cv2.error as exc:
            return ReadResult(
                SourceStatus.ERROR, detail=f"video {self.path}: decoder error at frame {self._index}: {exc}"
            )
        if not good or image is None:
            return self._at_end()
        index = self._index
        self._index += 1
        return as_bgr(image), index

    def _at_end(self) -> Produced | ReadResult:
        if self._expected and self._index < self._expected - 1:
            return ReadResult(
                SourceStatus.ERROR,
                detail=f"video {self.path}: truncated or corrupt: decoded {self._index} of {self._expected} frames",
            )
        if self.loop and self._index > 0 and self._cap is not None:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0.0)
            self._index = 0
            good, image = self._cap.read()
            if good and image is not None:
                self._index = 1
                return as_bgr(image), 0
        return ReadResult(SourceStatus.END, detail=f"video {self.path}: end after {self._index} frames")

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
