"""Where two image panels touch with no black gap between them (:func:`find_seam`).

Two panels side by side that touch trace as one rectangle. Each panel shows its own
speckle, so across the seam neighbouring columns are two unrelated images: the correlation of their
high-passed grey levels (speckle, with depth gain and organ outlines removed) drops from its usual 0.5-0.95
(speckle is wider than a pixel) to near 0. Over a warm-up window the motion map gives a second cue: a live
panel beside a frozen one shows a step in frame-to-frame change at the seam. Dual screens are symmetric,
so a seam is only searched in the middle third of the panel (never at a grey bar near its edge).
"""

from __future__ import annotations

import cv2
import numpy as np

from liveredge.edge.preprocess.region import bbox_of

SEAM_CORR = 0.25  # adjacent-column texture correlation below this ...
SEAM_REL = 0.4  # ... and below this fraction of the panel's median correlation marks a seam
SEAM_BAND = (0.34, 0.66)  # the seam is searched in this middle part of the panel's width (symmetric screens)
MOTION_STEP = 5.0  # one side moving this many times more than the other (warm-up window) marks a seam
MOTION_MIN = 1.0  # ... when the moving side changes by at least this many grey levels per frame
MIN_ENERGY = 0.25  # columns with less texture than this fraction of the median say nothing (shadows, fluid)


def find_seam(mask: np.ndarray, ev: np.ndarray, motion: np.ndarray | None = None) -> int | None:
    """Column (frame x) of the last pixel of the left panel, when ``mask`` covers two touching panels; else None.

    ``ev``: evidence image (grey, -1 on overlays); ``motion``: mean absolute frame difference per pixel over a
    warm-up window, when known.
    """
    x, y, w, h = bbox_of(mask)
    if w < 64 or h < 32:
        return None
    lo, hi = int(SEAM_BAND[0] * w), int(SEAM_BAND[1] * w)
    corr = column_correlation(ev[y : y + h, x : x + w], mask[y : y + h, x : x + w] > 0)
    i = lo + int(np.argmin(corr[lo:hi]))
    if corr[i] < SEAM_CORR and corr[i] < SEAM_REL * float(np.median(corr)):
        return x + i
    if motion is not None:
        step = _motion_step(motion[y : y + h, x : x + w], mask[y : y + h, x : x + w] > 0, lo, hi)
        if step is not None:
            return x + step
    return None


def column_correlation(sub: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(w - 1,) correlation of high-passed grey levels between each column and the next (1.0 where unknown)."""
    valid = (sub >= 0) & inside
    g = np.where(valid, sub, 0.0).astype(np.float32)
    hp = g - cv2.blur(g, (9, 9))
    hp[~valid] = 0.0
    both = valid[:, :-1] & valid[:, 1:]
    a, b = hp[:, :-1] * both, hp[:, 1:] * both
    aa, bb = (a * a).sum(axis=0), (b * b).sum(axis=0)
    corr = (a * b).sum(axis=0) / np.sqrt(np.maximum(aa * bb, 1e-6))
    energy = np.minimum(aa, bb)
    corr[energy < MIN_ENERGY * max(float(np.median(energy)), 1e-6)] = 1.0
    return corr


def _motion_step(motion: np.ndarray, inside: np.ndarray, lo: int, hi: int) -> int | None:
    """Column index where mean motion steps between a moving and a still side (each side over 24 columns)."""
    counts = np.maximum(inside.sum(axis=0), 1)
    prof = (motion * inside).sum(axis=0) / counts
    best, best_ratio = None, MOTION_STEP
    for i in range(max(lo, 24), min(hi, len(prof) - 25)):
        left, right = float(prof[i - 23 : i + 1].mean()), float(prof[i + 1 : i + 25].mean())
        moving, still = max(left, right), min(left, right)
        ratio = moving / max(still, 0.05)
        if moving >= MOTION_MIN and ratio > best_ratio:
            best, best_ratio = i, ratio
    return best


def split_at(mask: np.ndarray, seam: int) -> tuple[np.ndarray, np.ndarray]:
    """The mask's columns up to ``seam`` and after it (two uint8 masks)."""
    left, right = mask.copy(), mask.copy()
    left[:, seam + 1 :] = 0
    right[:, : seam + 1] = 0
    return left, right
