"""DICOM input (pydicom 3): single and multi-frame ultrasound as uint8 BGR frames, with the scanner's regions.

Decoding covers what pydicom and its pylibjpeg plugins read: uncompressed (little and big endian, implicit
and explicit VR, deflated), JPEG baseline/extended, JPEG lossless (process 14), JPEG-LS, JPEG 2000 and RLE.
Every frame becomes uint8 BGR (H, W, 3), the layout the rest of liveredge uses:

- RGB, and YBR_* (pydicom converts to RGB) → BGR;
- PALETTE COLOR → the palette LUT is applied (16-bit LUT entries are scaled to 8 bits) → BGR;
- MONOCHROME2 → grey replicated to 3 channels; MONOCHROME1 → inverted first (0 means white there);
- more than 8 bits stored → the dataset's VOI window when present, else the data range, mapped to 0..255.

``SequenceOfUltrasoundRegions`` gives the scanner's data boxes and physical pixel size; a region box is
generous (it is not the fan) and is not updated when the image was resized or cropped, so a box that
does not cover the detected fan is ignored (:func:`detect_dicom_region`).

Errors: anything unreadable — not DICOM, no pixel data, a codec failure, truncated data — raises
:class:`~liveredge.edge.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from liveredge.edge.bounds import check_pixels, limits
from liveredge.edge.errors import DataError
from liveredge.edge.preprocess.detect import detect_region, detect_region_video
from liveredge.edge.preprocess.region import Region, bbox_of, rect_mask

_CM = 3  # PhysicalUnitsX/YDirection code for centimetres
STREAM_BYTES = 32 << 20  # files larger than this are decoded frame by frame from disk


@dataclass(frozen=True)
class UltrasoundRegion:
    """One item of ``SequenceOfUltrasoundRegions``: box (x0, y0, x1, y1) inclusive px, cm per px (x, y) or None."""

    box: tuple[int, int, int, int]
    cm_per_px: tuple[float, float] | None
    spatial_format: int  # 1 = 2D tissue/flow image, 2 = M-mode, 3 = spectral, 4 = waveform, ...
    data_type: int  # 1 = tissue, 2 = colour flow, ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "cm_per_px": None if self.cm_per_px is None else list(self.cm_per_px),
            "spatial_format": self.spatial_format,
            "data_type": self.data_type,
        }


@dataclass(frozen=True)
class DicomInfo:
    """What a DICOM file says about its images (no pixels)."""

    path: str
    rows: int
    columns: int
    n_frames: int
    photometric: str
    bits_stored: int
    transfer_syntax: str
    fps: float | None
    regions: tuple[UltrasoundRegion, ...]
    modality: str


@dataclass(frozen=True)
class DicomCine:
    """Decoded DICOM images: ``frames`` uint8 BGR (N, H, W, 3) plus the file's metadata (:class:`DicomInfo`)."""

    info: DicomInfo
    frames: np.ndarray

    @property
    def fps(self) -> float | None:
        return self.info.fps

    @property
    def regions(self) -> tuple[UltrasoundRegion, ...]:
        return self.info.regions

    @property
    def transfer_syntax(self) -> str:
        return self.info.transfer_syntax

    @property
    def cm_per_px(self) -> tuple[float, float] | None:
        """Pixel size of the main 2D region (cm, (x, y)) when the file gives it in cm."""
        main = main_region(self.info.regions)
        return None if main is None else main.cm_per_px


def _pydicom() -> Any:
    import pydicom  # the `edge` extra; imported lazily so `liveredge` works without it

    return pydicom


def read_info(path: str | os.PathLike[str]) -> tuple[DicomInfo, Any]:
    """Read the header (no pixel data) → (:class:`DicomInfo`, pydicom Dataset). DataError when not an image."""
    pydicom = _pydicom()
    name = os.fspath(path)
    try:
        _check_inflated_size(name)
        ds = pydicom.dcmread(name, stop_before_pixels=False, defer_size=1024)
    except (
        pydicom.errors.InvalidDicomError,
        EOFError,
        OSError,
        ValueError,
        KeyError,
        TypeError,
        zlib.error,
    ) as exc:  # zlib.error: a truncated Deflated Explicit VR file
        raise DataError(f"{name}: not a readable DICOM file ({type(exc).__name__}: {exc})") from exc
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        kind = ds.get("Modality", "unknown modality")
        raise DataError(f"{name}: DICOM without pixel data ({kind}); give an image or cine file")
    try:
        info = DicomInfo(
            path=name,
            rows=int(ds.Rows),
            columns=int(ds.Columns),
            n_frames=int(ds.get("NumberOfFrames", 1) or 1),
            photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
            bits_stored=int(ds.get("BitsStored", ds.get("BitsAllocated", 8))),
            transfer_syntax=_syntax_name(ds),
            fps=_fps(ds),
            regions=_regions(ds),
            modality=str(ds.get("Modality", "")),
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise DataError(f"{name}: DICOM image header is incomplete or invalid ({exc})") from exc
    check_pixels(info.columns, info.rows, f"DICOM {name}")
    return info, ds


def _check_inflated_size(name: str) -> None:
    """A Deflated Explicit VR file: inflate it once without keeping the output and refuse it when the dataset
    exceeds ``max_decoded_bytes`` (pydicom would otherwise inflate all of it in memory before we see a header)."""
    from pydicom.filereader import _read_file_meta_info, read_preamble
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    with open(name, "rb") as handle:
        read_preamble(handle, False)
        if handle.tell() == 0:
            return  # no Part 10 preamble: no file meta, so not deflated
        if _read_file_meta_info(handle).get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
            return
        cap = limits().max_decoded_bytes
        inflater, total = zlib.decompressobj(-zlib.MAX_WBITS), 0
        while not inflater.eof and (data := handle.read(1 << 16)):
            while data and not inflater.eof:
                out = inflater.decompress(data, 1 << 20)  # at most 1 MiB of output per step
                total += len(out)
                if total > cap:
                    raise DataError(
                        f"{name}: the deflated DICOM dataset inflates to more than the limit of "
                        f"{cap >> 20} MiB (max_dicom_mib); refused before decoding"
                    )
                if not out and inflater.unconsumed_tail == data:
                    break  # no progress: a damaged stream; pydicom reports it in its own words
                data = inflater.unconsumed_tail


def _check_decoded_size(info: DicomInfo, ds: Any, n: int) -> None:
    """Frames decoded together (``n`` × rows × columns × samples × bytes, and as uint8 BGR) within the limit."""
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    depth = max(1, int(ds.get("BitsAllocated", 8) or 8) // 8)
    need = n * info.rows * info.columns * max(samples * depth, 3)
    cap = limits().max_decoded_bytes
    if need > cap:
        raise DataError(
            f"{info.path}: {n} frames of {info.columns}x{info.rows}x{samples} would decode to "
            f"{need >> 20} MiB, more than the limit of {cap >> 20} MiB (max_dicom_mib)"
        )


def _syntax_name(ds: Any) -> str:
    meta = getattr(ds, "file_meta", None)
    uid = None if meta is None else meta.get("TransferSyntaxUID")
    return "Implicit VR Little Endian (no meta)" if uid is None else str(uid.name)


def _fps(ds: Any) -> float | None:
    for key, to_fps in (
        ("RecommendedDisplayFrameRate", float),
        ("CineRate", float),
        ("FrameTime", lambda ms: 1000.0 / float(ms)),
    ):
        value = ds.get(key)
        try:
            fps = to_fps(value) if value not in (None, "") else None
        except (TypeError, ValueError, ZeroDivisionError):
            fps = None
        if fps is not None and 0 < fps < 10000:
            return float(fps)
    return None


def _regions(ds: Any) -> tuple[UltrasoundRegion, ...]:
    out = []
    for item in ds.get("SequenceOfUltrasoundRegions", []) or []:
        try:
            box = (
                int(item.RegionLocationMinX0),
                int(item.RegionLocationMinY0),
                int(item.RegionLocationMaxX1),
                int(item.RegionLocationMaxY1),
            )
        except AttributeError:
            continue
        cm = None
        if item.get("PhysicalUnitsXDirection") == _CM and item.get("PhysicalUnitsYDirection") == _CM:
            dx, dy = item.get("PhysicalDeltaX"), item.get("PhysicalDeltaY")
            if dx and dy:
                cm = (abs(float(dx)), abs(float(dy)))
        out.append(
            UltrasoundRegion(
                box=box,
                cm_per_px=cm,
                spatial_format=int(item.get("RegionSpatialFormat", 0) or 0),
                data_type=int(item.get("RegionDataType", 0) or 0),
            )
        )
    return tuple(out)


def main_region(regions: tuple[UltrasoundRegion, ...]) -> UltrasoundRegion | None:
    """The largest 2D (spatial format 1) region, or None."""
    two_d = [r for r in regions if r.spatial_format == 1]
    if not two_d:
        return None
    return max(two_d, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1]))


def read_dicom(path: str | os.PathLike[str], max_frames: int | None = None) -> DicomCine:
    """Decode a DICOM file's frames (all, or the first ``max_frames``) to uint8 BGR (N, H, W, 3)."""
    info, ds = read_info(path)
    _check_decoded_size(info, ds, info.n_frames if max_frames is None else max(0, min(info.n_frames, max_frames)))
    frames = list(_frames(info, ds, max_frames))
    return DicomCine(info=info, frames=np.stack(frames))


def iter_dicom_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Yield uint8 BGR (H, W, 3) frames one at a time (long cines: one decoded frame in memory)."""
    info, ds = read_info(path)
    yield from _frames(info, ds, None)


def _frames(info: DicomInfo, ds: Any, max_frames: int | None) -> Iterator[np.ndarray]:
    from pydicom.pixels import iter_pixels

    n = info.n_frames if max_frames is None else max(0, min(info.n_frames, max_frames))
    scale: tuple[float, float] | None = None
    try:
        for i, arr in enumerate(iter_pixels(_source(info, ds), indices=range(n))):
            if scale is None:
                scale = _window(ds, arr, info)
            yield to_bgr(arr, ds, info, scale)
            if i + 1 >= n:
                break
    except DataError:
        raise
    except Exception as exc:  # pydicom and its plugins raise many types for corrupt or unsupported data
        raise DataError(f"{info.path}: cannot decode the pixel data ({info.transfer_syntax}): {exc}") from exc


def _source(info: DicomInfo, ds: Any) -> Any:
    """Large files stream frames from disk (one frame in memory); small, deflated or odd ones decode in memory."""
    big = os.path.getsize(info.path) > STREAM_BYTES if os.path.exists(info.path) else False
    return info.path if big and "Deflated" not in info.transfer_syntax else ds


def _window(ds: Any, arr: np.ndarray, info: DicomInfo) -> tuple[float, float]:
    """(low, high) of the grey range mapped to 0..255 for monochrome data deeper than 8 bits."""
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if center is not None and width is not None and width > 0:
        return center - width / 2, center + width / 2
    lo, hi = float(arr.min()), float(arr.max())
    return (lo, hi) if hi > lo else (lo, lo + 1)


def _first(value: Any) -> float | None:
    """A DS/IS value or the first of a multi-value, as float; None when absent or invalid."""
    if value is None:
        return None
    try:
        return float(value)
    except TypeError:
        try:
            return float(value[0])
        except (TypeError, ValueError, IndexError):
            return None
    except ValueError:
        return None


def to_bgr(arr: np.ndarray, ds: Any, info: DicomInfo, window: tuple[float, float]) -> np.ndarray:
    """One decoded frame (as pydicom returns it: YBR already RGB) → uint8 BGR (H, W, 3)."""
    photometric = info.photometric
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        rgb = apply_color_lut(arr, ds)
        bits = 8 if rgb.dtype == np.uint8 or int(rgb.max(initial=0)) <= 255 else 8 * rgb.dtype.itemsize
        return cv2.cvtColor(_to_u8_colour(rgb, bits), cv2.COLOR_RGB2BGR)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return cv2.cvtColor(_to_u8_colour(arr, info.bits_stored), cv2.COLOR_RGB2BGR)
    if arr.ndim != 2:
        raise DataError(f"{info.path}: unsupported pixel layout {arr.shape} ({photometric})")
    if arr.dtype == np.uint8 and info.bits_stored <= 8:
        gray = arr
    else:
        lo, hi = window
        gray = np.clip((arr.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).round().astype(np.uint8)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return cv2.cvtColor(np.ascontiguousarray(gray), cv2.COLOR_GRAY2BGR)


def _to_u8_colour(rgb: np.ndarray, bits: int) -> np.ndarray:
    """Colour samples with ``bits`` significant bits → uint8 (the most significant 8 bits)."""
    if rgb.dtype == np.uint8:
        return np.ascontiguousarray(rgb)
    return (rgb.astype(np.uint64) >> max(0, bits - 8)).clip(0, 255).astype(np.uint8)


def is_lossy(info: DicomInfo) -> bool:
    """Whether the transfer syntax is lossy (JPEG baseline/extended, JPEG 2000, JPEG-LS near-lossless)."""
    name = info.transfer_syntax
    lossless = "Lossless" in name or "RLE" in name or "Endian" in name or "Deflated" in name
    return not lossless


def detect_dicom_region(cine: DicomCine, warmup: int = 60) -> Region:
    """Detect the fan over the first ``warmup`` frames and reconcile it with the file's ultrasound region.

    The main 2D region box, when it lies within the frame and covers at least 90 % of the detected fan,
    clips the mask (its outside is not image by the scanner's own word) and supplies ``cm_per_px``; a box
    beyond the frame or not covering the fan is stale (the image was resized or cropped after the box
    was written) and is ignored, which the region's ``message`` says.
    """
    frames, lossy = cine.frames[:warmup], is_lossy(cine.info)
    if len(frames) > 1:
        region = detect_region_video(list(frames), name=cine.info.path, lossy=lossy)
    else:
        region = detect_region(frames[0], cine.info.path, lossy=lossy)
    main = main_region(cine.info.regions)
    if main is None or not region.ok:
        return region
    x0, y0, x1, y1 = main.box
    h, w = region.frame_shape
    if x0 < 0 or y0 < 0 or x1 > w + 1 or y1 > h + 1:
        note = f"DICOM region box {main.box} exceeds the {w}x{h} frame (resized or cropped since): ignored"
        return replace(region, message=_join(region.message, note))
    box = rect_mask(region.frame_shape, (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    fan = region.mask > 0
    covered = int(np.count_nonzero(fan & (box > 0))) / max(1, int(np.count_nonzero(fan)))
    if covered < 0.9:
        note = f"DICOM region box {main.box} covers {covered:.0%} of the detected fan: stale, ignored"
        return replace(region, message=_join(region.message, note))
    mask = cv2.bitwise_and(region.mask, box)
    return replace(
        region,
        mask=mask,
        bbox=bbox_of(mask),
        cm_per_px=main.cm_per_px,
        message=_join(region.message, f"clipped to DICOM region box {main.box}"),
    )


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
