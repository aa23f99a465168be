"""Refine a fitted sector or rectangle against the pixels themselves (sub-kernel precision).

The traced component is blurred and morphologically filtered, so its border is only good to a few pixels.
Given a first fit, we resample an *evidence* image — float32 (H, W) grey levels with -1 where a pixel is
an overlay (colour, saturated) and therefore says nothing — on the probe's own grid: (radius, angle) about
the apex for a sector, (row, column) for a rectangle. Along each grid column/row the fraction of valid
samples brighter than the background threshold is high inside the image and near zero outside; the image
edges are where that fraction falls below ``EDGE_FRAC``, searched outwards from the middle so overlays
beyond the border (text, rulers) cannot extend it. In depth, dark gaps up to ``GAP_FRAC`` of the image's
extent (ascites, a fat layer across the image) do not end it when searching deeper (towards the
transducer and laterally only 2 lines do: text sits above the image, the next panel may be that close), nor do grid lines with
almost no valid samples (outside the frame, under a colour box).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from liveredge.edge.preprocess.region import Sector

EDGE_FRAC = 0.3  # fraction of bright samples below which a grid line is outside the image
MIN_VALID = 0.2  # grid lines with fewer valid samples than this fraction are "unknown"
GAP_FRAC = 0.05  # longest dark gap bridged, as a fraction of the first fit's extent along the search


def evidence_image(gray: np.ndarray, overlay: np.ndarray) -> np.ndarray:
    """float32 (H, W): grey levels, -1 on overlay pixels (unsmoothed: smoothing would move the edges)."""
    ev = gray.astype(np.float32)
    ev[overlay] = -1.0
    return ev


def _fractions(samples: np.ndarray, thr: float, axis: int) -> tuple[np.ndarray, np.ndarray]:
    valid = samples >= 0
    n_valid = valid.sum(axis=axis)
    bright = (samples > thr).sum(axis=axis)
    frac = bright / np.maximum(n_valid, 1)
    known = n_valid >= MIN_VALID * samples.shape[axis]
    return frac, known


def _gap(extent: float) -> int:
    return max(2, int(GAP_FRAC * extent))


def _run_edges(frac: np.ndarray, known: np.ndarray, start: int, gap_after: int = 2) -> tuple[float, float]:
    """Edges (fractional indices, midway between in and out) of the bright run containing ``start``.

    Dark known lines end the run after more than 2 of them (``gap_after`` towards higher indices); unknown lines extend it only when they
    follow the run directly (the image continues out of the frame or under an overlay).
    """
    bright = (frac >= EDGE_FRAC) & known
    n = len(frac)

    def walk(step: int) -> float:
        gap = gap_after if step > 0 else 2
        i, last, misses = start, start, 0
        while 0 <= i + step < n:
            i += step
            if bright[i] or (not known[i] and misses == 0):
                last, misses = i, 0
            else:
                misses += 1
                if misses > gap:
                    break
        return last + 0.5 * step if 0 <= last + step < n else float(last)

    return walk(-1), walk(+1)


def refine_sector(ev: np.ndarray, thr: float, sector: Sector) -> Sector | None:
    """Re-measure the angles, then the radii, of ``sector`` on the polar-resampled evidence image."""
    ax, ay = sector.apex
    lo, hi = sector.angle_left_deg, sector.angle_right_deg
    span_r = sector.r_outer - sector.r_inner
    step_a = math.degrees(1.0 / max(sector.r_outer, 16.0))
    angles = np.arange(lo - 8.0, hi + 8.0, step_a, dtype=np.float32)
    h, w = ev.shape
    far = max(math.hypot(cx - ax, cy - ay) for cx in (0, w) for cy in (0, h))  # the image may reach the frame edge
    radii = np.arange(max(0.0, sector.r_inner - 0.3 * span_r), max(far, sector.r_outer) + 2, 1.0, dtype=np.float32)
    if len(angles) < 8 or len(radii) < 8:
        return None
    polar = polar_samples(ev, (ax, ay), radii, angles)
    band = (radii >= sector.r_inner + 0.1 * span_r) & (radii <= sector.r_outer - 0.1 * span_r)
    frac_a, known_a = _fractions(polar[band], thr, axis=0)
    mid_a = int(np.argmin(np.abs(angles - 0.5 * (lo + hi))))
    a0, a1 = _run_edges(frac_a, known_a, mid_a)
    new_lo, new_hi = (
        float(np.interp(a0, np.arange(len(angles)), angles)),
        float(np.interp(a1, np.arange(len(angles)), angles)),
    )
    cols = (angles > new_lo + 0.1 * (new_hi - new_lo)) & (angles < new_hi - 0.1 * (new_hi - new_lo))
    if cols.sum() < 4:
        return None
    frac_r, known_r = _fractions(polar[:, cols], thr, axis=1)
    mid_r = int(np.argmin(np.abs(radii - 0.5 * (sector.r_inner + sector.r_outer))))
    r0, r1 = _run_edges(frac_r, known_r, mid_r, _gap(span_r))
    r_in = float(radii[0] + r0) if r0 > 0 else 0.0
    r_out = float(radii[0] + r1)
    if r_out - r_in < 8 or new_hi - new_lo < 5:
        return None
    return Sector(apex=sector.apex, angle_left_deg=new_lo, angle_right_deg=new_hi, r_inner=r_in, r_outer=r_out)


def polar_samples(ev: np.ndarray, apex: tuple[float, float], radii: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(n_radii, n_angles) nearest-neighbour samples of ``ev``; -1 outside the frame."""
    rad = np.radians(angles)
    map_x = (apex[0] + radii[:, None] * np.sin(rad)[None, :]).astype(np.float32)
    map_y = (apex[1] + radii[:, None] * np.cos(rad)[None, :]).astype(np.float32)
    return cv2.remap(ev, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)


def refine_rect(ev: np.ndarray, thr: float, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Re-measure the columns, then the rows, of an (x, y, w, h) rectangle on the evidence image."""
    x, y, w, h = box
    H, W = ev.shape
    xa, xb, ya, yb = 0, W, 0, H
    core_rows = ev[y + h // 10 : y + h - h // 10, xa:xb]
    if core_rows.shape[0] < 4:
        return None
    frac_c, known_c = _fractions(core_rows, thr, axis=0)
    c0, c1 = _run_edges(frac_c, known_c, x + w // 2 - xa)
    left, right = xa + int(math.ceil(c0)), xa + int(math.floor(c1))
    core_cols = ev[ya:yb, left + (right - left) // 10 : right - (right - left) // 10 + 1]
    if core_cols.shape[1] < 4:
        return None
    frac_r, known_r = _fractions(core_cols, thr, axis=1)
    r0, r1 = _run_edges(frac_r, known_r, y + h // 2 - ya, _gap(h))
    top, bottom = ya + int(math.ceil(r0)), ya + int(math.floor(r1))
    if right - left < 8 or bottom - top < 8:
        return None
    return (left, top, right - left + 1, bottom - top + 1)
