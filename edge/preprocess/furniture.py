"""Screen furniture drawn inside the image's box: grey bars and grey icons, caliper marks.

The colour/saturation overlay test (:func:`~liveredge.edge.preprocess.detect.overlay_mask`) misses a grey-scale
ramp or a grey probe icon drawn over the image. They are flat — a 5x5 window spans at most ``FLAT_RANGE``
grey levels, where speckle spans tens — and brighter than the background (anechoic fluid is flat too, but
dark). :func:`flat_mask` finds them; :func:`carve_flat` cuts each one out of a panel's mask: its box grown by
the window's reach, out to the image's edge when it sits within the rim (a bar along the edge, an icon in a
corner leave no sliver of image beside them).

Calipers and measurement marks are thin white lines and crosses drawn over the tissue. :func:`mark_mask`
finds them (a 3x3 opening removes them, unlike tissue blobs) and :func:`carve_marks` takes those pixels
(grown by one) out of the mask. Over a warm-up window only marks that do not move are used: in one still
a clipped bright line of tissue looks the same.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from liveredge.edge.preprocess.region import Panel, bbox_of

FLAT_RANGE = 10  # a 5x5 window spanning at most this many grey levels is flat (not speckle)
FLAT_MIN_PX = 24  # flat components smaller than this are left alone (a speckle coincidence) ...
FLAT_MIN_GREY = 32  # ... and so are dim ones: furniture is drawn to be seen, a fading tissue edge is dim and smooth
FLAT_MAX_FRAC = 0.03  # flat components larger than this fraction of the panel are image (saturated gain), kept
FLAT_SOLID = 0.5  # ... and so are those filling less than this much of their box (not a drawn shape)
RIM_FRAC = 0.05  # within this fraction of the panel's smaller side of its edge, a cut runs out to the edge
MARK_MIN_PX = 3  # thin white components smaller than this are left alone (clipped speckle) ...
MARK_MIN_LEN = 3  # ... and so are those shorter than this (px): a caliper cross or a dotted segment is longer
MARK_SOLID = 0.2  # ... and so are shapes of which more than this share survives a 3x3 opening (blobs)
SATURATED = 250  # grey level at and above which a pixel is white: overlay text, calipers (used by :mod:`.detect`)


def flat_mask(gray: np.ndarray, thr: float, colour: np.ndarray) -> np.ndarray:
    """Boolean (H, W): centres of flat 5x5 windows brighter than ``thr`` and away from ``colour`` pixels (colour
    flow is flat too, and stays inside the image), in components of >= ``FLAT_MIN_PX`` whose mean grey level
    is at least ``FLAT_MIN_GREY``. Saturated pixels count: a grey ramp's white end is part of the bar."""
    k = np.ones((5, 5), np.uint8)
    span = cv2.dilate(gray, k).astype(np.int16) - cv2.erode(gray, k)
    near_colour = cv2.dilate(colour.astype(np.uint8), k).astype(bool)
    flat = ((span <= FLAT_RANGE) & (gray > thr + 2) & ~near_colour).astype(np.uint8)
    if not flat.any():
        return flat.astype(bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=8)
    sums = np.bincount(labels.ravel(), weights=gray.ravel().astype(np.float64), minlength=n)
    means = sums / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    keep = np.flatnonzero((stats[:, cv2.CC_STAT_AREA] >= FLAT_MIN_PX) & (means >= FLAT_MIN_GREY))
    return np.isin(labels, keep[keep > 0])


def carve_flat(panel: Panel, flat: np.ndarray) -> Panel:
    """``panel`` with each small, solid flat component inside its mask cut out (see the module docstring)."""
    inside = ((panel.mask > 0) & flat).astype(np.uint8)
    if not inside.any():
        return panel
    n, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
    bx, by, bw, bh = panel.bbox
    rim = max(3, round(RIM_FRAC * min(bw, bh)))
    limit = FLAT_MAX_FRAC * np.count_nonzero(panel.mask)
    mask = panel.mask.copy()
    for lab in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[lab])
        if area < FLAT_MIN_PX or area > limit or area < FLAT_SOLID * w * h:
            continue
        x0, y0, x1, y1 = x - 4, y - 4, x + w + 4, y + h + 4  # the 5x5 window's reach and the shape's outline
        x0 = bx if x0 - bx <= rim else x0
        y0 = by if y0 - by <= rim else y0
        x1 = bx + bw if bx + bw - x1 <= rim else x1
        y1 = by + bh if by + bh - y1 <= rim else y1
        mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 0
    if np.array_equal(mask, panel.mask):
        return panel
    return replace(panel, mask=mask, bbox=bbox_of(mask))


def mark_mask(gray: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Boolean (H, W): caliper-like marks — white shapes of >= ``MARK_MIN_PX`` px, ``MARK_MIN_LEN`` long, that a
    3x3 opening all but removes (thin lines, not blobs) — grown by one pixel. Coloured marks are left alone:
    thin colour is also a Doppler box's outline and its flow's fringe, which stay inside the image."""
    white = (gray >= SATURATED) & ~colour
    drawn = white.astype(np.uint8)
    if not drawn.any():
        return drawn.astype(bool)
    opened = cv2.morphologyEx(drawn, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(drawn, connectivity=8)
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    solid = np.bincount(labels.ravel(), weights=opened.ravel().astype(np.float64), minlength=n) / np.maximum(area, 1)
    long = np.maximum(w, h) >= MARK_MIN_LEN
    keep = np.flatnonzero((area >= MARK_MIN_PX) & long & (solid <= MARK_SOLID))
    marks = np.isin(labels, keep[keep > 0]).astype(np.uint8)
    return cv2.dilate(marks, np.ones((3, 3), np.uint8)) > 0


def carve_marks(panel: Panel, marks: np.ndarray) -> Panel:
    """``panel`` with the mark pixels inside it taken out of its mask (its bbox and geometry stay)."""
    hit = (panel.mask > 0) & marks
    if not hit.any():
        return panel
    mask = panel.mask.copy()
    mask[hit] = 0
    return replace(panel, mask=mask)
