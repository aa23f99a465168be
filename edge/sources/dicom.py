"""DICOM files (single or multi-frame cine) through ``liveredge.edge.preprocess.dicom``.

Frames are decoded lazily, one at a time (long cines stay out of memory), as uint8 BGR by the preprocessing
part's reader (every transfer syntax it decodes). A file that is not DICOM or has no image fails at ``open``
with ``SourceError``; a frame that cannot be decoded (truncated or damaged pixel data) yields ``ERROR`` with
the reader's message, and a watchdog reopen resumes after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import LiveredgeError, SourceError
from liveredge.edge.sources.base import ReadResult, SourceNotSupported, SourceStatus, SourceUnavailable, as_bgr
from liveredge.edge.sources.paced import PacedSource, Produced


class DicomSource(PacedSource):
    """Frames of a DICOM file as BGR, at the file's frame rate (``fps`` overrides; 30 when the file has none)."""

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
        super().__init__(uri or f"dicom://{path}", str(self.path.resolve()), rate=rate, fps=fps, loop=loop)
        self.info: Any = None
        self._frames: Iterator[np.ndarray] | None = None
        self._index = 0

    def _reader(self) -> Any:
        try:
            from liveredge.edge.preprocess import dicom
        except ImportError as exc:
            raise SourceNotSupported(f"source {self.uri}: DICOM reading is not available in this install") from exc
        return dicom

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(f"DICOM {self.path}: no such file; check the path")
        try:
            self.info, _ = self._reader().read_info(self.path)
        except LiveredgeError as exc:
            raise SourceError(f"source {self.uri}: {exc}") from exc
        self._restart(0)

    def _restart(self, index: int) -> None:
        frames = self._reader().iter_dicom_frames(self.path)
        self._frames = itertools.islice(frames, index, None)
        self._index = index

    def _native_fps(self) -> float | None:
        return None if self.info is None else self.info.fps

    def _seek(self, index: int) -> None:
        self._restart(max(0, index))

    def _produce(self) -> Produced | ReadResult:
        if self._frames is None:
            return ReadResult(SourceStatus.ERROR, detail=f"DICOM {self.path}: not open")
        try:
            image = next(self._frames, None)
        except LiveredgeError as exc:
            self._frames = None
            return ReadResult(SourceStatus.ERROR, detail=f"DICOM frame {self._index}: {exc}")
        if image is None:
            if self.loop and self._index > 0:
                self._restart(0)
                return self._produce()
            return ReadResult(SourceStatus.END, detail=f"DICOM {self.path}: end after {self._index} frames")
        index = self._index
        self._index += 1
        return as_bgr(image), index

    def _close(self) -> None:
        self._frames = None
