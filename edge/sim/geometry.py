"""Probe geometry on screen and the scan-conversion maps (cached per geometry).

Screen coordinates are pixels, x to the right, y down. Sector angles are radians, 0 = straight
down, positive towards +x. A :class:`FanGeometry` is fitted into a panel box; a :class:`PolarGrid`
holds, for that geometry, the beam-space sample grid (rows = depth samples, cols = beam lines), the
probe-frame body coordinates (cm, see ``exam``) of each sample, and the ``cv2.remap`` maps from screen pixels of the
fan's bounding box to polar sample indices.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from liveredge.edge.sim.profiles import SiteProfile


@dataclass(frozen=True)
class FanGeometry:
    """Where the live B-mode region sits on screen.

    ``kind`` "curvilinear" | "phased" | "linear". Sector kinds: ``apex`` (x, y) px (virtual apex,
    may lie above the screen), ``start_angle`` < ``end_angle`` (rad, 0 = down), ``r_inner`` /
    ``r_outer`` px. Linear: ``rect`` (x, y, w, h) px and ``apex`` None. ``px_per_cm`` screen scale,
    ``depth_cm`` imaging depth, ``probe_radius_cm`` (sector kinds).
    """

    kind: str
    apex: tuple[float, float] | None
    start_angle: float
    end_angle: float
    r_inner: float
    r_outer: float
    rect: tuple[int, int, int, int] | None
    px_per_cm: float
    depth_cm: float
    probe_radius_cm: float = 0.0

    def bbox(self) -> tuple[int, int, int, int]:
        """Integer bounding box (x, y, w, h) of the live region on screen."""
        if self.rect is not None:
            return self.rect
        ax, ay = self.apex  # type: ignore[misc]  # sector geometry: apex is set whenever rect is None
        angles = np.linspace(self.start_angle, self.end_angle, 181)
        xs = np.concatenate([ax + r * np.sin(angles) for r in (self.r_inner, self.r_outer)])
        ys = np.concatenate([ay + r * np.cos(angles) for r in (self.r_inner, self.r_outer)])
        x0, y0 = int(np.floor(xs.min())), int(np.floor(ys.min()))
        return x0, y0, int(np.ceil(xs.max())) - x0 + 1, int(np.ceil(ys.max())) - y0 + 1

    def to_beam(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Screen pixel centres -> (lateral cm, depth cm along the beam, inside-fan bool)."""
        if self.rect is not None:
            x, y, w, h = self.rect
            lat = (px - x - w / 2) / self.px_per_cm
            d = (py - y) / self.px_per_cm
            inside = (px >= x) & (px < x + w) & (py >= y) & (py < y + h)
            return lat, d, inside
        ax, ay = self.apex  # type: ignore[misc]  # sector geometry: apex is set whenever rect is None
        dx, dy = px - ax, py - ay
        r = np.hypot(dx, dy)
        th = np.arctan2(dx, dy)
        inside = (r >= self.r_inner) & (r <= self.r_outer) & (th >= self.start_angle) & (th <= self.end_angle)
        r_cm = r / self.px_per_cm
        return r_cm * np.sin(th), r_cm - self.probe_radius_cm, inside

    def to_body(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Screen pixel centres -> probe-frame body (x, z) cm: the skin follows the probe face, so a beam
        at angle theta reaches depth ``d * cos(theta)`` below the skin line after ``d`` cm."""
        lat, d, _ = self.to_beam(px, py)
        if self.rect is not None:
            return lat.astype(np.float32), d.astype(np.float32)
        r = np.maximum(d + self.probe_radius_cm, 1e-6)
        cos_t = np.sqrt(np.clip(1.0 - (lat / r) ** 2, 0.0, 1.0))
        return lat.astype(np.float32), (d * cos_t).astype(np.float32)

    def to_screen(self, lat: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lateral cm, depth cm along the beam) -> screen (x, y) px; inverse of :meth:`to_beam`."""
        if self.rect is not None:
            x, y, w, _ = self.rect
            return x + w / 2 + lat * self.px_per_cm, y + d * self.px_per_cm
        ax, ay = self.apex  # type: ignore[misc]  # sector geometry: apex is set whenever rect is None
        r_cm = np.maximum(d + self.probe_radius_cm, 1e-6)
        th = np.arcsin(np.clip(lat / r_cm, -1, 1))
        return ax + r_cm * self.px_per_cm * np.sin(th), ay + r_cm * self.px_per_cm * np.cos(th)

    def mask(self, height: int, width: int) -> np.ndarray:
        """(height, width) uint8 mask, 255 on the live region (pixel centres inside the fan)."""
        out = np.zeros((height, width), np.uint8)
        x, y, w, h = self.bbox()
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        py, px = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = self.to_beam(px, py)[2].astype(np.uint8) * 255
        return out


def fit_geometry(profile: SiteProfile, panel: tuple[int, int, int, int]) -> FanGeometry:
    """Fit the profile's field of view into ``panel`` (x, y, w, h) px, centred, touching its top."""
    px, py, pw, ph = panel
    D = profile.depth_cm
    if profile.kind == "linear":
        s = 0.97 * min(pw / profile.width_cm, ph / D)
        w, h = int(round(profile.width_cm * s)), int(round(D * s))
        rect = (int(round(px + (pw - w) / 2)), int(py + 1), w, h)
        return FanGeometry("linear", None, 0.0, 0.0, 0.0, 0.0, rect, s, D)
    R = profile.probe_radius_cm
    a = np.deg2rad(profile.field_angle_deg / 2)
    s = 0.97 * min(pw / (2 * (R + D) * np.sin(a)), ph / (R + D - R * np.cos(a)))
    apex = (px + pw / 2.0, py + 1.0 - R * np.cos(a) * s)
    return FanGeometry(
        profile.kind,
        (float(apex[0]), float(apex[1])),
        float(-a),
        float(a),
        float(R * s),
        float((R + D) * s),
        None,
        float(s),
        D,
        R,
    )


@dataclass(frozen=True)
class PolarGrid:
    """Beam-space sampling of one geometry.

    ``body_x``, ``body_z`` (n_r, n_l) float32 probe-frame cm of each sample (:meth:`FanGeometry.to_body`);
    ``dr_cm`` physical depth
    step; ``line_cm`` (n_r,) physical lateral spacing of lines at each depth; ``depth_cm`` (n_r,);
    ``bbox`` (x, y, w, h) on screen; ``map_x``, ``map_y`` (h, w) float32 remap maps into the polar
    image; ``mask`` (h, w) uint8 {0, 255} live region inside ``bbox``.
    """

    n_r: int
    n_l: int
    body_x: np.ndarray
    body_z: np.ndarray
    dr_cm: float
    line_cm: np.ndarray
    depth_cm: np.ndarray
    bbox: tuple[int, int, int, int]
    map_x: np.ndarray
    map_y: np.ndarray
    mask: np.ndarray


@functools.lru_cache(maxsize=64)
def polar_grid(geo: FanGeometry, screen: tuple[int, int]) -> PolarGrid:
    """Build (and cache) the sampling grid and remap maps of ``geo`` on a ``screen`` (h, w)."""
    bx, by, bw, bh = geo.bbox()
    x0, y0 = max(bx, 0), max(by, 0)
    x1, y1 = min(bx + bw, screen[1]), min(by + bh, screen[0])
    n_r = int(np.clip(round(geo.depth_cm * geo.px_per_cm), 96, 480))
    n_l = int(np.clip(round((x1 - x0) / 1.3), 64, 384))
    depth = np.linspace(0.0, geo.depth_cm, n_r, dtype=np.float32)
    if geo.rect is not None:
        half = geo.rect[2] / geo.px_per_cm / 2
        lat = np.linspace(-half, half, n_l, dtype=np.float32)[None, :].repeat(n_r, 0)
        body_z = np.broadcast_to(depth[:, None], (n_r, n_l))
        line_cm = np.full(n_r, 2 * half / (n_l - 1), np.float32)
    else:
        th = np.linspace(geo.start_angle, geo.end_angle, n_l, dtype=np.float32)
        r = depth[:, None] + geo.probe_radius_cm
        lat = r * np.sin(th)[None, :]
        body_z = depth[:, None] * np.cos(th)[None, :]
        line_cm = ((depth + geo.probe_radius_cm) * (geo.end_angle - geo.start_angle) / (n_l - 1)).astype(np.float32)
    py, px = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    m_lat, m_d, inside = geo.to_beam(px, py)
    if geo.rect is not None:
        col = (m_lat + half) / (2 * half) * (n_l - 1)
    else:
        ang = np.arctan2(px - geo.apex[0], py - geo.apex[1])  # type: ignore[index]  # sector geometry: apex is set
        col = (ang - geo.start_angle) / (geo.end_angle - geo.start_angle) * (n_l - 1)
    row = m_d / geo.depth_cm * (n_r - 1)
    return PolarGrid(
        n_r,
        n_l,
        lat.astype(np.float32),
        np.ascontiguousarray(body_z, dtype=np.float32),
        float(geo.depth_cm / (n_r - 1)),
        line_cm,
        depth,
        (x0, y0, x1 - x0, y1 - y0),
        np.clip(col, 0, n_l - 1).astype(np.float32),
        np.clip(row, 0, n_r - 1).astype(np.float32),
        inside.astype(np.uint8) * 255,
    )


def fov_points(profile: SiteProfile, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Probe-frame body (x, z) cm of an ``n`` x ``n`` grid of points well inside the profile's field of
    view (depth 5-90 %; the inner 80 % of the sector, or the aperture less 1.1 cm each side, so breathing
    and the probe sweep, up to ~0.9 cm, keep a lesion placed there in view)."""
    d = np.linspace(0.05, 0.9, n) * profile.depth_cm
    if profile.kind == "linear":
        half_w = max(profile.width_cm / 2 - 1.1, 0.5)
        x, z = np.meshgrid(np.linspace(-half_w, half_w, n), d)
        return x.ravel(), z.ravel()
    half = np.deg2rad(profile.field_angle_deg / 2) * 0.8
    th, dd = np.meshgrid(np.linspace(-half, half, n), d)
    return ((dd + profile.probe_radius_cm) * np.sin(th)).ravel(), (dd * np.cos(th)).ravel()
