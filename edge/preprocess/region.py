"""Results of ultrasound-region detection: :class:`Region`, :class:`Sector`, :class:`Panel`.

Coordinates are pixels of the input frame: x to the right, y down, origin at the top-left pixel's
centre. Angles are degrees measured from straight down (+y), positive towards +x (the right of the
screen); a sector spans ``angle_left_deg`` (negative) .. ``angle_right_deg``. Radii are pixels from the
apex. Masks are uint8 (H, W) with 255 inside the region and 0 elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

STATUS_OK = "ok"
STATUS_NO_ULTRASOUND = "no_ultrasound"
KIND_CURVILINEAR = "curvilinear"
KIND_PHASED = "phased"
KIND_LINEAR = "linear"
KIND_FREEFORM = "freeform"  # a region found but not fitted by a sector or rectangle (kept as traced)
KIND_NONE = "none"


@dataclass(frozen=True)
class Sector:
    """A fan: apex (x, y) in pixels (may lie above the frame), angles in degrees from +y, radii in pixels."""

    apex: tuple[float, float]
    angle_left_deg: float
    angle_right_deg: float
    r_inner: float
    r_outer: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "apex": [round(self.apex[0], 2), round(self.apex[1], 2)],
            "angle_left_deg": round(self.angle_left_deg, 3),
            "angle_right_deg": round(self.angle_right_deg, 3),
            "r_inner": round(self.r_inner, 2),
            "r_outer": round(self.r_outer, 2),
        }


@dataclass(frozen=True)
class Panel:
    """One image panel of the screen (dual-panel screens have two): its geometry and mask."""

    kind: str
    bbox: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False, compare=False)
    sector: Sector | None = None
    motion: float | None = None  # mean absolute frame difference inside the panel (grey levels), if known
    partial: str = ""  # how the geometry rests on partial evidence; empty when the pixels show all of it

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "bbox": list(self.bbox),
            "sector": None if self.sector is None else self.sector.to_dict(),
            "motion": None if self.motion is None else round(self.motion, 4),
            **evidence_dict(self.partial),
        }


def evidence_dict(partial: str) -> dict[str, Any]:
    """``evidence`` ("full" or "partial") and ``partial_evidence`` (why, or None) for a JSON summary."""
    return {"evidence": "partial" if partial else "full", "partial_evidence": partial or None}


@dataclass(frozen=True)
class Region:
    """The ultrasound image region of a frame geometry.

    ``status`` is ``"ok"`` or ``"no_ultrasound"`` (then ``mask`` is all zero and ``message`` says why).
    ``mask``/``kind``/``bbox``/``sector`` describe the live panel; ``panels`` lists every panel found
    (one on a normal screen) and ``live_panel`` indexes the one used. ``frame_shape`` is (H, W).
    ``cm_per_px`` is (x, y) when a DICOM region supplied it, else None. ``partial`` says how the live
    panel's geometry rests on partial evidence (a fluid far field), or, with ``no_ultrasound``, why the
    partial evidence seen was too thin; empty otherwise.
    """

    status: str
    kind: str
    mask: np.ndarray = field(repr=False, compare=False)
    bbox: tuple[int, int, int, int]
    frame_shape: tuple[int, int]
    sector: Sector | None = None
    panels: tuple[Panel, ...] = ()
    live_panel: int = 0
    cm_per_px: tuple[float, float] | None = None
    message: str = ""
    partial: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (no mask pixels)."""
        return {
            "status": self.status,
            "kind": self.kind,
            "bbox": list(self.bbox),
            "frame_shape": list(self.frame_shape),
            "sector": None if self.sector is None else self.sector.to_dict(),
            "panels": [p.to_dict() for p in self.panels],
            "live_panel": self.live_panel,
            "cm_per_px": None if self.cm_per_px is None else [float(v) for v in self.cm_per_px],
            "message": self.message,
            **evidence_dict(self.partial),
        }


def no_region(shape: tuple[int, int], message: str, partial: str = "") -> Region:
    """A ``no_ultrasound`` result with an empty mask (``partial``: why partial evidence was too thin)."""
    return Region(
        partial=partial,
        status=STATUS_NO_ULTRASOUND,
        kind=KIND_NONE,
        mask=np.zeros(shape, dtype=np.uint8),
        bbox=(0, 0, 0, 0),
        frame_shape=shape,
        message=message,
    )


def bbox_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the non-zero pixels; (0, 0, 0, 0) when empty."""
    points = cv2.findNonZero((mask > 0).astype(np.uint8))
    if points is None:
        return (0, 0, 0, 0)
    x, y, w, h = cv2.boundingRect(points)
    return (int(x), int(y), int(w), int(h))


def sector_mask(shape: tuple[int, int], sector: Sector) -> np.ndarray:
    """Rasterise a sector: pixels whose centre's polar (r, angle) about the apex lies inside it → 255.

    Only the sector's bounding box is evaluated (float32 arithmetic), so the cost scales with the fan.
    """
    h, w = shape
    mask = np.zeros((h, w), dtype=np.uint8)
    x0, y0, x1, y1 = _sector_box(sector, shape)
    if x1 <= x0 or y1 <= y0:
        return mask
    ax, ay = sector.apex
    dx = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(ax)
    dy = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(ay)
    r2 = dx * dx + dy * dy
    ang = np.degrees(np.arctan2(dx, dy))
    inside = (r2 >= np.float32(sector.r_inner) ** 2) & (r2 <= np.float32(sector.r_outer) ** 2) & (dy > 0)
    inside &= (ang >= sector.angle_left_deg) & (ang <= sector.angle_right_deg)
    mask[y0:y1, x0:x1] = inside.astype(np.uint8) * 255
    return mask


def _sector_box(sector: Sector, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1), end-exclusive and clipped to the frame, that contains the sector."""
    a = np.radians(np.linspace(sector.angle_left_deg, sector.angle_right_deg, 91))
    r = np.array([sector.r_inner, sector.r_outer])[:, None]
    xs = sector.apex[0] + r * np.sin(a)[None, :]
    ys = sector.apex[1] + r * np.cos(a)[None, :]
    h, w = shape
    x0, x1 = int(np.floor(xs.min())) - 1, int(np.ceil(xs.max())) + 2
    y0, y1 = int(np.floor(ys.min())) - 1, int(np.ceil(ys.max())) + 2
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def rect_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """Rasterise an (x, y, w, h) rectangle → 255 inside."""
    mask = np.zeros(shape, dtype=np.uint8)
    x, y, w, h = box
    mask[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)] = 255
    return mask


def sector_border_points(sector: Sector, shape: tuple[int, int], n: int = 8, inset: float = 3.0) -> np.ndarray:
    """Integer (x, y) points just inside the sector border (sides and outer arc) within the frame.

    Used as cheap probes to notice a geometry change (depth or angle) without re-detecting.
    """
    pts: list[tuple[float, float]] = []
    ax, ay = sector.apex
    lo, hi = sector.angle_left_deg, sector.angle_right_deg
    for t in np.linspace(0.3, 0.9, n // 2):
        r = sector.r_inner + t * (sector.r_outer - sector.r_inner)
        for a in (lo + inset * 57.3 / max(r, 1.0), hi - inset * 57.3 / max(r, 1.0)):
            pts.append((ax + r * math.sin(math.radians(a)), ay + r * math.cos(math.radians(a))))
    for a in np.linspace(lo + 0.2 * (hi - lo), hi - 0.2 * (hi - lo), n // 2):
        r = sector.r_outer - inset
        pts.append((ax + r * math.sin(math.radians(a)), ay + r * math.cos(math.radians(a))))
    arr = np.round(np.asarray(pts)).astype(np.int64)
    keep = (arr[:, 0] >= 0) & (arr[:, 0] < shape[1]) & (arr[:, 1] >= 0) & (arr[:, 1] < shape[0])
    return arr[keep]
