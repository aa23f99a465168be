"""Sector geometry from partial evidence: a fan whose far field is fluid (dark) shows tissue only under the probe.

The probe arc and the sector's straight edges fix the apex and the angles even when only a band of tissue
under the probe is visible (:func:`~liveredge.edge.preprocess.fit.fit_geometry` fits them from that band).
The depth is then measured from *sparse* evidence: fluid shows weak echoes (particles, noise) that are rare
in one frame but far more common inside the sector than beside it, and a warm-up window's maximum
projection fills them in. :func:`extend_sector` follows that evidence outwards ring by ring;
:func:`sparse_support` accepts a fit whose inside is clearly brighter than its surroundings even where
less than the usual share of it is bright. Without echoes, :func:`ruler_depth` reads the depth off the
screen's depth ruler (evenly spaced ticks beside the image; the deepest marks the depth on the centre line).
When none of these settles the depth, :func:`too_thin` says why.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from liveredge.edge.preprocess.refine import polar_samples
from liveredge.edge.preprocess.region import Sector, sector_mask

RING = 8  # px: rings of this width are tested together
MIN_DENSITY = 0.0015  # a ring with fewer bright samples than this fraction holds no evidence ...
CONTRAST = 4.0  # ... nor one less than this many times denser than the strips beside the sector
GAP_PX = 40  # rings without evidence bridged while following the far field outwards
SIDE_DEG = (3.0, 12.0)  # the strips beside the sector: this many degrees outside each edge
SPARSE_SUPPORT = 0.1  # a fit with at least this share bright ...
SPARSE_CONTRAST = 5.0  # ... and this many times its surroundings' share is supported (sparse far field)
TICK_BRIGHT = 150  # ruler ticks are drawn bright (or as white/colour overlay)
TICK_LEN = (3, 12)  # a tick is a horizontal stroke this many px long, at most 2 px high
MIN_TICKS = 5  # a ruler has at least this many ticks in one column ...
TICK_EVEN = 0.15  # ... spaced evenly (each gap within this fraction of the median gap)
SHALLOW = 2.0  # a sector shallower than this times its inner radius may be cut short by a dark far field
# (probes: radius 40-60 mm, depth >= 100 mm; simulated curvilinear screens: >= 3.4)


def shallow(sector: Sector) -> bool:
    """Whether the sector's depth is small for its probe radius: its far field may be dark, not absent."""
    return sector.r_inner > 0 and sector.r_outer - sector.r_inner < SHALLOW * sector.r_inner


def extend_sector(ev: np.ndarray, thr: float, sector: Sector) -> Sector:
    """``sector`` with its outer radius moved out as far as sparse evidence reaches (unchanged when none).

    Rings (``RING`` px) beyond ``r_outer`` hold evidence when their share of bright samples inside the angles
    is at least ``MIN_DENSITY`` and ``CONTRAST`` times the share in strips beside the sector; the walk stops
    after ``GAP_PX`` without evidence or at the frame's edge.
    """
    ax, ay = sector.apex
    h, w = ev.shape
    far = max(math.hypot(cx - ax, cy - ay) for cx in (0, w) for cy in (0, h))
    radii = np.arange(sector.r_outer, far, 1.0, dtype=np.float32)
    if len(radii) < 2 * RING:
        return sector
    known, dens = _ring_density(ev, thr, sector.apex, radii, sector.angle_left_deg, sector.angle_right_deg)
    lo, hi = sector.angle_left_deg, sector.angle_right_deg
    _, left = _ring_density(ev, thr, sector.apex, radii, lo - SIDE_DEG[1], lo - SIDE_DEG[0])
    _, right = _ring_density(ev, thr, sector.apex, radii, hi + SIDE_DEG[0], hi + SIDE_DEG[1])
    evidence = known & (dens >= MIN_DENSITY) & (dens >= CONTRAST * np.maximum(left, right))
    # The ring touching the fitted edge holds that edge's own blur (how much depends on the OpenCV build's
    # filters): it is not far-field evidence. Only rings beyond it can move the depth.
    evidence[:1] = False
    last, misses = -1, 0
    for k, ok in enumerate(evidence):
        if not known[k]:
            break  # beyond the frame
        if ok:
            last, misses = k, 0
        else:
            misses += RING
            if misses > GAP_PX:
                break
    if last < 0:
        return sector
    return replace(sector, r_outer=float(radii[0] + (last + 1) * RING))


def _ring_density(
    ev: np.ndarray, thr: float, apex: tuple[float, float], radii: np.ndarray, a0: float, a1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per ``RING``-px ring: (enough valid samples, share of valid samples brighter than ``thr``)."""
    r_out = max(float(radii[-1]), 16.0)
    angles = np.arange(a0, a1, math.degrees(0.7 / r_out), dtype=np.float32)
    if len(angles) < 2:
        n = len(radii) // RING
        return np.zeros(n, bool), np.zeros(n)
    polar = polar_samples(ev, apex, radii, angles)
    n = len(radii) // RING
    polar = polar[: n * RING].reshape(n, RING * len(angles))
    valid = polar >= 0
    n_valid = valid.sum(axis=1)
    bright = (polar > thr).sum(axis=1)
    return n_valid >= 0.3 * polar.shape[1], bright / np.maximum(n_valid, 1)


def sparse_support(mask: np.ndarray, ev: np.ndarray, thr: float) -> bool:
    """A fit too dark for the usual support test, still clearly set off from what lies around it."""
    inside = mask > 0
    ring = cv2.dilate(mask, np.ones((15, 15), np.uint8)) > 0
    ring &= ~cv2.dilate(mask, np.ones((5, 5), np.uint8)).astype(bool)
    share_in = _bright_share(ev[inside], thr)
    share_out = _bright_share(ev[ring], thr)
    return share_in >= SPARSE_SUPPORT and share_in >= SPARSE_CONTRAST * share_out


def _bright_share(vals: np.ndarray, thr: float) -> float:
    valid = vals >= 0
    return float(np.count_nonzero(vals[valid] > thr)) / max(1, int(np.count_nonzero(valid)))


def ruler_depth(ev: np.ndarray, sector: Sector) -> tuple[float, str] | None:
    """Outer radius from a depth ruler, and how it was read; None when the screen shows no ruler beyond the fit.

    Ticks are short horizontal strokes outside the fitted sector whose left ends share a column; ``MIN_TICKS``
    or more, evenly spaced, make a ruler. Scanners mark depth along the centre line, so the deepest tick's row
    minus the apex row is the outer radius.
    """
    bright = ((ev < 0) | (ev >= TICK_BRIGHT)).astype(np.uint8)
    bright[cv2.dilate(sector_mask(ev.shape, sector), np.ones((5, 5), np.uint8)) > 0] = 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    x, y, w, h = (stats[1:, i] for i in range(4))
    tick = (h <= 2) & (w >= TICK_LEN[0]) & (w <= TICK_LEN[1])
    xs, ys = x[tick], y[tick] + (h[tick] - 1) / 2.0
    best: np.ndarray | None = None
    for col in np.unique(xs):
        rows = np.sort(ys[np.abs(xs - col) <= 1])
        if len(rows) >= MIN_TICKS and (best is None or len(rows) > len(best)):
            best = rows
    if best is None:
        return None
    gaps = np.diff(best)
    step = float(np.median(gaps))
    if step < 3 or np.any(np.abs(gaps - step) > TICK_EVEN * step) or best[-1] <= sector.apex[1] + sector.r_outer:
        return None
    r_outer = float(best[-1] - sector.apex[1])
    note = (
        f"depth from the depth ruler: {len(best)} ticks every {step:.1f} px, the deepest at row {best[-1]:.0f} "
        f"(outer radius {sector.r_outer:.0f} -> {r_outer:.0f} px; the far field shows no echoes)"
    )
    return r_outer, note


def too_thin(sector: Sector) -> str:
    """Why a sector seen only as a band under the probe cannot be used from one frame."""
    depth = sector.r_outer - sector.r_inner
    return (
        f"partial evidence too thin: tissue only in a {depth:.0f} px band under the probe arc "
        f"(apex ({sector.apex[0]:.0f}, {sector.apex[1]:.0f}), angles {sector.angle_left_deg:.1f}.."
        f"{sector.angle_right_deg:.1f} deg, radii {sector.r_inner:.0f}..{sector.r_outer:.0f} px); the far field "
        "is dark (fluid) with no echoes in it and no depth ruler was found, so the sector's depth cannot be "
        "measured from the frames seen: a longer cine or video (the region is accumulated over its frames) "
        "settles it"
    )
