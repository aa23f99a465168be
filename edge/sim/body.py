"""The body wall under the probe, in the probe frame (see ``exam``): skin, subcutaneous fat of the
patient's thickness, muscle, the peritoneal line, ribs (intercostal views), ascites, and the liver capsule
with its (nodular, in cirrhosis) top surface. These layers move with the probe, not with breathing, so
they are rendered per probe geometry and laid over the organs sampled from the anatomy frame.

Ribs are bright on their top surface and absorb almost everything (about 25 dB/cm/MHz): the beam-space
attenuation integral then casts their acoustic shadows. SIMULATED anatomy, not for clinical use.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import cv2
import numpy as np

from liveredge.edge.sim.anatomy import REGION
from liveredge.edge.sim.patient import FLUID_AMP, FLUID_ATT, Patient

RIB_ATT = 25.0
_XS = np.arange(-30.0, 30.0, 0.05, dtype=np.float32)  # lateral support of the per-patient 1-D profiles


@dataclass(frozen=True)
class BodyLayers:
    """Per-sample overlay: ``mask`` (bool, True where the body wall / fluid / capsule decides the sample),
    ``amp``, ``att`` (float32) and ``label`` (uint8 region codes) valid where ``mask``."""

    mask: np.ndarray
    amp: np.ndarray
    att: np.ndarray
    label: np.ndarray


def _profile_1d(rng: np.random.Generator, scale_cm: float) -> np.ndarray:
    n = rng.standard_normal(_XS.size).astype(np.float32)[None, :]
    n = cv2.GaussianBlur(n, (0, 0), sigmaX=max(scale_cm / 0.05, 0.5), sigmaY=0.01).ravel()
    return (n - n.mean()) / (n.std() + 1e-6)


def _at(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.interp(x, _XS, curve).astype(np.float32)


def _ribs(p: Patient, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside-rib bool, bright-top-surface bool) for the view's ribs; none when it has no ribs."""
    v = p.view
    if v.rib_pitch_cm <= 0:
        none = np.zeros(x.shape, bool)
        return none, none
    muscle = p.wall_cm - p.fat_cm
    zc = p.fat_cm + 0.45 * muscle
    u = np.mod(x - v.rib_phase_cm + v.rib_pitch_cm / 2, v.rib_pitch_cm) - v.rib_pitch_cm / 2
    r = np.sqrt((u / (v.rib_width_cm / 2)) ** 2 + ((z - zc) / 0.45) ** 2)
    return r < 1.0, (r < 1.0) & (r > 0.72) & (z < zc)


def _scene_layers(p: Patient, x: np.ndarray, z: np.ndarray) -> BodyLayers:
    """Non-liver scenes: the body wall only (no liver capsule), or air reverberation for "air" / "gel"."""
    from liveredge.edge.sim.scenes import AIRLIKE, air_layers

    if p.scene in AIRLIKE:
        amp, att = air_layers(p, z)
        return BodyLayers(np.ones(z.shape, bool), amp, att, np.full(z.shape, REGION["background"], np.uint8))
    wall = body_layers(replace(p, scene="", ascites_cm=0.0, surface_bump_cm=0.0), x, z)
    label = np.where(wall.label == REGION["liver"], np.uint8(REGION["wall"]), wall.label)  # no liver capsule
    return BodyLayers(z < p.wall_cm, wall.amp, wall.att, label)


def body_layers(p: Patient, x: np.ndarray, z: np.ndarray) -> BodyLayers:
    """The overlay for probe-frame points ``(x, z)`` cm (any matching shapes)."""
    if p.scene:
        return _scene_layers(p, x, z)
    rng = np.random.default_rng([zlib.crc32(p.patient_id.encode()), p.seed & 0xFFFFFFFF, 11])
    ripple = 0.08 * _at(_profile_1d(rng, 1.5), x)
    bumps = p.surface_bump_cm * (1.0 + np.tanh(1.5 * _at(_profile_1d(rng, 0.5), x)))
    top = p.wall_cm + p.ascites_cm + 0.05 + bumps  # top of the liver below the probe
    zr = z + ripple
    fat = (0.35 + 0.6 * (np.abs(np.sin(zr * 11.0)) > 0.97)).astype(np.float32)
    muscle = (0.8 + 0.5 * (np.abs(np.sin(zr * 14.0)) > 0.9)).astype(np.float32)
    amp = np.where(z < p.fat_cm, fat, muscle)
    att = np.where(z < p.fat_cm, np.float32(0.6), np.float32(1.0)).astype(np.float32)
    label = np.full(x.shape, REGION["wall"], np.uint8)
    amp[z < 0.12] = 2.2  # skin
    amp[(z >= p.wall_cm - 0.14) & (z < p.wall_cm)] = 2.6  # peritoneal line
    below = z >= p.wall_cm
    amp[below], att[below], label[below] = 0.5, 0.6, REGION["background"]
    if p.ascites_cm > 0:
        fluid = below & (z < top - 0.04)
        amp[fluid], att[fluid], label[fluid] = FLUID_AMP, FLUID_ATT, REGION["ascites"]
    capsule = (z >= top - 0.06) & (z < top)
    amp[capsule], label[capsule] = 1.6 * p.liver_amp, REGION["liver"]
    rib, rib_top = _ribs(p, x, z)
    amp[rib], att[rib], label[rib] = 0.3, RIB_ATT, REGION["rib"]
    amp[rib_top] = 4.0
    return BodyLayers(z < top, amp.astype(np.float32), att, label)
