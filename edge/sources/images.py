"""Still images: one image file, or a folder of images replayed in name order (e.g. a Recorder's frames/)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.bounds import check_image_file
from liveredge.edge.errors import DataError, SourceError
from liveredge.edge.sources.base import ReadResult, SourceStatus, SourceUnavailable, as_bgr
from liveredge.edge.sources.paced import PacedSource, Produced
from liveredge.edge.sources.uri import IMAGE_EXTS


def read_image(path: Path) -> np.ndarray | None:
    """Decode ``path`` to (H, W, 3) uint8 BGR, or None when it is missing or not a decodable image.

    DataError (before decoding) when its header declares more than ``max_frame_pixels``."""
    check_image_file(path)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV's own size backstop, or a decoder failure
        raise DataError(f"image {path}: cannot be decoded ({str(exc).strip().splitlines()[-1][:160]})") from exc
    return None if image is None else as_bgr(image)


class ImageSource(PacedSource):
    """One image as a source: a single frame then END (``loop=True`` repeats it at ``fps``, default 30)."""

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
        self._image: np.ndarray | None = None
        self._count = 0

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(f"image {self.path}: no such file; check the path")
        try:
            image = read_image(self.path)
        except DataError as exc:
            raise SourceError(f"source {self.uri}: {exc}") from exc
        if image is None:
            raise SourceError(f"image {self.path}: cannot be decoded (corrupt or not an image)")
        self._image = image
        self._count = 0

    def _produce(self) -> Produced | ReadResult:
        if self._image is None:
            return ReadResult(SourceStatus.ERROR, detail=f"image {self.path}: not open")
        if self._count > 0 and not self.loop:
            return ReadResult(SourceStatus.END, detail=f"image {self.path}: single frame delivered")
        index = self._count
        self._count += 1
        return self._image, index


class FolderSource(PacedSource):
    """Every image file in a folder (sorted by name), paced at ``fps`` (default 30) or as fast as possible.

    A file that vanishes or cannot be decoded yields ``ERROR`` naming it, and the next read moves on.
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
        self._files: list[Path] = []
        self._index = 0

    def _open(self) -> None:
        if not self.path.is_dir():
            raise SourceUnavailable(f"image folder {self.path}: no such folder; check the path")
        files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())
        if not files:
            raise SourceUnavailable(
                f"image folder {self.path}: no images ({', '.join(sorted(IMAGE_EXTS))}); check the folder"
            )
        self._files = files
        self._index = 0

    def _seek(self, index: int) -> None:
        self._index = max(0, min(index, len(self._files)))

    def _produce(self) -> Produced | ReadResult:
        if self._index >= len(self._files):
            if not self.loop or not self._files:
                return ReadResult(SourceStatus.END, detail=f"image folder {self.path}: end after {self._index} frames")
            self._index = 0
        index = self._index
        self._index += 1
        path = self._files[index]
        try:
            image = read_image(path)
        except DataError as exc:
            return ReadResult(SourceStatus.ERROR, detail=str(exc))
        if image is None:
            why = "vanished" if not path.exists() else "cannot be decoded"
            return ReadResult(SourceStatus.ERROR, detail=f"image folder {self.path}: frame {path.name} {why}")
        return image, index
