"""Group traced components into image panels and fit each one (dual-panel screens give two).

A panel starts from a large component (at least ``PANEL_FRAC`` of the largest). Smaller components lying
within its columns and close below/above it are pieces of the same image cut off by an anechoic band (a
dark layer across a linear image, a fluid gap under the apex) and are merged when the merged fit holds.
Two panels that touch trace as one component: wide fans side by side fail to fit and are split at their
narrowest column near the middle; linear panels side by side fit one rectangle, which is split at the seam
:func:`~liveredge.edge.preprocess.seams.find_seam` finds (texture, motion). Each half is fitted on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from liveredge.edge.preprocess.fit import fit_geometry
from liveredge.edge.preprocess.region import KIND_FREEFORM, KIND_LINEAR, Panel, bbox_of, rect_mask, sector_mask
from liveredge.edge.preprocess.seams import find_seam, split_at

PANEL_FRAC = 0.4  # a component this large relative to the largest is a panel of its own
PIECE_FRAC = 0.01  # smaller components down to this fraction of a panel can be merged into it
WAIST = 0.35  # a column this much thinner than the widest, mid-component, is where two panels touch


def find_panels(
    comps: list[np.ndarray],
    kernel: int,
    ev: np.ndarray | None = None,
    thr: float = 0.0,
    motion: np.ndarray | None = None,
) -> list[Panel]:
    """Panels (left to right) from filled components (uint8 0/255 masks, largest first).

    ``motion`` (mean frame difference per pixel over a warm-up window) helps find the seam of touching panels.
    """
    if not comps:
        return []
    areas = [int(np.count_nonzero(c)) for c in comps]
    seeds = [i for i, a in enumerate(areas) if a >= PANEL_FRAC * areas[0]]
    pieces = [i for i in range(len(comps)) if i not in seeds]
    panels: list[Panel] = []
    for i in seeds:
        own = [comps[j] for j in pieces if areas[j] >= PIECE_FRAC * areas[i] and _within(comps[j], comps[i])]
        panels.extend(_fit_seed(comps[i], own, _Fitter(kernel, ev, thr), motion))
    panels = _distinct(panels)
    panels.sort(key=lambda p: p.bbox[0])
    return panels


def _distinct(panels: list[Panel]) -> list[Panel]:
    """Drop a panel that mostly overlaps one already kept: two large pieces of ONE image split by a full-width
    anechoic band (ascites across a linear image) each fit the whole image; panels never overlap."""
    kept: list[Panel] = []
    for p in sorted(panels, key=lambda q: -int(np.count_nonzero(q.mask))):
        area = max(int(np.count_nonzero(p.mask)), 1)
        if all(int(np.count_nonzero((p.mask > 0) & (k.mask > 0))) < 0.5 * area for k in kept):
            kept.append(p)
    return kept


def _within(piece: np.ndarray, seed: np.ndarray) -> bool:
    """The piece lies inside the seed's columns (±3 %) and within a quarter of its height above/below it."""
    px, py, pw, ph = bbox_of(piece)
    sx, sy, sw, sh = bbox_of(seed)
    tol = 0.03 * sw
    inside_cols = px >= sx - tol and px + pw <= sx + sw + tol
    gap = max(sy - (py + ph), py - (sy + sh), 0)
    return inside_cols and gap <= 0.25 * sh


def _fit_seed(seed: np.ndarray, pieces: list[np.ndarray], fitter: _Fitter, motion: np.ndarray | None) -> list[Panel]:
    if pieces:
        merged = seed.copy()
        for p in pieces:
            merged |= p
        panel = fitter(merged)
        if panel is not None:
            return _at_seam(panel, merged, fitter, motion)
    panel = fitter(seed)
    if panel is not None:
        return _at_seam(panel, seed, fitter, motion)
    halves = _split(seed)
    if halves is not None:
        fitted = [fitter(h) for h in halves]
        if all(f is not None for f in fitted):
            return [f for f in fitted if f is not None]
    return [Panel(kind=KIND_FREEFORM, bbox=bbox_of(seed), mask=seed)]


@dataclass(frozen=True)
class _Fitter:
    kernel: int
    ev: np.ndarray | None
    thr: float

    def __call__(self, comp: np.ndarray) -> Panel | None:
        fit = fit_geometry(comp, self.kernel, self.ev, self.thr)
        if fit is None:
            return None
        return Panel(kind=fit.kind, bbox=bbox_of(fit.mask), mask=fit.mask, sector=fit.sector, partial=fit.partial)


def _at_seam(panel: Panel, comp: np.ndarray, fitter: _Fitter, motion: np.ndarray | None) -> list[Panel]:
    """Two panels when ``panel`` covers two touching images (:func:`~.seams.find_seam`), each fitted on its own
    side only (the other side reads as background, so the refinement cannot grow back across the seam)."""
    if fitter.ev is None or panel.kind != KIND_LINEAR:
        return [panel]
    seam = find_seam(panel.mask, fitter.ev, motion)
    if seam is None:
        return [panel]
    halves = []
    for side, half in zip((slice(seam + 1, None), slice(None, seam + 1)), split_at(comp, seam), strict=True):
        ev = fitter.ev.copy()
        ev[:, side] = 0.0
        halves.append(replace(fitter, ev=ev)(half))
    if any(h is None for h in halves):
        return [panel]
    return [h for h in halves if h is not None]


def _split(comp: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Cut at the thinnest column in the middle 30-70 % of the component, if it is a clear waist."""
    cols = np.count_nonzero(comp, axis=0)
    xs = np.flatnonzero(cols)
    if len(xs) < 16:
        return None
    x0, x1 = int(xs[0]), int(xs[-1])
    lo, hi = x0 + int(0.3 * (x1 - x0)), x0 + int(0.7 * (x1 - x0))
    cut = lo + int(np.argmin(cols[lo : hi + 1]))
    if cols[cut] > WAIST * cols.max():
        return None
    left, right = comp.copy(), comp.copy()
    left[:, cut:] = 0
    right[:, : cut + 1] = 0
    return left, right


def inset_panel(panel: Panel, px: float) -> Panel:
    """The panel shrunk by ``px`` pixels on every side (sector: angles, radii; rectangle: edges; traced: erosion)."""
    shape = panel.mask.shape[:2]
    if panel.sector is not None:
        s = panel.sector
        da = math.degrees(px / max(s.r_outer, 1.0))
        sector = replace(
            s,
            angle_left_deg=s.angle_left_deg + da,
            angle_right_deg=s.angle_right_deg - da,
            r_inner=s.r_inner + px if s.r_inner > 0 else 0.0,
            r_outer=s.r_outer - px,
        )
        mask = sector_mask(shape, sector)
        return replace(panel, mask=mask, bbox=bbox_of(mask), sector=sector)
    k = 2 * int(math.ceil(px)) + 1
    if panel.kind == KIND_LINEAR:
        x, y, w, h = panel.bbox
        d = int(math.ceil(px))
        mask = rect_mask(shape, (x + d, y + d, max(0, w - 2 * d), max(0, h - 2 * d)))
    else:
        mask = cv2.erode(panel.mask, np.ones((k, k), np.uint8))
    return replace(panel, mask=mask, bbox=bbox_of(mask))
