"""DICOM files (single or multi-frame cine) through ``liveredge.edge.preprocess.dicom``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from liveredge.edge.errors import LiveredgeError, SourceError
from liveredge.edge.sources.base import ReadResult, SourceNotSupported, SourceStatus, SourceUnavailable, as_bgr
from liveredge.edge.sources.paced import PacedSource, Produced


class DicomSource(PacedSource):
    """Frames of a DICOM file as BGR, at the file's frame rate (``fps`` overrides; 30 when the file has none)."""

    def __init__(self, path: str | Path, *, uri: str | None = None, rate: str = "realtime",
                 fps: float | None = None, loop: bool = False) -> None:
        self.path = Path(path)
        super().__init__(uri or f"dicom://{path}", str(self.path.resolve()), rate=rate, fps=fps, loop=loop)
        self._frames: Any = None
        self._fps: float | None = None
        self._index = 0

    def _open(self) -> None:
        if not self.path.is_file():
            raise SourceUnavailable(f"DICOM {self.path}: no such file; check the path")
        try:
            from liveredge.edge.preprocess import dicom
        except ImportError as exc:
            raise SourceNotSupported(f"source {self.uri}: DICOM reading is not available in this install") from exc
        try:
            cine = dicom.read_dicom(self.path)
        except LiveredgeError as exc:
            raise SourceError(f"DICOM {self.path}: {exc}") from exc
        self._frames = cine.frames
        self._fps = getattr(cine, "fps", None)
        self._index = 0

    def _native_fps(self) -> float | None:
        return self._fps

    def _seek(self, index: int) -> None:
        self._index = max(0, index)

    def _produce(self) -> Produced | ReadResult:
        frames = self._frames
        if frames is None:
            return ReadResult(SourceStatus.ERROR, detail=f"DICOM {self.path}: not open")
        if self._index >= len(frames):
            if not self.loop:
                return ReadResult(SourceStatus.END, detail=f"DICOM {self.path}: end after {len(frames)} frames")
            self._index = 0
        index = self._index
        self._index += 1
        return as_bgr(frames[index]), index
