"""Find the ultrasound image region (the fan) of a scanner screen: one frame or a warm-up window.

Steps (all O(pixels) OpenCV/numpy; about 20-45 ms for a 640x480 screen on one core):

1. overlay masking — colour pixels (``max(|B-G|, |G-R|) > 20``: Doppler, colour bars, coloured text),
   saturated pixels (>= 250: white text, calipers) and, over a window, static bright pixels;
2. tracing — a box-filtered grey image above the background level, closed (joins speckle), opened (drops
   text strokes, ruler ticks, thin bars), outer contours filled (anechoic holes are kept inside);
3. panels (:mod:`.panels`) — components at least 40 % the area of the largest (dual-panel screens give
   two; touching fans are split at their waist, touching rectangles at the seam where the speckle of two
   images meets or, over a window, where motion steps (:mod:`.seams`); pieces cut off by a dark band are
   merged back);
4. fitting (:mod:`.fit`, :mod:`.refine`) — a sector or rectangle fitted robustly to the trace, then its
   edges re-measured on the pixels; a panel that fits neither keeps its traced shape (``"freeform"``);
   lossy sources are inset by a pixel (codec ringing), solid overlays on the border are cut out, and so
   are flat grey bars and icons drawn inside the image (:mod:`.furniture`);
5. partial evidence (:mod:`.partial`) — a sector whose far field is fluid shows tissue only under the
   probe: apex and angles come from that band, the depth from sparse echoes (over a window: the median
   projection for the tissue, the maximum for the echoes); the region then says ``partial`` and how;
6. checks — too small, untextured (uniform) or uncorrelated (noise) regions give ``"no_ultrasound"``
   instead of a guess (a tissue band too thin to follow says why in ``partial``).

Frames are uint8 BGR (H, W, 3); grey (H, W), (H, W, 1) and BGRA (alpha dropped) are accepted. Other
dtypes (16-bit, float) and empty frames raise :class:`PreprocessError` naming the frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import cv2
import numpy as np

from liveredge.edge.errors import PreprocessError
from liveredge.edge.image import as_bgr
from liveredge.edge.preprocess.fit import fit_geometry
from liveredge.edge.preprocess.furniture import SATURATED, carve_flat, carve_marks, flat_mask, mark_mask
from liveredge.edge.preprocess.panels import find_panels, inset_panel
from liveredge.edge.preprocess.partial import shallow, too_thin
from liveredge.edge.preprocess.refine import evidence_image
from liveredge.edge.preprocess.region import (
    KIND_FREEFORM,
    STATUS_OK,
    Panel,
    Region,
    bbox_of,
    no_region,
)

COLOUR_DELTA = 20  # chroma (grey levels) above which a pixel is an overlay
MIN_AREA_FRAC = 0.03  # smallest region, as a fraction of the frame
THIN_AREA_FRAC = 0.004  # smallest tissue band under a probe arc followed into a dark far field (:mod:`.partial`)
NOTHING_FOUND = "no ultrasound region found (nothing but background, text or colour)"
CLEAN_BG_FRAC = 0.15  # a background level held by this fraction of pixels is exact (no JPEG noise)
CARVE_AREA = 0.06  # overlays on the image border smaller than this fraction of it are cut out ...
CARVE_DENSITY = 0.5  # ... when at least this much of their bounding box is overlay (solid bars, not Doppler)
MIN_SIDE = 32  # frames smaller than this in either dimension have no usable region


def overlay_mask(bgr: np.ndarray) -> np.ndarray:
    """Boolean (H, W): pixels that are colour or saturated — overlays, never B-mode data."""
    b, g, r = (bgr[..., i].astype(np.int16) for i in range(3))
    chroma = np.maximum(np.abs(b - g), np.abs(g - r))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return (chroma > COLOUR_DELTA) | (gray >= SATURATED)


def background_threshold(gray: np.ndarray, lossy: bool | None = None) -> float:
    """Grey level above which a pixel is not background.

    The background is the most common grey level. Lossless or synthetic screens hold it exactly; then
    even a noise floor one level above it is image — deep, attenuated tissue is often just that. Lossy
    (JPEG, video codec) screens scatter the background by a few levels, so the threshold is then 3
    levels above it. ``lossy`` comes from the source when it knows (DICOM transfer syntax, video file);
    ``None`` guesses (:func:`looks_lossy`).
    """
    bg = int(np.bincount(gray.ravel(), minlength=256).argmax())
    return bg + (3.0 if (looks_lossy(gray) if lossy is None else lossy) else 0.5)


def looks_lossy(gray: np.ndarray) -> bool:
    """Guess: False when the background level holds >= 15 % of the frame and the level two above it is much
    rarer than the level one above it (a noise-floor plateau, not codec noise spreading the background)."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.int64)
    bg = int(hist.argmax())
    one, two = int(hist[min(bg + 1, 255)]), int(hist[min(bg + 2, 255)])
    return not (hist[bg] >= CLEAN_BG_FRAC * gray.size and two <= 0.5 * one)


def _kernel(shape: tuple[int, ...]) -> int:
    """Odd smoothing / morphology size in px: about 1/80 of the short side, at least 3."""
    return max(3, int(round(min(shape[:2]) / 80)) | 1)


def trace(gray: np.ndarray, overlay: np.ndarray) -> list[np.ndarray]:
    """Filled candidate components (uint8 0/255 masks), largest first."""
    h, w = gray.shape
    k = _kernel(gray.shape)
    clean = gray.copy()
    clean[overlay] = 0
    smooth = cv2.blur(clean, (k, k))
    signal = (smooth > background_threshold(gray, lossy=True)).astype(np.uint8)
    ell = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    big = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    signal = cv2.morphologyEx(signal, cv2.MORPH_CLOSE, ell)
    signal = cv2.morphologyEx(signal, cv2.MORPH_OPEN, big)  # drops text strokes, ruler ticks, thin bars
    signal = cv2.erode(signal, ell)  # the box filter grew the border by about k/2
    contours, _ = cv2.findContours(signal, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = sorted(contours, key=cv2.contourArea, reverse=True)[:12]
    comps = []
    for c in contours:
        m = np.zeros((h, w), dtype=np.uint8)
        cv2.drawContours(m, [c], -1, 255, thickness=cv2.FILLED)
        comps.append(m)
    return comps


def textured(gray: np.ndarray, mask: np.ndarray) -> str:
    """Empty string when the region looks like B-mode (speckle), else why it does not."""
    inside = mask > 0
    g = gray.astype(np.float32)
    vals = g[inside]
    if vals.size < 64 or float(vals.std()) < 3.0:
        return "the candidate region is uniform (no speckle texture)"
    both = inside[:, :-1] & inside[:, 1:]
    a, b = g[:, :-1][both], g[:, 1:][both]
    a, b = a - a.mean(), b - b.mean()
    corr = float((a * b).mean() / max(1e-6, float(np.sqrt((a * a).mean() * (b * b).mean()))))
    if corr < 0.3:
        return f"the candidate region is uncorrelated noise (neighbour correlation {corr:.2f}), not speckle"
    return ""


def _region(
    gray: np.ndarray,
    overlay: np.ndarray,
    motion: np.ndarray | None,
    lossy: bool | None,
    evidence: np.ndarray | None = None,
    furniture: tuple[np.ndarray, np.ndarray] | None = None,
    marks: np.ndarray | None = None,
) -> Region:
    """Region of a screen traced on ``gray``, fitted and measured on ``evidence`` (default: ``gray``).

    ``furniture``: (grey image, colour mask) in which flat bars and icons are sought (default: ``gray`` and
    the overlay pixels that are not white). ``marks``: caliper marks to take out of the masks (windows only).
    """
    shape = gray.shape
    if min(shape) < MIN_SIDE:
        return no_region(shape, f"frame {shape[1]}x{shape[0]} is too small to hold an ultrasound image")
    comps = trace(gray, overlay)
    if not comps or np.count_nonzero(comps[0]) < THIN_AREA_FRAC * gray.size:
        return no_region(shape, NOTHING_FOUND)
    lossy = looks_lossy(gray) if lossy is None else lossy
    thr = background_threshold(gray, lossy)
    grey, colour = (gray, overlay & (gray < SATURATED)) if furniture is None else furniture
    flat = flat_mask(grey, thr, colour)
    ev = evidence_image(gray if evidence is None else evidence, overlay)
    panels = _candidates(comps, ev, thr, motion)
    if isinstance(panels, Region):
        return panels
    if lossy:  # codec ringing lets edges bleed about a pixel outwards
        panels = [inset_panel(p, 1.0) for p in panels]
    panels = [carve_flat(carve_edge_overlays(p, overlay), flat) for p in panels]
    if marks is not None:
        panels = [carve_marks(p, marks) for p in panels]
    panels = [p for p in panels if not textured(gray, p.mask)]
    fitted = [p for p in panels if p.kind != KIND_FREEFORM]
    if fitted:  # a freeform shape is a fallback only: beside fitted images it is a text block or a logo
        panels = fitted
    if not panels:
        return no_region(shape, textured(gray, comps[0]))
    return _chosen(panels, motion, shape)


def _candidates(comps: list[np.ndarray], ev: np.ndarray, thr: float, motion: np.ndarray | None) -> list[Panel] | Region:
    """The panels of the traced components; a component too small for a region is tried as a thin tissue band
    (:func:`_thin_panel`), and when that fails too the ``no_ultrasound`` region says why."""
    shape = comps[0].shape
    if np.count_nonzero(comps[0]) >= MIN_AREA_FRAC * comps[0].size:
        return find_panels(comps, _kernel(shape), ev, thr, motion)
    thin = _thin_panel(comps[0], _kernel(shape), ev, thr)
    if isinstance(thin, str):
        return no_region(shape, "the ultrasound region is too thin to use" if thin else NOTHING_FOUND, thin)
    return [thin]


def _thin_panel(comp: np.ndarray, kernel: int, ev: np.ndarray, thr: float) -> Panel | str:
    """A component too small to be a region may be the tissue band of a sector whose far field is fluid: fit
    the sector to the band and follow sparse echoes outwards (:mod:`.partial`). Returns the panel, or why not
    (empty when the component is no sector band at all)."""
    fit = fit_geometry(comp, kernel, ev, thr)
    if fit is None or fit.sector is None:
        return ""
    if fit.core is not None and np.count_nonzero(fit.mask) >= MIN_AREA_FRAC * comp.size:
        return Panel(kind=fit.kind, bbox=bbox_of(fit.mask), mask=fit.mask, sector=fit.sector, partial=fit.partial)
    return too_thin(fit.sector)


def _chosen(panels: list[Panel], motion: np.ndarray | None, shape: tuple[int, int]) -> Region:
    """The region of the live panel: the one with the most motion when a window was seen, else the left one."""
    if motion is not None:
        motions = [_motion_in(p, motion) for p in panels]
        panels = [replace(p, motion=m) for p, m in zip(panels, motions, strict=True)]
        live = int(np.argmax(motions))
    else:
        live = 0
    p = panels[live]
    return Region(
        status=STATUS_OK,
        kind=p.kind,
        mask=p.mask,
        bbox=p.bbox,
        frame_shape=shape,
        sector=p.sector,
        panels=tuple(panels),
        live_panel=live,
        partial=p.partial,
    )


def carve_edge_overlays(panel: Panel, overlay: np.ndarray) -> Panel:
    """Cut solid overlays drawn over the image's edge (colour bars with their labels, markers) out of the mask.

    A component of overlay pixels inside the mask is cut when it comes within a rim (5 % of the mask's
    smaller side) of the mask's edge, is small (< ``CARVE_AREA`` of the mask) and solid (>= ``CARVE_DENSITY``
    of its bounding box is overlay). What is cut is its bounding box grown by 2 px sideways and by half its
    width above and below (where labels such as "PWR" sit), and out to the near edge (no sliver of image is
    left beside a bar). A colour-Doppler box is neither small nor solid, so it stays: it is inside the
    scanned region.
    """
    inside = ((panel.mask > 0) & overlay).astype(np.uint8)
    if not inside.any():
        return panel
    k3 = np.ones((3, 3), np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(inside, k3, iterations=2))
    bx, by, bw, bh = panel.bbox
    rim_px = max(3, round(0.05 * min(bw, bh)))
    rim = (panel.mask > 0) & (cv2.erode(panel.mask, k3, iterations=rim_px) == 0)
    area = np.count_nonzero(panel.mask)
    mask = panel.mask.copy()
    for lab in np.unique(labels[rim & (labels > 0)]):
        x, y, w, h, _ = stats[lab]
        own = labels[y : y + h, x : x + w] == lab
        solid = np.count_nonzero(inside[y : y + h, x : x + w] & own) / float(w * h)
        if np.count_nonzero(own) < CARVE_AREA * area and solid >= CARVE_DENSITY:
            grow = min(w, h) // 2 + 2  # labels ("PWR", scale numbers) sit right above and below a bar
            x0, x1, y0, y1 = x - 2, x + w + 2, y - grow, y + h + grow
            x0 = bx if x0 - bx <= rim_px else x0
            x1 = bx + bw if bx + bw - x1 <= rim_px else x1
            y0 = by if y0 - by <= rim_px else y0
            y1 = by + bh if by + bh - y1 <= rim_px else y1
            mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 0
    if np.array_equal(mask, panel.mask):
        return panel
    return replace(panel, mask=mask, bbox=bbox_of(mask))


def _motion_in(panel: Panel, motion: np.ndarray) -> float:
    """Mean motion inside the panel (0 for an empty mask)."""
    inside = panel.mask > 0
    return float(motion[inside].mean()) if inside.any() else 0.0


def detect_region(frame: np.ndarray, name: str = "frame", *, lossy: bool | None = None) -> Region:
    """Detect the ultrasound region of one frame (uint8 BGR/grey). See the module docstring.

    On a dual-panel screen without motion information the left panel is returned as live. ``lossy``:
    whether the frame went through a lossy codec (see :func:`background_threshold`); None guesses.
    """
    bgr = as_bgr(frame, name)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return _region(gray, overlay_mask(bgr), None, lossy)


def detect_region_video(
    frames: Iterable[np.ndarray], max_frames: int = 60, name: str = "frames", *, lossy: bool | None = None
) -> Region:
    """Detect the region over a warm-up window of frames of one geometry (e.g. the first 1-2 s).

    Uses the per-pixel maximum (fills moving dark speckle), the union of colour overlays, static bright
    pixels (text does not change) as overlays, and picks the live panel of a dual-panel screen as the
    one with the most frame-to-frame change (which also marks where touching panels meet). Thin white marks
    that do not move (calipers) are taken out of the masks (in a single still a clipped bright line of
    tissue looks the same, so there they stay). When that gives no fitted region or a shallow sector, the
    far field may be fluid: the steady tissue is traced on the per-pixel median and the sector followed
    outwards through the echoes the maximum accumulated.
    """
    grays, overlay = _stack(frames, max_frames, name)
    top = grays.max(axis=0)
    colour = overlay & (top < SATURATED)
    if len(grays) < 2:
        return _region(top, overlay, None, lossy)
    moving = (top.astype(np.int16) - grays.min(axis=0)) > 6
    if moving.mean() > 0.02:
        overlay = overlay | (~moving & (top >= 200))
    diff = np.abs(np.diff(grays.astype(np.int16), axis=0)).mean(axis=0)
    still = (np.where(moving, 0, grays[0]).astype(np.uint8), colour)  # bars, icons and calipers do not move
    marks = mark_mask(*still)
    region = _region(top, overlay, diff, lossy, furniture=still, marks=marks)
    if _settled(region) and not region.partial:
        return region
    # A fluid far field: its sparse echoes leave the maximum projection ragged. Trace the steady tissue on
    # the median projection, then follow the far field on the maximum (:mod:`.partial`).
    steady = np.median(grays, axis=0).astype(np.uint8)
    alt = _region(steady, overlay, diff, lossy, evidence=top, furniture=still, marks=marks)
    return alt if _settled(alt) else region


def _settled(region: Region) -> bool:
    """A fitted region whose depth is not in doubt (not freeform, not a shallow sector)."""
    return region.ok and region.kind != KIND_FREEFORM and not (region.sector is not None and shallow(region.sector))


def _stack(frames: Iterable[np.ndarray], max_frames: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    items: Sequence[np.ndarray] = frames if isinstance(frames, Sequence) else list(frames)
    if isinstance(items, np.ndarray) and items.ndim == 3 and items.dtype == np.uint8 and items.shape[-1] > 4:
        items = list(items)  # (N, H, W) grey stack
    if len(items) == 0:
        raise PreprocessError(f"{name}: no frames given")
    step = max(1, len(items) // max_frames)
    grays: list[np.ndarray] = []
    overlay = None
    for i in range(0, len(items), step)[:max_frames]:
        bgr = as_bgr(items[i], f"{name}[{i}]")
        if grays and bgr.shape[:2] != grays[0].shape:
            raise PreprocessError(
                f"{name}[{i}]: size {bgr.shape[1]}x{bgr.shape[0]} differs from frame 0; split the window"
            )
        grays.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        ov = overlay_mask(bgr)
        overlay = ov if overlay is None else overlay | ov
    if overlay is None:
        raise PreprocessError(f"{name}: no frames given")
    return np.stack(grays), overlay
