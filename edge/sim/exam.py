"""How one exam is taken: the view (where the probe sits on the body, its tilt, ribs in the way) and the
operator's settings (gain, TGC sliders, how much of the liver's attenuation the TGC compensates, depth).

Coordinates (cm): the *probe frame* has its origin where the probe touches the skin, ``x`` lateral,
``z`` depth below the skin (the skin follows the probe face, so layers of the body wall run parallel to
the top of the image); the *anatomy frame* is the patient's slice (see ``anatomy``). A view maps one
onto the other by a translation along the body (``x_cm``) and a tilt. The patient is a 2-D slice, so a
"view" is a placement on that slice: subcostal (towards the hepatic veins and diaphragm), intercostal
(between ribs: rib shadows), sagittal (over the right kidney: the hepatorenal view). SIMULATED, not for
clinical use.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.profiles import SiteProfile, shifted_tgc

VIEWS: tuple[str, ...] = ("subcostal", "intercostal", "sagittal")

# (x_cm range, tilt_deg range) of the probe on the anatomy slice per view.
_VIEW_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "subcostal": ((-4.5, -0.5), (-14.0, -3.0)),
    "intercostal": ((-2.0, 2.0), (-5.0, 5.0)),
    "sagittal": ((1.5, 4.0), (-4.0, 8.0)),
}


@dataclass(frozen=True)
class View:
    """Probe placement: ``name`` (one of :data:`VIEWS`), ``x_cm`` along the slice, ``tilt_deg``
    (positive: the beam leans towards +x), ribs (``rib_pitch_cm`` > 0 when ribs lie under the probe,
    ``rib_phase_cm`` lateral position of one rib centre, ``rib_width_cm``)."""

    name: str
    x_cm: float
    tilt_deg: float
    rib_pitch_cm: float = 0.0
    rib_phase_cm: float = 0.0
    rib_width_cm: float = 0.0

    def to_anatomy(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probe-frame (x, z) cm -> anatomy-frame (x, z) cm (float32 arrays)."""
        a = np.float32(np.deg2rad(self.tilt_deg))
        c, s = np.cos(a), np.sin(a)
        return (np.float32(self.x_cm) + x * c + z * s).astype(np.float32), (z * c - x * s).astype(np.float32)

    def in_rib_shadow(self, x: np.ndarray, z: np.ndarray, rib_depth_cm: float, apex_cm: float | None) -> np.ndarray:
        """Whether probe-frame points ``(x, z)`` lie behind a rib at ``rib_depth_cm``: beams run straight
        down (linear, ``apex_cm`` None) or from a virtual apex ``apex_cm`` above the skin (sector)."""
        if self.rib_pitch_cm <= 0:
            return np.zeros(np.shape(x), bool)
        x_rib = x if apex_cm is None else x * (apex_cm + rib_depth_cm) / np.maximum(apex_cm + z, 1e-6)
        u = np.mod(x_rib - self.rib_phase_cm + self.rib_pitch_cm / 2, self.rib_pitch_cm) - self.rib_pitch_cm / 2
        return (np.abs(u) < self.rib_width_cm / 2 + 0.1) & (z > rib_depth_cm)


@dataclass(frozen=True)
class Operator:
    """The operator's knobs for one exam: ``gain_db`` offset, ``tgc_db`` five slider offsets (top to
    bottom), ``tgc_comp`` fraction of the liver's extra attenuation (above 0.5 dB/cm/MHz) the TGC is
    turned up to compensate, ``depth_scale`` of the profile's imaging depth."""

    gain_db: float = 0.0
    tgc_db: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)
    tgc_comp: float = 0.0
    depth_scale: float = 1.0

    def apply(self, profile: SiteProfile, liver_att: float) -> SiteProfile:
        """The profile as this operator set it up for a liver of attenuation ``liver_att``."""
        return replace(
            profile,
            gain_db=profile.gain_db + self.gain_db,
            tgc_curve_db=shifted_tgc(profile.tgc_curve_db, self.tgc_db),
            tgc_slope=profile.tgc_slope + self.tgc_comp * max(liver_att - 0.5, 0.0),
            depth_cm=profile.depth_cm * self.depth_scale,
        )


NEUTRAL = Operator()


def draw_view(rng: np.random.Generator, name: str | None = None) -> View:
    """A view of kind ``name`` (drawn uniformly from :data:`VIEWS` when None) at a random placement."""
    if name is None:
        name = VIEWS[int(rng.integers(0, len(VIEWS)))]
    if name not in _VIEW_RANGES:
        raise ConfigError(f"unknown view {name!r}; use one of {', '.join(VIEWS)}")
    (x0, x1), (t0, t1) = _VIEW_RANGES[name]
    x, tilt = float(rng.uniform(x0, x1)), float(rng.uniform(t0, t1))
    if name != "intercostal":
        return View(name, x, tilt)
    # The probe sits in an intercostal space (1.6-2.4 cm wide), give or take 3 mm: ribs shadow the sides.
    width = float(rng.uniform(1.0, 1.5))
    pitch = float(rng.uniform(1.6, 2.4)) + width
    return View(name, x, tilt, pitch, pitch / 2 + float(rng.uniform(-0.3, 0.3)), width)


def draw_operator(rng: np.random.Generator) -> Operator:
    """Operator settings of one exam, on top of the profile's preset (random profiles already spread gain
    +-12 dB and TGC sliders +-8 dB): gain +-3 dB, TGC sliders +-2 dB each, compensation of the liver's extra
    attenuation 30-100 %, depth 85-110 % of the preset's."""
    tgc = tuple(float(v) for v in rng.uniform(-2.0, 2.0, size=5))
    return Operator(
        float(rng.uniform(-3.0, 3.0)),
        tgc,  # type: ignore[arg-type]  # tgc has exactly five values
        float(rng.uniform(0.3, 1.0)),
        float(rng.uniform(0.85, 1.1)),
    )


def exam_rng(patient_id: str, seed: int) -> np.random.Generator:
    """The random stream of one exam's view and operator (independent of the disease)."""
    return np.random.default_rng([zlib.crc32(f"exam|{patient_id}".encode()), seed & 0xFFFFFFFF])
