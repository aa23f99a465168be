"""Tissue maps: a patient's organs rasterised on the anatomy grid (physical cm, see ``patient``).

The grid covers x in [X0, X0 + W*RES) and z in [Z0, Z0 + H*RES) cm (``RES`` cm per cell, row = depth),
wide and deep enough for a 24 cm phased sector from any view. Three layers: ``amp`` float32 scatterer
amplitude (normal liver = 1), ``att`` float32 attenuation in dB/cm/MHz (one way), ``label`` uint8 region
codes (see ``REGION``). The liver fills everything above the diaphragm: the body wall, ascites and the
liver's top surface move with the probe and are laid over by ``body``. Maps are cached per patient.
Pure numpy + OpenCV; SIMULATED anatomy, not for clinical use.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.sim.lesions import draw_lesion
from liveredge.edge.sim.patient import FLUID_AMP, FLUID_ATT, Ellipse, Patient, ellipse_radius

RES = 0.06
X0, Z0 = -20.0, -1.0
W, H = 667, 434
REGION: dict[str, int] = {
    "background": 0,
    "wall": 1,
    "liver": 2,
    "vessel": 3,
    "kidney": 4,
    "kidney_inner": 5,
    "gallbladder": 6,
    "ascites": 7,
    "diaphragm": 8,
    "lung": 9,
    "rib": 10,
}
LESION_CODE = 16  # lesion k has label LESION_CODE + k


@dataclass(frozen=True)
class TissueMap:
    """Rasterised anatomy on the canonical grid (arrays are read-only)."""

    amp: np.ndarray
    att: np.ndarray
    label: np.ndarray


@functools.lru_cache(maxsize=1)
def _grid() -> tuple[np.ndarray, np.ndarray]:
    xs = (X0 + RES * (np.arange(W, dtype=np.float32) + 0.5))[None, :]
    zs = (Z0 + RES * (np.arange(H, dtype=np.float32) + 0.5))[:, None]
    return np.broadcast_to(xs, (H, W)), np.broadcast_to(zs, (H, W))


def _noise(rng: np.random.Generator, scale_cm: float, shape: tuple[int, ...] = (H, W)) -> np.ndarray:
    """Zero-mean, unit-std Gaussian noise low-passed to ``scale_cm``."""
    n = rng.standard_normal(shape).astype(np.float32)
    if len(shape) == 1:
        n = n[None, :]
    sigma = max(scale_cm / RES, 0.5)
    n = cv2.GaussianBlur(n, (0, 0), sigmaX=sigma, sigmaY=sigma if len(shape) == 2 else 0.01)
    n = n.reshape(shape)
    return (n - n.mean()) / (n.std() + 1e-6)


def _nodular_texture(rng: np.random.Generator, scale_cm: float, sigma: float) -> np.ndarray:
    """Multiplicative parenchyma texture: Voronoi nodules of diameter ~1.7 * ``scale_cm`` with their own
    echo level (log-amplitude std ``sigma``), echogenic septa between them, plus fine smooth noise."""
    step = 1.7 * scale_cm / RES
    gy, gx = np.mgrid[0:H:step, 0:W:step]
    pts = np.stack([gx.ravel(), gy.ravel()], 1) + rng.uniform(-0.4, 0.4, (gx.size, 2)) * step
    seeds = np.full((H, W), 255, np.uint8)
    ij = np.clip(np.round(pts).astype(int), 0, [W - 1, H - 1])
    seeds[ij[:, 1], ij[:, 0]] = 0
    _, cells = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP)
    level = rng.standard_normal(int(cells.max()) + 1).astype(np.float32)
    nodules = cv2.GaussianBlur(level[cells], (0, 0), 0.12 / RES)
    log_amp = sigma * (0.85 * nodules + 0.55 * _noise(rng, 0.6 * scale_cm))
    border = cv2.morphologyEx(cells.astype(np.float32), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    septa = cv2.GaussianBlur(border.astype(np.float32), (0, 0), max(0.05 / RES, 0.5))
    return (np.exp(log_amp - sigma**2 / 2) * (1.0 + 2.5 * sigma * septa / max(float(septa.max()), 1e-6))).astype(
        np.float32
    )


def _diaphragm(p: Patient, rng: np.random.Generator) -> np.ndarray:
    """Diaphragm (deep liver surface) depth in cm per grid column, with nodular bumps in cirrhosis."""
    x = _grid()[0][0]
    bumps = p.surface_bump_cm * (1.0 + np.tanh(1.5 * _noise(rng, 0.5, (W,))))
    d0, curv, xc = p.diaphragm
    return (d0 + curv * (x - xc) ** 2 - bumps - 0.6 * p.ascites_cm).astype(np.float32)


def _box(e: Ellipse, margin: float) -> tuple[slice, slice]:
    """Grid rows/columns covering ellipse ``e`` plus ``margin`` cm."""
    reach = max(e.ax, e.az) + margin
    c0, c1 = int((e.cx - reach - X0) / RES), int((e.cx + reach - X0) / RES) + 1
    r0, r1 = int((e.cz - reach - Z0) / RES), int((e.cz + reach - Z0) / RES) + 1
    return slice(max(r0, 0), max(min(r1, H), 0)), slice(max(c0, 0), max(min(c1, W), 0))


def draw_kidney(p: Patient, rng: np.random.Generator, amp: np.ndarray, label: np.ndarray, S: np.ndarray) -> None:
    """Draw ``p.kidney`` (perirenal fat, cortex, pyramids, bright sinus, capsule into ``S``) in place."""
    k = p.kidney
    box = _box(k, 0.6)
    x, z = (g[box] for g in _grid())
    if x.size == 0:
        return
    amp, label, S = amp[box], label[box], S[box]  # views: written in place
    r = ellipse_radius(k, x, z)
    fat = r < 1.0 + 0.35 / k.az
    amp[fat] = 1.5
    label[fat] = REGION["background"]
    cortex = r < 1.0
    amp[cortex] = p.kidney_amp * np.exp(0.08 * _noise(rng, 0.3, x.shape))[cortex]
    label[cortex] = REGION["kidney"]
    S[(r > 0.97) & (r < 1.02)] += 1.2  # capsule
    a = np.deg2rad(k.angle_deg)
    for t in np.linspace(0, 2 * np.pi, 9)[:-1] + rng.uniform(0, 0.5):
        u, v = 0.72 * k.ax * np.cos(t), 0.62 * k.az * np.sin(t)
        pyr = Ellipse(
            k.cx + u * np.cos(a) - v * np.sin(a),
            k.cz + u * np.sin(a) + v * np.cos(a),
            0.42,
            0.3,
            float(np.rad2deg(t + a)),
        )
        m = ellipse_radius(pyr, x, z) < 1.0
        amp[m] = 0.3 * p.kidney_amp
        label[m] = REGION["kidney_inner"]
    sinus = ellipse_radius(Ellipse(k.cx, k.cz, 0.62 * k.ax, 0.36 * k.az, k.angle_deg), x, z) < 1.0
    amp[sinus] = (2.4 * np.exp(0.35 * _noise(rng, 0.25, x.shape)))[sinus]
    label[sinus] = REGION["kidney_inner"]


def _vessels(p: Patient, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Lumen mask and bright-wall mask (uint8 0/1) of all vessels."""
    lumen = np.zeros(shape, np.uint8)
    walls = np.zeros(shape, np.uint8)

    def pt(xc: float, zc: float) -> tuple[int, int]:
        return int(round((xc - X0) / RES)), int(round((zc - Z0) / RES))

    for v in p.vessels:
        # Gently curved, tapering tube drawn as short segments (radius r at the start, 0.45 r at the end).
        t = np.linspace(0.0, 1.0, 9)
        bend = 0.12 * np.hypot(v.x1 - v.x0, v.z1 - v.z0) * (1 if v.z0 > v.z1 else -1)
        xs = v.x0 + (v.x1 - v.x0) * t + bend * np.sin(np.pi * t) * 0.6
        zs = v.z0 + (v.z1 - v.z0) * t + bend * np.sin(np.pi * t) * 0.4
        for k in range(8):
            r = v.radius * (1.0 - 0.55 * (k + 0.5) / 8)
            a, b = pt(xs[k], zs[k]), pt(xs[k + 1], zs[k + 1])
            if v.kind == "portal":
                cv2.line(walls, a, b, 1, thickness=max(1, int(round(2 * (r + 0.12) / RES))))
            cv2.line(lumen, a, b, 1, thickness=max(1, int(round(2 * r / RES))))
    return lumen, walls


def _liver(
    p: Patient, rng: np.random.Generator, amp: np.ndarray, att: np.ndarray, label: np.ndarray, S: np.ndarray
) -> None:
    """Parenchyma (everything above the diaphragm), the diaphragm and the lung (mirror) below it, in place."""
    z = _grid()[1]
    deep = _diaphragm(p, rng)
    liver_tex = p.liver_amp * _nodular_texture(rng, p.texture_scale_cm, p.texture_sigma)
    liver = z < deep[None, :]
    lung = z >= deep[None, :] + 0.3
    dia = (z >= deep[None, :] - 0.05) & ~lung
    amp[:] = np.where(liver, liver_tex, np.where(lung, 0.5 * liver_tex, amp))
    att[:] = np.where(liver, np.float32(p.liver_att), att)
    label[:] = np.where(liver, np.uint8(REGION["liver"]), np.where(lung, np.uint8(REGION["lung"]), label))
    label[dia] = REGION["diaphragm"]
    S += np.float32(7.0) * dia


def _scene(p: Patient) -> TissueMap:
    from liveredge.edge.sim.scenes import scene_maps  # scenes draws with this module's kidney

    maps = scene_maps(p, _grid(), REGION)
    for arr in maps:
        arr.setflags(write=False)
    return TissueMap(*maps)


@functools.lru_cache(maxsize=48)
def tissue_map(p: Patient) -> TissueMap:
    """Rasterise ``p``'s organs on the anatomy grid (cached per patient; ~0.1-0.2 s on one core)."""
    if p.scene:
        return _scene(p)
    rng = np.random.default_rng([zlib.crc32(p.patient_id.encode()), p.seed & 0xFFFFFFFF, 7])
    x, z = _grid()
    amp = np.full((H, W), 0.6, np.float32)
    att = np.full((H, W), 0.6, np.float32)
    label = np.zeros((H, W), np.uint8)
    S = np.zeros((H, W), np.float32)  # bright structures (walls, diaphragm), blurred by steatosis
    _liver(p, rng, amp, att, label, S)
    lumen, walls = _vessels(p, (H, W))
    in_liver = label == REGION["liver"]
    walls &= in_liver
    lumen &= in_liver
    S += 2.2 * walls * (1 - lumen)
    label[(lumen | walls).astype(bool)] = REGION["vessel"]
    att[lumen.astype(bool)] = max(p.liver_att - 0.2, 0.2)
    draw_kidney(p, rng, amp, label, S)
    if p.gallbladder is not None:
        r = ellipse_radius(p.gallbladder, x, z)
        gb = (r < 1.0) & (label == REGION["liver"])
        amp[gb], att[gb], label[gb], S[gb] = FLUID_AMP, FLUID_ATT, REGION["gallbladder"], 0.0
        S[(r > 0.97) & (r < 1.08) & (label != REGION["kidney"])] += 1.4
    soft = lumen.astype(np.float32)
    if p.wall_blur_cm > 0:
        sig = p.wall_blur_cm / RES
        S = cv2.GaussianBlur(S, (0, 0), sig)
        soft = cv2.GaussianBlur(soft, (0, 0), sig * 0.6)
    amp = (amp * (1 - soft) + 0.03 * soft + S).astype(np.float32)
    for k, les in enumerate(p.lesions):
        draw_lesion(les, p.liver_amp, LESION_CODE + k, rng, (x, z), amp, att, label)
    for arr in (amp, att, label):
        arr.setflags(write=False)
    return TissueMap(amp, att, label)
