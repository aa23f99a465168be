"""A simulated scanner looking at one patient: cine frames of the whole screen with ground truth.

``Scanner(patient, profile).frame(i)`` is deterministic for (patient, profile, seed, i) and does not
depend on which frames were rendered before. Cine: breathing and a slow probe sweep move the
anatomy; the speckle decorrelates smoothly (interpolation between per-segment scatterer fields);
with ``freeze_prob`` > 0 some frames repeat the previous one exactly (``frozen``). SIMULATED
images, not for clinical use.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.sim import anatomy
from liveredge.edge.sim.bmode import make_plan, render_polar
from liveredge.edge.sim.body import BodyLayers, body_layers
from liveredge.edge.sim.display import doppler, layout, static_layer
from liveredge.edge.sim.geometry import FanGeometry, PolarGrid, fit_geometry, polar_grid
from liveredge.edge.sim.patient import Patient
from liveredge.edge.sim.profiles import SiteProfile

SEGMENT = 24  # frames over which the speckle decorrelates fully

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SimFrame:
    """One screen frame with its ground truth.

    ``image`` (H, W, 3) uint8 BGR whole screen (a fresh array per frame); ``fan_mask`` (H, W) uint8
    {0, 255} live B-mode region(s), shared by all frames of a scanner and read-only; ``label`` one of CLASSES; ``condition``; ``severity``; ``lesion`` kind or None;
    ``lesions`` ((kind, (x, y, w, h)), ...) visible lesion boxes in screen px; ``site_id``;
    ``patient_id``; ``index``; ``frozen`` (repeats the previous frame); ``geometry`` of the first
    panel; ``geometries`` and ``panels`` (x, y, w, h) of every panel; ``time_s`` = index / fps.
    """

    image: np.ndarray
    fan_mask: np.ndarray
    label: str
    condition: str
    severity: int
    lesion: str | None
    lesions: tuple[tuple[str, Box], ...]
    site_id: str
    patient_id: str
    index: int
    frozen: bool
    geometry: FanGeometry
    geometries: tuple[FanGeometry, ...]
    panels: tuple[Box, ...]
    time_s: float


def _validate(size: tuple[int, int], fps: float, freeze_prob: float) -> None:
    if len(size) != 2 or min(size) < 96 or max(size) > 4096:
        raise ConfigError(f"screen size {size!r} must be (height, width) with 96 <= each <= 4096 px")
    if not fps > 0:
        raise ConfigError(f"fps must be > 0, got {fps!r}")
    if not 0.0 <= freeze_prob <= 0.9:
        raise ConfigError(f"freeze_prob must be in [0, 0.9], got {freeze_prob!r}")


class Scanner:
    """Render screen frames of ``patient`` as seen by ``profile``; see :class:`SimFrame`.

    ``size`` (height, width) px of the screen; ``dual_panel`` shows two panels (right: the view
    one second earlier); ``doppler`` adds a colour-Doppler box inside the (first) fan;
    ``overlays`` False leaves the screen black outside the fan (for tests and figures). The exam is
    taken the way ``patient.view`` and ``patient.operator`` say: ``self.profile`` is ``profile`` with the
    operator's gain, TGC and depth applied (``self.site_profile`` is the one given).
    """

    def __init__(
        self,
        patient: Patient,
        profile: SiteProfile,
        *,
        seed: int = 0,
        fps: float = 30.0,
        size: tuple[int, int] = (480, 640),
        dual_panel: bool = False,
        doppler: bool = False,
        freeze_prob: float = 0.0,
        overlays: bool = True,
    ) -> None:
        size = (int(size[0]), int(size[1]))
        _validate(size, fps, freeze_prob)
        self.site_profile = profile
        profile = patient.operator.apply(profile, patient.liver_att)
        self.patient, self.profile, self.seed, self.fps, self.size = patient, profile, seed, float(fps), size
        self.doppler, self.freeze_prob = doppler, freeze_prob
        self.panels = layout(size, profile, dual_panel)
        self.geometries = tuple(fit_geometry(profile, p) for p in self.panels)
        self.grids: tuple[PolarGrid, ...] = tuple(polar_grid(g, size) for g in self.geometries)
        self.plan = make_plan(profile, self.grids[0], fat_cm=patient.fat_cm)
        self.tissue = anatomy.tissue_map(patient)
        self._body = tuple(body_layers(patient, g.body_x, g.body_z) for g in self.grids)
        self._anat = tuple(patient.view.to_anatomy(g.body_x, g.body_z) for g in self.grids)
        self._pixel_body: dict[int, tuple[BodyLayers, np.ndarray, np.ndarray]] = {}
        self._tissue2 = np.dstack([self.tissue.amp, self.tissue.att])
        mask = np.zeros(size, np.uint8)
        for g in self.grids:
            x, y, w, h = g.bbox
            mask[y : y + h, x : x + w] |= g.mask
        mask.setflags(write=False)
        self.fan_mask = mask
        key = f"{patient.patient_id}|{patient.seed}|{profile.site_id}".encode()
        self._base = [zlib.crc32(key), seed & 0xFFFFFFFF]
        if overlays:
            self._layer, self._layer_mask = static_layer(size, profile, self.panels, self.geometries, mask, seed)
        else:
            self._layer, self._layer_mask = np.zeros((*size, 3), np.uint8), np.zeros(size, bool)
        rng = np.random.default_rng(self._base + [1])
        self._breath = (rng.uniform(3.5, 5.0), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
        self._fields = functools.lru_cache(maxsize=4)(self._segment_field)

    # ----- deterministic per-frame state -------------------------------------------------------
    def is_frozen(self, i: int) -> bool:
        """Whether frame ``i`` repeats frame ``i - 1`` (never for frame 0)."""
        if i <= 0 or self.freeze_prob <= 0:
            return False
        return bool(np.random.default_rng(self._base + [3, i]).random() < self.freeze_prob)

    def content_index(self, i: int) -> int:
        """The index whose content frame ``i`` shows (``i`` unless frozen)."""
        if i < 0:
            raise ConfigError(f"frame index must be >= 0, got {i}")
        while self.is_frozen(i):
            i -= 1
        return i

    def motion(self, i: int) -> tuple[float, float]:
        """Organ displacement (dx, dz) cm at frame ``i``: breathing + slow probe sweep."""
        t = i / self.fps
        period, p1, p2 = self._breath
        dz = 0.35 * np.sin(2 * np.pi * t / period + p1)
        dx = 0.25 * np.sin(2 * np.pi * t / period + p1 + 0.6) + 0.6 * np.sin(2 * np.pi * t / 13.0 + p2)
        return float(dx), float(dz)

    def _segment_field(self, k: int, panel: int) -> np.ndarray:
        g = self.grids[panel]
        rng = np.random.default_rng(self._base + [2, panel, k])
        return rng.standard_normal((g.n_r, g.n_l, 2), dtype=np.float32) * np.float32(np.sqrt(0.5))

    def _field(self, i: int, panel: int) -> tuple[np.ndarray, np.ndarray]:
        k, t = divmod(i, SEGMENT)
        a = np.float32(np.pi / 2 * t / SEGMENT)
        f = self._fields(k, panel) * np.cos(a) + self._fields(k + 1, panel) * np.sin(a)
        return f, f[::-1, ::-1]

    # ----- rendering ----------------------------------------------------------------------------
    def _sample(self, panel: int, i: int) -> tuple[np.ndarray, np.ndarray]:
        dx, dz = self.motion(i)
        xa, za = self._anat[panel]
        mx = (xa - np.float32(dx + anatomy.X0)) * np.float32(1 / anatomy.RES) - np.float32(0.5)
        my = (za - np.float32(dz + anatomy.Z0)) * np.float32(1 / anatomy.RES) - np.float32(0.5)
        s = cv2.remap(self._tissue2, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        body = self._body[panel]
        return np.where(body.mask, body.amp, s[:, :, 0]), np.where(body.mask, body.att, s[:, :, 1])

    def bmode(self, i: int, panel: int = 0) -> np.ndarray:
        """Beam-space uint8 B-mode (n_r, n_l) of content index ``i`` (fast path, no screen). With the profile's
        persistence, frame ``i - 1`` (rendered without persistence, so every frame stays deterministic and
        independent of render order) is blended in."""
        previous = self._render(i - 1, panel, None) if self.plan.persistence > 0 and i > 0 else None
        return self._render(i, panel, previous)

    def _render(self, i: int, panel: int, previous: np.ndarray | None) -> np.ndarray:
        amp, att = self._sample(panel, i)
        field, noise = self._field(i, panel)
        return render_polar(self.plan, amp, att, field, noise, previous=previous)

    def _screen(self, j: int) -> np.ndarray:
        screen = self._layer.copy()
        for p, grid in enumerate(self.grids):
            src = j if p == 0 else max(j - int(round(self.fps)), 0)
            patch = cv2.remap(self.bmode(src, p), grid.map_x, grid.map_y, cv2.INTER_LINEAR)
            x, y, w, h = grid.bbox
            view = screen[y : y + h, x : x + w]
            np.copyto(view, patch[:, :, None], where=(grid.mask > 0)[:, :, None])
        if self.doppler:
            self._doppler(screen, j)
        return screen

    def _doppler(self, screen: np.ndarray, j: int) -> None:
        x, y, w, h = self.grids[0].bbox
        box = (x + int(0.3 * w), y + int(0.3 * h), max(int(0.35 * w), 8), max(int(0.3 * h), 8))
        vessel = self.region_maps(j)["vessel"]
        doppler(screen, self.fan_mask > 0, vessel, box, np.random.default_rng(self._base + [4, j]))

    def _pixels(self, p: int) -> tuple[BodyLayers, np.ndarray, np.ndarray]:
        """Body overlay and anatomy-frame coordinates of each pixel of panel ``p``'s bounding box."""
        if p not in self._pixel_body:
            geo, (x, y, w, h) = self.geometries[p], self.grids[p].bbox
            py, px = np.mgrid[y : y + h, x : x + w].astype(np.float32)
            bx, bz = geo.to_body(px, py)
            self._pixel_body[p] = (body_layers(self.patient, bx, bz), *self.patient.view.to_anatomy(bx, bz))
        return self._pixel_body[p]

    def label_map(self, i: int) -> np.ndarray:
        """(H, W) uint8 anatomy region codes (``anatomy.REGION``, lesions from ``anatomy.LESION_CODE``)
        of content index ``i`` in screen pixels; 255 outside the live region."""
        out = np.full(self.size, 255, np.uint8)
        for p, grid in enumerate(self.grids):
            src = i if p == 0 else max(i - int(round(self.fps)), 0)
            dx, dz = self.motion(src)
            body, xa, za = self._pixels(p)
            mx = (xa - dx - anatomy.X0) / anatomy.RES - 0.5
            my = (za - dz - anatomy.Z0) / anatomy.RES - 0.5
            lab = cv2.remap(self.tissue.label, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
            lab = np.where(body.mask, body.label, lab)
            x, y, w, h = grid.bbox
            np.copyto(out[y : y + h, x : x + w], lab, where=grid.mask > 0)
        return out

    def region_maps(self, i: int) -> dict[str, np.ndarray]:
        """Ground-truth (H, W) bool masks in screen pixels for frame ``i``: every ``anatomy.REGION``
        name plus "lesion" (all lesions)."""
        lab = self.label_map(self.content_index(i))
        maps = {name: lab == code for name, code in anatomy.REGION.items()}
        maps["lesion"] = (lab >= anatomy.LESION_CODE) & (lab != 255)
        return maps

    def _lesion_boxes(self, j: int) -> tuple[tuple[str, Box], ...]:
        if not self.patient.lesions:
            return ()
        lab = self.label_map(j)
        out = []
        for grid in self.grids:  # one box per lesion and panel, clipped to what is visible
            x, y, w, h = grid.bbox
            sub = lab[y : y + h, x : x + w]
            for k, les in enumerate(self.patient.lesions):
                m = (sub == anatomy.LESION_CODE + k).astype(np.uint8)
                if m.any():
                    bx, by, bw, bh = cv2.boundingRect(m)
                    out.append((les.kind, (x + bx, y + by, bw, bh)))
        return tuple(out)

    def frame(self, i: int) -> SimFrame:
        """Screen frame ``i`` (deterministic; frozen frames repeat the previous content exactly)."""
        j = self.content_index(int(i))
        p = self.patient
        return SimFrame(
            image=self._screen(j),
            fan_mask=self.fan_mask,
            label=p.label,
            condition=p.condition,
            severity=p.severity,
            lesion=p.lesion,
            lesions=self._lesion_boxes(j),
            site_id=self.profile.site_id,
            patient_id=p.patient_id,
            index=int(i),
            frozen=j != i,
            geometry=self.geometries[0],
            geometries=self.geometries,
            panels=self.panels,
            time_s=i / self.fps,
        )

    def frames(self, n: int, start: int = 0) -> Iterator[SimFrame]:
        """Frames ``start .. start + n - 1``."""
        if n < 0 or start < 0:
            raise ConfigError(f"frame count and start must be >= 0, got n={n}, start={start}")
        for i in range(start, start + n):
            yield self.frame(i)
