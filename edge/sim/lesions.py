"""Focal lesions rasterised into a tissue map, each kind with its variants (see ``patient.LESION_VARIANTS``):

- cyst: anechoic, thin bright wall, almost no attenuation (posterior enhancement); "septated" adds thin
  echogenic septa;
- haemangioma: "typical" homogeneous hyperechoic; "atypical" hyperechoic rim around an iso-/hypoechoic
  centre;
- HCC: "halo" hypoechoic with a dark halo; "mosaic" heterogeneous, no halo; "isoechoic" nearly liver-like
  with only a thin halo;
- metastasis: "target" echogenic centre with a hypoechoic rim (bull's eye); "hypoechoic"; "hyperechoic"
  with a thin dark rim.

Only the lesion's bounding box is touched. SIMULATED anatomy, not for clinical use.
"""

from __future__ import annotations

import cv2
import numpy as np

from liveredge.edge.sim.patient import FLUID_AMP, FLUID_ATT, Lesion, ellipse_radius


def _noise(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    n = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), max(sigma_px, 0.5))
    return (n - n.mean()) / (n.std() + 1e-6)


def _septa(r: np.ndarray, u: np.ndarray, v: np.ndarray, rng: np.random.Generator, radius: float) -> np.ndarray:
    """One or two thin straight septa across a cyst."""
    out = np.zeros(r.shape, bool)
    for _ in range(int(rng.integers(1, 3))):
        a = rng.uniform(0, np.pi)
        off = rng.uniform(-0.4, 0.4) * radius
        out |= np.abs(u * np.cos(a) + v * np.sin(a) - off) < 0.04
    return out & (r < 1.0)


def _amplitude(les: Lesion, r: np.ndarray, tex: np.ndarray, base: float) -> np.ndarray:
    """Scatterer amplitude inside and just around the lesion (``r`` normalised elliptic radius)."""
    v = les.variant
    if les.kind == "haemangioma":
        if v == "atypical":
            return np.where(r > 0.6, 2.5 * base, 0.8 * base) * np.exp(0.15 * tex)
        return 2.7 * base * np.exp(0.15 * tex)
    if les.kind == "hcc":
        if v == "mosaic":
            return 0.8 * base * np.exp(0.7 * tex)
        if v == "isoechoic":
            return 1.0 * base * np.exp(0.2 * tex)
        return 0.45 * base * np.exp(0.55 * tex)
    if v == "hypoechoic":
        return 0.3 * base * np.exp(0.3 * tex)
    if v == "hyperechoic":
        return np.where(r > 0.85, 0.3 * base, 2.6 * base * np.exp(0.2 * tex))
    return np.where(r < 0.5, 2.4 * base, 0.2 * base)  # target


def draw_lesion(
    les: Lesion,
    base: float,
    code: int,
    rng: np.random.Generator,
    grid: tuple[np.ndarray, np.ndarray],
    amp: np.ndarray,
    att: np.ndarray,
    label: np.ndarray,
) -> None:
    """Draw ``les`` into ``amp``/``att``/``label`` (anatomy grid, coordinates ``grid`` = (x, z) cm) with
    label ``code``; ``base`` is the liver's amplitude."""
    x, z = grid
    res = float(x[0, 1] - x[0, 0])
    e = les.shape
    reach = max(e.ax, e.az) + 0.5
    c0 = max(int((e.cx - reach - x[0, 0]) / res), 0)
    c1 = min(int((e.cx + reach - x[0, 0]) / res) + 1, x.shape[1])
    r0 = max(int((e.cz - reach - z[0, 0]) / res), 0)
    r1 = min(int((e.cz + reach - z[0, 0]) / res) + 1, z.shape[0])
    if c1 <= c0 or r1 <= r0:
        return
    box = (slice(r0, r1), slice(c0, c1))
    bx, bz = x[box], z[box]
    tex = _noise(rng, bx.shape, 0.3 / res)
    lob = 1.0 + (0.06 * _noise(rng, bx.shape, 0.5 / res) if les.kind == "haemangioma" else 0.0)
    r = ellipse_radius(e, bx, bz) / lob
    inside = r < 1.0
    a_box, t_box, l_box = amp[box], att[box], label[box]
    l_box[inside] = code
    if les.kind == "cyst":
        a_box[inside], t_box[inside] = FLUID_AMP, FLUID_ATT
        a_box[(r >= 1.0) & (r < 1.0 + 0.1 / e.ax)] = 2.2
        if les.variant == "septated":
            a_box[_septa(r, bx - e.cx, bz - e.cz, rng, max(e.ax, e.az))] = 1.8
        return
    a_box[inside] = _amplitude(les, r, tex, base)[inside]
    if les.kind == "hcc" and les.variant != "mosaic":
        width = 0.15 if les.variant == "isoechoic" else 0.35
        halo = (r >= 1.0) & (r < 1.0 + width / e.ax)
        a_box[halo] = (0.15 if les.variant == "isoechoic" else 0.1) * base
        l_box[halo] = code
