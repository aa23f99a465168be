"""A homogeneous soft-tissue phantom imaged through the B-mode chain, for physics checks.

A uniform block of soft tissue (scatterer amplitude 1, attenuation 0.5 dB/cm/MHz) fills the whole
field of view of a linear, curvilinear or phased probe. Linear grey map (gamma 1), gain 0, no clutter or
reverberation sources (nothing is brighter than the block), no screen overlays. The screen is the scan
conversion of :func:`liveredge.edge.sim.geometry.polar_grid` (isotropic ``mm_per_px``). What to expect
(fully developed speckle): grey std ~ ``5.57 dB * 255 / DR``; axial speckle size ~ ``0.44 c / B``; with
TGC off a mean-grey slope of ``-2 * 0.5 * f * 255 / DR`` grey levels per cm.

SIMULATED images, not for clinical use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError, DataError
from liveredge.edge.sim.bmode import BmodePlan, make_plan, render_polar
from liveredge.edge.sim.geometry import FanGeometry, PolarGrid, fit_geometry, polar_grid
from liveredge.edge.sim.profiles import KINDS, SiteProfile, get_profile

ATTENUATION_DB_CM_MHZ = 0.5
_GEOMETRY = {  # probe kind -> (probe_radius_cm, field_angle_deg, width_cm)
    "linear": (0.0, 0.0, 4.0),
    "curvilinear": (4.0, 60.0, 0.0),
    "phased": (0.3, 75.0, 0.0),
}


@dataclass(frozen=True)
class PhantomSpec:
    """What to image: probe kind, centre frequency (MHz), depth (cm), dynamic range (dB), TGC on/off,
    seed, screen ``size`` (height, width) px; chain options ``frac_bandwidth``, ``focus_frac``,
    ``harmonic``, ``compound_angles``."""

    probe: str = "linear"
    frequency_mhz: float = 5.0
    depth_cm: float = 6.0
    dynamic_range_db: float = 60.0
    tgc: bool = True
    seed: int = 0
    size: tuple[int, int] = (512, 512)
    frac_bandwidth: float = 0.6
    focus_frac: float = 0.5
    harmonic: bool = False
    compound_angles: int = 1


@dataclass(frozen=True)
class Phantom:
    """A rendered phantom: ``image`` (H, W) uint8 screen (0 outside the field of view), ``beam`` (n_r, n_l)
    uint8 beam-space image, ``mask`` (H, W) uint8 {0, 255} live region, ``mm_per_px`` screen scale,
    ``top_px`` row of the skin line at the centre column, ``dr_mm`` beam-space depth step, ``line_mm``
    (n_r,) beam-space lateral spacing, ``focus_cm``, the ``profile`` used and the ``spec``."""

    image: np.ndarray
    beam: np.ndarray
    mask: np.ndarray
    mm_per_px: float
    top_px: int
    dr_mm: float
    line_mm: np.ndarray
    focus_cm: float
    profile: SiteProfile
    spec: PhantomSpec

    def metadata(self) -> dict[str, object]:
        """What ``OUT.json`` holds."""
        s = self.spec
        return {
            "mm_per_px": round(self.mm_per_px, 6),
            "dynamic_range_db": s.dynamic_range_db,
            "frequency_mhz": s.frequency_mhz,
            "top_px": self.top_px,
            "probe": s.probe,
            "depth_cm": s.depth_cm,
            "tgc": s.tgc,
            "seed": s.seed,
            "focus_cm": round(self.focus_cm, 3),
            "gain_db": 0.0,
            "gamma": 1.0,
            "frac_bandwidth": s.frac_bandwidth,
            "harmonic": s.harmonic,
            "compound_angles": s.compound_angles,
            "attenuation_db_cm_mhz": ATTENUATION_DB_CM_MHZ,
            "size": list(s.size),
            "note": "SIMULATED homogeneous phantom, not for clinical use",
        }


def _validate(spec: PhantomSpec) -> None:
    checks = [
        (spec.probe in KINDS, f"probe {spec.probe!r} must be one of {', '.join(KINDS)}"),
        (0.5 <= spec.frequency_mhz <= 20, f"frequency {spec.frequency_mhz!r} MHz must be in 0.5..20"),
        (1.0 <= spec.depth_cm <= 30, f"depth {spec.depth_cm!r} cm must be in 1..30"),
        (10 <= spec.dynamic_range_db <= 120, f"dynamic range {spec.dynamic_range_db!r} dB must be in 10..120"),
        (
            len(spec.size) == 2 and min(spec.size) >= 96 and max(spec.size) <= 4096,
            f"size {spec.size!r} must be (height, width) with 96..4096 px each",
        ),
        (0.2 <= spec.frac_bandwidth <= 1.5, f"fractional bandwidth {spec.frac_bandwidth!r} must be in 0.2..1.5"),
        (0.1 <= spec.focus_frac <= 1.0, f"focus fraction {spec.focus_frac!r} must be in 0.1..1"),
        (1 <= spec.compound_angles <= 15, f"compound angles {spec.compound_angles!r} must be in 1..15"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"phantom: {message}")


def phantom_profile(spec: PhantomSpec) -> SiteProfile:
    """The site profile of the phantom: probe geometry, frequency and chain of ``spec``; linear grey map,
    gain 0, flat TGC sliders compensating 0.5 dB/cm/MHz (or nothing with TGC off), negligible noise."""
    radius, angle, width = _GEOMETRY[spec.probe]
    return replace(
        get_profile("S1"),
        site_id=f"phantom-{spec.probe}",
        kind=spec.probe,
        probe_radius_cm=radius,
        field_angle_deg=angle,
        width_cm=width,
        depth_cm=float(spec.depth_cm),
        freq_mhz=float(spec.frequency_mhz),
        speckle_scale=1.0,
        lateral_fnum=3.0,
        focus_frac=float(spec.focus_frac),
        tgc_slope=ATTENUATION_DB_CM_MHZ if spec.tgc else 0.0,
        tgc_curve_db=(0.0, 0.0, 0.0, 0.0, 0.0),
        gain_db=0.0,
        dynamic_range_db=float(spec.dynamic_range_db),
        gamma=1.0,
        noise_db=-140.0,
        frac_bandwidth=spec.frac_bandwidth,
        focal_zones=1,
        harmonic=spec.harmonic,
        compound_angles=spec.compound_angles,
        speckle_reduction=0.0,
        persistence=0.0,
    )


def _top_px(mask: np.ndarray) -> int:
    rows = np.nonzero(mask[:, mask.shape[1] // 2])[0]
    return int(rows[0]) if len(rows) else 0


def _beam(plan: BmodePlan, grid: PolarGrid, seed: int) -> np.ndarray:
    rng = np.random.default_rng([0x9A47, seed & 0xFFFFFFFF])
    shape = (grid.n_r, grid.n_l, 2)
    field = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(0.5))
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(0.5))
    amp = np.ones((grid.n_r, grid.n_l), np.float32)
    att = np.full((grid.n_r, grid.n_l), ATTENUATION_DB_CM_MHZ, np.float32)
    return render_polar(plan, amp, att, field, noise)


def render_phantom(spec: PhantomSpec) -> Phantom:
    """Image the homogeneous phantom described by ``spec`` (deterministic for its seed)."""
    _validate(spec)
    profile = phantom_profile(spec)
    h, w = int(spec.size[0]), int(spec.size[1])
    geo: FanGeometry = fit_geometry(profile, (0, 0, w, h))
    grid = polar_grid(geo, (h, w))
    beam = _beam(make_plan(profile, grid), grid, spec.seed)
    image = np.zeros((h, w), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    x, y, bw, bh = grid.bbox
    patch = cv2.remap(beam, grid.map_x, grid.map_y, cv2.INTER_LINEAR)
    image[y : y + bh, x : x + bw] = np.where(grid.mask > 0, patch, 0)
    mask[y : y + bh, x : x + bw] = grid.mask
    return Phantom(
        image,
        beam,
        mask,
        10.0 / geo.px_per_cm,
        _top_px(mask),
        grid.dr_cm * 10.0,
        grid.line_cm * 10.0,
        float(spec.focus_frac * spec.depth_cm),
        profile,
        spec,
    )


def write_phantom(out: str | Path, spec: PhantomSpec) -> tuple[Path, Path]:
    """Render ``spec`` and write ``out`` (.png, grey) and the same name with ``.json``; returns both paths."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"phantom output {str(out)!r} must end in .png")
    ph = render_phantom(spec)
    meta = out.with_suffix(".json")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out), ph.image):
            raise DataError(f"could not write {out}")
        meta.write_text(json.dumps(ph.metadata(), indent=2) + "\n")
    except OSError as exc:
        raise DataError(f"could not write the phantom to {out}: {exc}") from exc
    return out, meta
