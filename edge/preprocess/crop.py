"""Region detection on a file (image, video or DICOM) with outputs a person can check: the I/O shell of ``liveredge crop``.

``crop_file(path, out_dir)`` writes, for ``<stem>`` = the input's name without extension:

- ``<stem>_mask.png`` — uint8, the input frame's size, 255 inside the detected ultrasound region, 0 elsewhere;
- ``<stem>_overlay.png`` — the first frame with the region outline (green; other panels orange) and the status;
- ``<stem>.json`` — :meth:`Region.to_dict` (status, kind, bbox (x, y, w, h) px, sector apex/angles/radii,
  panels, cm_per_px, ``evidence`` "full"/"partial" with ``partial_evidence`` saying how the geometry rests on
  partial evidence or why it was too thin) plus the input's kind, frame count used, fps and transfer syntax.

Videos and cines use the first ``warmup`` frames (motion picks the live panel, static text is masked).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from liveredge.edge.bounds import check_image_file, check_path, check_pixels
from liveredge.edge.errors import DataError
from liveredge.edge.formats import is_dicom
from liveredge.edge.preprocess.detect import detect_region, detect_region_video
from liveredge.edge.preprocess.region import Region

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
LOSSY_IMAGE_EXT = {".jpg", ".jpeg", ".webp"}
VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv"}


@dataclass(frozen=True)
class Loaded:
    """Frames read from one input: uint8 BGR list, what the input was, and whether its codec is lossy."""

    frames: list[np.ndarray]
    kind: str
    lossy: bool | None
    info: dict[str, Any]
    cine: Any = None  # the DicomCine of a DICOM input


def load_input(path: str | os.PathLike[str], warmup: int = 60) -> Loaded:
    """Read an image, the first ``warmup`` frames of a video, or a DICOM file; DataError when unusable."""
    p = Path(check_path(path, "input"))
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    if is_dicom(p):
        return _load_dicom(p, warmup)
    suffix = p.suffix.lower()
    if suffix in VIDEO_EXT:
        return _load_video(p, warmup)
    if suffix in IMAGE_EXT:
        return _load_image(p)
    raise DataError(f"{p}: unknown file type {suffix or '(none)'}; give an image, a video or a DICOM file")


def _load_image(p: Path) -> Loaded:
    check_image_file(p)
    try:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # OpenCV's own size backstop, or a decoder failure
        raise DataError(f"{p}: cannot be decoded ({str(exc).strip().splitlines()[-1][:160]})") from exc
    if img is None or img.size == 0:
        raise DataError(f"{p}: not a readable image (empty or corrupt)")
    if img.dtype != np.uint8:
        raise DataError(f"{p}: {img.dtype} image ({8 * img.dtype.itemsize}-bit); export an 8-bit screen capture")
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)  # alpha carries no image content
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return Loaded([img], "image", True if p.suffix.lower() in LOSSY_IMAGE_EXT else None, {})


def _load_video(p: Path, warmup: int) -> Loaded:
    cap = cv2.VideoCapture(str(p))
    try:
        if not cap.isOpened():
            raise DataError(f"{p}: cannot open the video (unsupported codec or corrupt file)")
        check_pixels(int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), f"video {p}")
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
        frames: list[np.ndarray] = []
        while len(frames) < warmup:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise DataError(f"{p}: the video has no readable frames")
    return Loaded(frames, "video", True, {"fps": fps})


def _load_dicom(p: Path, warmup: int) -> Loaded:
    from liveredge.edge.preprocess.dicom import is_lossy, read_dicom

    cine = read_dicom(p, max_frames=warmup)
    info = {
        "fps": cine.fps,
        "transfer_syntax": cine.transfer_syntax,
        "photometric": cine.info.photometric,
        "frames_in_file": cine.info.n_frames,
        "dicom_regions": [r.to_dict() for r in cine.regions],
    }
    return Loaded(list(cine.frames), "dicom", is_lossy(cine.info), info, cine)


def detect_loaded(loaded: Loaded, name: str) -> Region:
    """Detect over the loaded frames (DICOM files also reconcile with their ultrasound regions)."""
    if loaded.cine is not None:
        from liveredge.edge.preprocess.dicom import detect_dicom_region

        return detect_dicom_region(loaded.cine)
    if len(loaded.frames) > 1:
        return detect_region_video(loaded.frames, name=name, lossy=loaded.lossy)
    return detect_region(loaded.frames[0], name, lossy=loaded.lossy)


def draw_overlay(frame: np.ndarray, region: Region) -> np.ndarray:
    """The frame with the region outline drawn (green: the live panel, orange: other panels) and the status."""
    out = frame.copy()
    thick = max(1, round(min(frame.shape[:2]) / 300))
    for i, panel in enumerate(region.panels):
        colour = (0, 255, 0) if i == region.live_panel else (0, 165, 255)
        contours, _ = cv2.findContours(panel.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, colour, thick, cv2.LINE_AA)
    if not region.panels and region.ok:
        contours, _ = cv2.findContours(region.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (0, 255, 0), thick, cv2.LINE_AA)
    label = f"{region.status} {region.kind}" if region.ok else f"{region.status}: {region.message}"[:90]
    scale = max(0.35, min(frame.shape[:2]) / 900)
    cv2.putText(out, label, (4, frame.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 255), 1, cv2.LINE_AA)
    return out


def crop_file(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], warmup: int = 60
) -> tuple[Region, dict[str, Any]]:
    """Detect the region of one input file and write the mask, overlay and JSON; return (region, json dict)."""
    p = Path(path)
    out = Path(out_dir)
    loaded = load_input(p, warmup)
    region = detect_loaded(loaded, str(p))
    out.mkdir(parents=True, exist_ok=True)
    stem = p.stem
    _write_png(out / f"{stem}_mask.png", region.mask)
    _write_png(out / f"{stem}_overlay.png", draw_overlay(loaded.frames[0], region))
    doc = {
        "input": str(p),
        "input_kind": loaded.kind,
        "frames_used": len(loaded.frames),
        **loaded.info,
        **region.to_dict(),
    }
    (out / f"{stem}.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return region, doc


def _write_png(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img):
        raise DataError(f"{path}: cannot write the PNG (check the folder and free space)")
