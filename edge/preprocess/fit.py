"""Fit a probe geometry (sector or rectangle) to a traced region component. Pure numpy/OpenCV, no I/O.

The traced component (from :mod:`liveredge.edge.preprocess.detect`) is ragged: speckle makes its border
noisy, anechoic structures bite into it, and overlays touching the fan stick out of it. The probe's image
region is a simple shape, so we fit that shape robustly: RANSAC lines to the left and right edges of each
row (``x = a*y + b``); parallel vertical edges mean a linear probe (a rectangle), edges diverging
downwards mean a sector whose apex is where they meet; inner and outer radii are medians over angle bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from liveredge.edge.preprocess.partial import RING, extend_sector, ruler_depth, shallow, sparse_support
from liveredge.edge.preprocess.refine import refine_rect, refine_sector
from liveredge.edge.preprocess.region import (
    KIND_CURVILINEAR,
    KIND_LINEAR,
    KIND_PHASED,
    Sector,
    bbox_of,
    rect_mask,
    sector_mask,
)

_VERTICAL_SLOPE = 0.035  # |dx/dy| below this on both edges → a linear probe
_PHASED_RATIO = 0.08  # r_inner / r_outer below this → phased array (near-point apex)
_MIN_IOU = 0.82  # without pixel evidence, a fit must agree this well with the traced component
_MIN_CONTAIN = 0.85  # with evidence: this much of the traced component must lie inside the fit ...
_MIN_SUPPORT = 0.6  # ... and this much of the fit must be bright or overlay (not background)


@dataclass(frozen=True)
class Fit:
    """A fitted geometry: kind, mask (uint8 0/255), sector (None for linear) and agreement with the trace.

    ``partial`` says how the fit rests on partial evidence (empty when the pixels show the whole region);
    ``core`` is the part of ``mask`` the usual support test applies to (None: all of it).
    """

    kind: str
    mask: np.ndarray
    sector: Sector | None
    iou: float
    partial: str = ""
    core: np.ndarray | None = None


def row_edges(comp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows that contain the component, with their leftmost and rightmost column (float64 arrays)."""
    on = comp > 0
    rows = np.flatnonzero(on.any(axis=1))
    sub = on[rows]
    left = sub.argmax(axis=1)
    right = sub.shape[1] - 1 - sub[:, ::-1].argmax(axis=1)
    return rows.astype(np.float64), left.astype(np.float64), right.astype(np.float64)


def ransac_line(y: np.ndarray, x: np.ndarray, tol: float = 1.5, iters: int = 200) -> tuple[float, float, np.ndarray]:
    """Robust ``x = a*y + b`` through (y, x) points; returns a, b and the inlier mask (deterministic)."""
    n = len(y)
    if n < 2:
        return 0.0, float(x[0]) if n else 0.0, np.ones(n, dtype=bool)
    rng = np.random.default_rng(0)
    i = rng.integers(0, n, size=iters)
    j = rng.integers(0, n, size=iters)
    ok = np.abs(y[i] - y[j]) >= max(4.0, 0.1 * (y.max() - y.min()))
    i, j = i[ok], j[ok]
    if len(i) == 0:
        return 0.0, float(np.median(x)), np.ones(n, dtype=bool)
    a = (x[j] - x[i]) / (y[j] - y[i])
    b = x[i] - a * y[i]
    resid = np.abs(x[None, :] - (a[:, None] * y[None, :] + b[:, None]))
    best = int(np.argmax((resid <= tol).sum(axis=1)))
    inl = resid[best] <= tol
    a_fit, b_fit = np.polyfit(y[inl], x[inl], 1) if inl.sum() >= 2 else (a[best], b[best])
    inl = np.abs(x - (a_fit * y + b_fit)) <= tol
    return float(a_fit), float(b_fit), inl


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (0 when both are empty)."""
    aa, bb = a > 0, b > 0
    union = int(np.count_nonzero(aa | bb))
    return float(np.count_nonzero(aa & bb)) / union if union else 0.0


def fit_geometry(comp: np.ndarray, kernel: int = 3, ev: np.ndarray | None = None, thr: float = 0.0) -> Fit | None:
    """Fit a rectangle or sector to a traced component (uint8 mask); None when neither fits well.

    ``kernel`` is the tracing morphology size (px): the opening blunts a phased fan's tip by about that much,
    so it is allowed for when telling phased from curvilinear. With an evidence image ``ev`` and its
    background threshold ``thr`` (:func:`~liveredge.edge.preprocess.refine.evidence_image`) the fit is
    re-measured on the pixels (:mod:`.refine`).
    """
    rows, left, right = row_edges(comp)
    if len(rows) < 8:
        return None
    tol = max(1.5, 0.004 * comp.shape[0])
    al, bl, inl_l = ransac_line(rows, left, tol)
    ar, br, inl_r = ransac_line(rows, right, tol)
    if abs(al) < _VERTICAL_SLOPE and abs(ar) < _VERTICAL_SLOPE:
        fit = _fit_rect(comp, rows, left, right, inl_l, inl_r)
    elif al < 0 < ar:
        fit = _fit_sector(comp, al, bl, ar, br, kernel)
    else:
        return None
    if fit is not None and ev is not None:
        fit = _refined(fit, comp, ev, thr)
    if fit is None:
        return None
    if ev is None:
        return fit if fit.iou >= _MIN_IOU else None
    return _supported(fit, comp, ev, thr)


def _supported(fit: Fit, comp: np.ndarray, ev: np.ndarray, thr: float) -> Fit | None:
    """The fit when it holds the traced component and the pixels bear it out (densely, or sparsely but clearly)."""
    contain = int(np.count_nonzero((fit.mask > 0) & (comp > 0))) / max(1, int(np.count_nonzero(comp)))
    if contain < _MIN_CONTAIN:
        return None
    core = fit.mask if fit.core is None else fit.core
    vals = ev[core > 0]
    support = np.count_nonzero((vals > thr) | (vals < 0)) / max(1, vals.size)
    if support >= _MIN_SUPPORT:
        return fit
    if fit.sector is not None and sparse_support(core, ev, thr):
        note = f"sparse far field: {100 * support:.0f} % of the sector is brighter than the background (fluid)"
        return replace(fit, partial=f"{fit.partial}; {note}" if fit.partial else note)
    return None


def _refined(fit: Fit, comp: np.ndarray, ev: np.ndarray, thr: float) -> Fit | None:
    shape = comp.shape[:2]
    if fit.sector is None:
        box = refine_rect(ev, thr, bbox_of(fit.mask))
        if box is None:
            return None
        mask = rect_mask(shape, box)
        return Fit(kind=KIND_LINEAR, mask=mask, sector=None, iou=iou(mask, comp))
    sector = refine_sector(ev, thr, fit.sector)
    if sector is None:
        return None
    mask = sector_mask(shape, sector)
    kind = KIND_PHASED if sector.r_inner < _PHASED_RATIO * sector.r_outer else KIND_CURVILINEAR
    fit = Fit(kind=kind, mask=mask, sector=sector, iou=iou(mask, comp))
    return _deepened(fit, sector, comp, ev, thr) if shallow(sector) else fit


def _deepened(fit: Fit, sector: Sector, comp: np.ndarray, ev: np.ndarray, thr: float) -> Fit:
    """A shallow sector followed into its dark far field (:func:`~.partial.extend_sector`), else deepened to the
    depth ruler (:func:`~.partial.ruler_depth`); when neither leads further, the fit stays as seen and says
    that its depth may be larger."""
    deeper = extend_sector(ev, thr, sector)
    note = (
        f"depth from sparse echoes beyond the tissue band under the probe "
        f"(outer radius {sector.r_outer:.0f} -> {deeper.r_outer:.0f} px)"
    )
    if deeper.r_outer <= sector.r_outer + RING:
        ruler = ruler_depth(ev, sector)
        if ruler is not None and ruler[0] > sector.r_outer + RING:
            deeper, note = replace(sector, r_outer=ruler[0]), ruler[1]
    if deeper.r_outer > sector.r_outer + RING:
        full = sector_mask(fit.mask.shape[:2], deeper)
        return Fit(kind=fit.kind, mask=full, sector=deeper, iou=iou(full, comp), partial=note, core=fit.mask)
    note = (
        f"shallow sector (depth {sector.r_outer - sector.r_inner:.0f} px under a {sector.r_inner:.0f} px probe "
        "radius) with a dark far field and no echoes in it: the sector may be deeper than seen"
    )
    return replace(fit, partial=note)


def _fit_rect(
    comp: np.ndarray, rows: np.ndarray, left: np.ndarray, right: np.ndarray, inl_l: np.ndarray, inl_r: np.ndarray
) -> Fit | None:
    x0 = int(round(np.median(left[inl_l])))
    x1 = int(round(np.median(right[inl_r])))
    if x1 - x0 < 8:
        return None
    both = inl_l & inl_r
    ys = rows[both] if both.any() else rows
    y0, y1 = int(ys.min()), int(ys.max())
    mask = rect_mask(comp.shape[:2], (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    return Fit(kind=KIND_LINEAR, mask=mask, sector=None, iou=iou(mask, comp))


def _fit_sector(comp: np.ndarray, al: float, bl: float, ar: float, br: float, kernel: int) -> Fit | None:
    y0 = (bl - br) / (ar - al)
    x0 = al * y0 + bl
    ang_l = math.degrees(math.atan(al))
    ang_r = math.degrees(math.atan(ar))
    radii = _radii(comp, (x0, y0), ang_l, ang_r)
    if radii is None:
        return None
    r_in, r_out = radii
    sector = Sector(
        apex=(float(x0), float(y0)), angle_left_deg=ang_l, angle_right_deg=ang_r, r_inner=r_in, r_outer=r_out
    )
    mask = sector_mask(comp.shape[:2], sector)
    kind = KIND_PHASED if r_in - kernel < _PHASED_RATIO * r_out else KIND_CURVILINEAR
    return Fit(kind=kind, mask=mask, sector=sector, iou=iou(mask, comp))


def _radii(comp: np.ndarray, apex: tuple[float, float], ang_l: float, ang_r: float) -> tuple[float, float] | None:
    """Median over angle bins of the nearest and farthest component pixel from the apex."""
    ys, xs = np.nonzero(comp)
    dx, dy = xs - apex[0], ys - apex[1]
    ang = np.degrees(np.arctan2(dx, dy))
    span = ang_r - ang_l
    keep = (ang > ang_l + 0.1 * span) & (ang < ang_r - 0.1 * span)
    if keep.sum() < 50:
        return None
    r = np.hypot(dx[keep], dy[keep])
    bins = np.clip(((ang[keep] - ang_l) / span * 48).astype(np.int64), 0, 47)
    order = np.lexsort((r, bins))
    b_sorted, r_sorted = bins[order], r[order]
    starts = np.flatnonzero(np.r_[True, b_sorted[1:] != b_sorted[:-1]])
    ends = np.r_[starts[1:], len(b_sorted)] - 1
    r_min = r_sorted[starts]
    r_max = r_sorted[ends]
    r_in = float(np.median(r_min))
    r_out = float(np.median(r_max))
    if r_out - r_in < 8:
        return None
    return max(0.0, r_in - 0.5), r_out + 0.5
