"""Calibration and validation frames: read, stratify, preprocess with the runtime's code, hash.

Sources (``DATA`` on the command line):

* a manifest CSV (the simulator's ``manifest.csv``: columns ``path`` (relative to the CSV), ``label``,
  ``site_id``, ``patient_id``; optional ``frame`` for a video path) or a folder that contains one;
* a folder of images (``.png``/``.jpg``/``.bmp``; label from a parent folder named after a class, else none);
* video files (``.mp4``/``.avi``/``.mov``; every ``video_step``-th frame) or DICOM files (``.dcm``).

Every frame goes through :func:`liveredge.edge.preprocess.prepare_frame` with the model's
:class:`~liveredge.edge.preprocess.spec.PreprocessSpec` — the same code path as the runtime — giving float32
tensors (N, H, W, C). There is no default or random data: an empty or missing source is a
:class:`~liveredge.edge.errors.DataError`.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.errors import DataError, PreprocessError
from liveredge.edge.events import CLASSES
from liveredge.edge.formats import DICOM_EXTS
from liveredge.edge.preprocess.spec import PreprocessSpec

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv"}
MIN_RECOMMENDED = 200


@dataclass(frozen=True)
class Sample:
    """One frame reference: file path, frame index (0 for images), label index (-1 unknown), site, patient."""

    path: str
    frame: int = 0
    label: int = -1
    site: str = ""
    patient: str = ""


@dataclass(frozen=True)
class FrameSet:
    """Preprocessed frames: ``x`` float32 (N, H, W, C) per the spec, labels/sites/patients, and the hash list."""

    x: np.ndarray
    samples: tuple[Sample, ...]
    hashes: tuple[str, ...]
    digest: str
    skipped_no_region: int = 0  # frames left out because the runtime's detector finds no ultrasound in them

    @property
    def labels(self) -> np.ndarray:
        return np.array([s.label for s in self.samples], dtype=np.int64)

    @property
    def patients(self) -> np.ndarray:
        return np.array([s.patient or s.path for s in self.samples])

    @property
    def sites(self) -> np.ndarray:
        return np.array([s.site or "" for s in self.samples])

    def manifest(self) -> dict[str, object]:
        """Calibration manifest: [(path, frame, sha256 of the decoded frame)] and the digest over them."""
        rows = [[s.path, s.frame, h] for s, h in zip(self.samples, self.hashes, strict=True)]
        return {"frames": rows, "count": len(rows), "digest": self.digest}


def _label(value: str, labels: Sequence[str] = CLASSES) -> int:
    value = (value or "").strip()
    if value in labels:
        return list(labels).index(value)
    if value.lstrip("-").isdigit():
        return int(value)
    return -1


def discover(
    source: str | Path, video_step: int = 5, labels: Sequence[str] = CLASSES, strict: bool = False
) -> list[Sample]:
    """All frame references of a source (see module docstring); DataError when there are none. Label names
    map to indices in ``labels`` (the MODEL's class order); with ``strict`` a name the model does not have is
    an error (a validation set must speak the model's classes)."""
    path = Path(source)
    if not path.exists():
        raise DataError(
            f"{path}: calibration/validation data not found; pass a manifest CSV, image folder, video or DICOM"
        )
    if path.is_dir() and (path / "manifest.csv").is_file():
        path = path / "manifest.csv"
    if path.is_file() and path.suffix.lower() == ".csv":
        samples = _from_manifest(path, labels, strict)
    elif path.is_dir():
        samples = [s for f in sorted(path.rglob("*")) if f.is_file() for s in _from_file(f, path, video_step, labels)]
    else:
        samples = _from_file(path, path.parent, video_step, labels)
    if not samples:
        raise DataError(f"{source}: no frames found (images {sorted(IMAGE_EXT)}, videos, DICOM or manifest.csv)")
    return samples


def _from_manifest(csv_path: Path, labels: Sequence[str], strict: bool) -> list[Sample]:
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"{csv_path}: cannot read the manifest ({exc})") from exc
    if rows and "path" not in rows[0]:
        raise DataError(f"{csv_path}: manifest has no 'path' column (columns: {sorted(rows[0])})")
    unknown = sorted({(r.get("label") or "").strip() for r in rows} - set(labels) - {""})
    unknown = [u for u in unknown if not u.lstrip("-").isdigit()]
    if strict and unknown:
        raise DataError(
            f"{csv_path}: labels {unknown} are not among the model's labels {list(labels)}; give the "
            "model's labels (sidecar or --spec) or drop those rows"
        )
    return [
        Sample(
            str(csv_path.parent / r["path"]),
            int(r.get("frame") or 0),
            _label(r.get("label", ""), labels),
            r.get("site_id", "") or "",
            r.get("patient_id", "") or "",
        )
        for r in rows
    ]


def _from_file(f: Path, root: Path, video_step: int, labels: Sequence[str] = CLASSES) -> list[Sample]:
    ext = f.suffix.lower()
    label = (
        next((_label(p, labels) for p in reversed(f.relative_to(root).parts[:-1]) if p in labels), -1)
        if f != root
        else -1
    )
    if ext in IMAGE_EXT or ext in DICOM_EXTS:
        return [Sample(str(f), 0, label)]
    if ext in VIDEO_EXT:
        cap = cv2.VideoCapture(str(f))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        cap.release()
        if n <= 0:
            raise DataError(f"{f}: cannot open the video or it has no frames")
        return [Sample(str(f), i, label, patient=str(f)) for i in range(0, n, max(1, video_step))]
    return []


def stratify(samples: Sequence[Sample], n: int | None, seed: int = 0) -> list[Sample]:
    """Up to ``n`` samples, round-robin over (label, site) strata so every class and site is represented."""
    if n is None or n >= len(samples):
        return list(samples)
    groups: dict[tuple[int, str], list[Sample]] = defaultdict(list)
    for s in samples:
        groups[(s.label, s.site)].append(s)
    rng = np.random.default_rng(seed)
    queues = [list(np.array(g, dtype=object)[rng.permutation(len(g))]) for _, g in sorted(groups.items())]
    picked: list[Sample] = []
    while len(picked) < n:
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop())
    return picked


def read_frame(sample: Sample) -> np.ndarray:
    """The BGR uint8 (H, W, 3) frame a sample refers to."""
    ext = Path(sample.path).suffix.lower()
    if ext in VIDEO_EXT:
        cap = cv2.VideoCapture(sample.path)
        cap.set(cv2.CAP_PROP_POS_FRAMES, sample.frame)
        ok, frame = cap.read()
        cap.release()
    elif ext in DICOM_EXTS:
        frame, ok = _read_dicom(sample), True
    else:
        frame = cv2.imread(sample.path, cv2.IMREAD_COLOR)
        ok = frame is not None
    if not ok or frame is None:
        raise DataError(f"{sample.path}: cannot read frame {sample.frame}")
    return frame


def _read_dicom(sample: Sample) -> np.ndarray:
    import pydicom

    try:
        pixels = pydicom.dcmread(sample.path).pixel_array
    except Exception as exc:
        raise DataError(f"{sample.path}: unreadable DICOM ({exc})") from exc
    if pixels.ndim == 4 or (pixels.ndim == 3 and pixels.shape[-1] not in (3, 4)):
        pixels = pixels[min(sample.frame, len(pixels) - 1)]
    pixels = (
        cv2.normalize(pixels, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8) if pixels.dtype != np.uint8 else pixels
    )
    return (
        cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
        if pixels.ndim == 2
        else np.ascontiguousarray(pixels[..., :3][..., ::-1])
    )


def load_frames(
    samples: Sequence[Sample],
    spec: PreprocessSpec,
    progress: Callable[[int], None] | None = None,
    skip_no_region: bool = False,
) -> FrameSet:
    """Preprocess every sample with the runtime's ``prepare_frame``. Frames with no ultrasound are an error, or,
    with ``skip_no_region``, left out and counted (the device flags them NO_REGION and never classifies them)."""
    from liveredge.edge.preprocess import prepare_frame

    if not samples:
        raise DataError("no frames given: calibration and validation data are required (no defaults)")
    xs, hashes, kept = [], [], []
    for s in samples:
        frame = read_frame(s)
        try:
            xs.append(np.asarray(prepare_frame(frame, spec), dtype=np.float32))
        except PreprocessError as exc:
            if not skip_no_region:
                raise DataError(f"{s.path} frame {s.frame}: {exc}") from exc
            continue
        kept.append(s)
        hashes.append(hashlib.sha256(np.ascontiguousarray(frame).tobytes()).hexdigest())
        if progress is not None:
            progress(1)
    if not xs:
        raise DataError(f"none of the {len(samples)} frames shows an ultrasound region the runtime can find")
    digest = hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()  # path-independent
    return FrameSet(np.stack(xs), tuple(kept), tuple(hashes), digest, len(samples) - len(kept))
