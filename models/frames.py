"""Load manifest frames as model-ready 8-bit images, through the runtime's preprocessing, with a cache.

Every frame goes through :mod:`liveredge.edge.preprocess` — the same code the device runs: region detection
+ apply (``prepare_gray``) when ``region="detect"`` (default), or the manifest's ``mask_path`` with
``Preprocessor(spec, mask)`` when ``region="mask"``. What is cached is the uint8 (N, h, w) grayscale
image right before normalisation (steps 1-4 of :class:`PreprocessSpec`), so augmentation can work on pixel
values and :meth:`PreprocessSpec.normalize` / ``quantize_array`` give the exact float or int8 model input.

Cache: ``DATASET/.liveredge-cache/frames-<key>.npz``, key = SHA-256 of (manifest bytes hash, spec JSON,
region mode); a changed manifest or spec never reuses stale arrays.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from liveredge.edge.errors import DataError, PreprocessError
from liveredge.edge.preprocess import Preprocessor, prepare_gray
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models.dataset import Manifest, Record

REGION_MODES = ("detect", "mask")
CACHE_DIR = ".liveredge-cache"
PARALLEL_MIN_FRAMES = 256  # below this, starting worker processes costs more than it saves


def cache_key(manifest: Manifest, spec: PreprocessSpec, region: str) -> str:
    """Stable key of what the cached arrays depend on."""
    return hashlib.sha256(f"{manifest.sha256}|{spec.to_json()}|{region}".encode()).hexdigest()[:20]


def gray_frame(record: Record, spec: PreprocessSpec, region: str) -> np.ndarray:
    """One manifest frame → uint8 (h, w) model image (steps 1-4 of the spec). Raises DataError on failure.

    ``region="detect"`` runs :func:`liveredge.edge.preprocess.prepare_gray` (the runtime's detection + apply);
    ``"mask"`` uses the manifest's ground-truth ``mask_path`` with :class:`Preprocessor`.
    """
    frame = cv2.imread(str(record.path), cv2.IMREAD_COLOR)
    if frame is None:
        raise DataError(f"{record.path} (manifest row {record.row}): not a readable image")
    try:
        if region == "detect":
            return prepare_gray(frame, spec)
        if record.mask_path is None:
            raise DataError(f"manifest row {record.row}: region mode 'mask' needs a mask_path value")
        mask = cv2.imread(str(record.mask_path), cv2.IMREAD_GRAYSCALE)
        if mask is None or mask.shape != frame.shape[:2]:
            raise DataError(f"{record.mask_path} (manifest row {record.row}): mask unreadable or not the frame's size")
        return Preprocessor(spec, mask).gray(frame).copy()
    except PreprocessError as exc:
        raise DataError(
            f"{record.path} (manifest row {record.row}): {exc}; fix or drop the row, or use "
            "--region mask with a mask_path column"
        ) from exc


def load_frames(
    manifest: Manifest,
    spec: PreprocessSpec,
    *,
    region: str = "detect",
    indices: np.ndarray | None = None,
    use_cache: bool = True,
) -> np.ndarray:
    """uint8 (N, h, w) images for ``indices`` (default all) of the manifest, cached per (manifest, spec, region).

    The cache always holds the whole manifest (so splits of one run share it).
    """
    if region not in REGION_MODES:
        raise DataError(f"region mode must be one of {REGION_MODES}, got {region!r}")
    cache = manifest.root / CACHE_DIR / f"frames-{cache_key(manifest, spec, region)}.npz"
    images = _read_cache(cache) if use_cache else None
    if images is None or len(images) != len(manifest.records):
        bar = tqdm(manifest.records, desc="preprocess frames", unit="frame", file=sys.stderr, leave=False, disable=None)
        images = (
            np.stack([gray_frame(r, spec, region) for r in bar])
            if manifest.records
            else np.zeros((0, *spec.input_size), np.uint8)
        )
        if use_cache:
            _write_cache(cache, images)
    return images if indices is None else images[indices]


def load_usable_frames(
    manifest: Manifest,
    spec: PreprocessSpec,
    *,
    region: str = "detect",
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 (N, h, w) images, bool (N,) usable) for the whole manifest: a frame in which the runtime's detector
    finds no ultrasound region (a preset so dark the screen is black, the probe in air) is one the device flags
    NO_REGION and never classifies, so training and calibration leave it out instead of failing; its image is
    zeros and ``usable`` False. Unreadable files still raise DataError. Cached like :func:`load_frames`.
    ``workers`` > 1 spreads a large manifest over that many processes (same results, same order)."""
    if region != "detect":
        images = load_frames(manifest, spec, region=region)
        return images, np.ones(len(images), bool)
    cache = manifest.root / CACHE_DIR / f"usable-{cache_key(manifest, spec, region)}.npz"
    try:
        with np.load(cache) as data:
            if len(data["images"]) == len(manifest.records):
                return data["images"], data["usable"]
    except (OSError, KeyError, ValueError):
        pass
    images, usable = _preprocess_all(manifest.records, spec, region, workers)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, images=images, usable=usable)
    except OSError:
        pass
    return images, usable


def _usable_one(record: Record, spec: PreprocessSpec, region: str) -> np.ndarray | None:
    """The model image of one frame, or None when the runtime would find no region in it."""
    try:
        return gray_frame(record, spec, region)
    except DataError as exc:
        if not isinstance(exc.__cause__, PreprocessError):
            raise
        return None


def _preprocess_all(
    records: Sequence[Record], spec: PreprocessSpec, region: str, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    images = np.zeros((len(records), *spec.input_size), np.uint8)
    usable = np.ones(len(records), bool)
    bar = tqdm(total=len(records), desc="preprocess frames", unit="frame", file=sys.stderr, leave=False, disable=None)
    if workers > 1 and len(records) >= PARALLEL_MIN_FRAMES:
        # "spawn": the caller may hold TensorFlow's thread pools, which a fork must not inherit.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = pool.map(_usable_one, records, repeat(spec), repeat(region), chunksize=64)
            _collect(results, images, usable, bar)
    else:
        _collect((_usable_one(r, spec, region) for r in records), images, usable, bar)
    bar.close()
    return images, usable


def _collect(results: Iterable[np.ndarray | None], images: np.ndarray, usable: np.ndarray, bar: tqdm) -> None:
    for i, img in enumerate(results):
        if img is None:
            usable[i] = False
        else:
            images[i] = img
        bar.update(1)


def _read_cache(path: Path) -> np.ndarray | None:
    try:
        with np.load(path) as data:
            return data["images"]
    except (OSError, KeyError, ValueError):
        return None


def _write_cache(path: Path, images: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images)
        tmp.replace(path)
    except OSError:
        pass  # a read-only dataset folder only costs the speed-up
