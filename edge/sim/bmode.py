"""The convolution / speckle B-mode model, in beam space (rows = depth samples, cols = beam lines).

Per frame: complex Gaussian scatterers times the tissue amplitude -> convolution with a separable
Gaussian PSF (axial width from frequency and pulse length; lateral width from wavelength x f-number,
widening away from the focus, blended over a few precomputed blur levels) -> two-way depth
attenuation ``exp(-2 * alpha * f * z)`` (alpha integrated along each beam, so fluid gives posterior
enhancement) -> electronic noise -> envelope -> TGC + gain -> log compression to the dynamic range
-> grey map (gamma) -> uint8. Inside the live region the grey level is at least 1, so the fan is
distinguishable from the black screen background.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.sim.geometry import PolarGrid
from liveredge.edge.sim.profiles import SiteProfile

SOUND_CM_US = 0.154  # cm/us: wavelength (cm) = 0.154 / f (MHz)
DB_PER_NEPER = 20.0 / np.log(10.0)


@dataclass(frozen=True)
class BmodePlan:
    """Precomputed per (profile, grid): PSF kernels, per-row blend weights, TGC and grey map.

    ``kx`` lateral kernels (one per level), ``ky`` axial kernel, ``weights`` (levels, n_r, 1, 1)
    blend weights that also renormalise speckle power; ``att_db_per_sample`` converts the running sum
    of attenuation (dB/cm/MHz) to two-way dB; ``noise_amp`` linear; ``log_a`` grey levels per neper
    of envelope; ``row_b`` (n_r, 1) grey offset per row (TGC + gain); ``lut`` 256-entry grey map.
    """

    kx: tuple[np.ndarray, ...]
    ky: np.ndarray
    weights: np.ndarray
    att_db_per_sample: float
    noise_amp: float
    log_a: float
    row_b: np.ndarray
    lut: np.ndarray


def _gauss(sigma: float) -> np.ndarray:
    k = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma).astype(np.float32)
    return k.ravel()


def make_plan(profile: SiteProfile, grid: PolarGrid) -> BmodePlan:
    """Derive the PSF, TGC and grey map of ``profile`` on ``grid``."""
    lam = SOUND_CM_US / profile.freq_mhz
    ax_sigma = max(profile.speckle_scale * 0.5 * lam / grid.dr_cm, 0.8)
    focus = profile.focus_frac * profile.depth_cm
    z_r = 0.3 * profile.depth_cm
    lat_cm = profile.speckle_scale * 0.75 * lam * profile.lateral_fnum * np.sqrt(1 + ((grid.depth_cm - focus) / z_r) ** 2)
    sig_rows = np.clip(lat_cm / np.maximum(grid.line_cm, 1e-4), 0.6, 10.0)
    levels = np.geomspace(sig_rows.min(), max(sig_rows.max(), sig_rows.min() * 1.01), 3)
    pos = np.interp(np.log(sig_rows), np.log(levels), np.arange(3))
    ky = _gauss(ax_sigma)
    kx = tuple(_gauss(float(s)) for s in levels)
    weights = np.zeros((3, grid.n_r), np.float32)
    for lvl in range(3):
        w = np.clip(1 - np.abs(pos - lvl), 0, 1)
        norm = 1.0 / np.sqrt(float((kx[lvl] ** 2).sum() * (ky ** 2).sum()))
        weights[lvl] = w * norm
    nodes = np.linspace(0, profile.depth_cm, 5)
    tgc = 2 * profile.tgc_slope * profile.freq_mhz * grid.depth_cm + np.interp(grid.depth_cm, nodes, profile.tgc_curve_db)
    dr = profile.dynamic_range_db
    top = 0.5 * dr + 2.0  # normal liver (envelope ~1) sits near mid-grey before gain
    log_a = 255.0 / dr * DB_PER_NEPER
    row_b = (255.0 / dr * (tgc + profile.gain_db + dr - top)).astype(np.float32)[:, None]
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** profile.gamma, 1, 255).astype(np.uint8)
    return BmodePlan(kx, ky, weights[:, :, None, None], 2 * profile.freq_mhz * grid.dr_cm,
                     float(10 ** (profile.noise_db / 20)), float(log_a), row_b, lut)


def render_polar(plan: BmodePlan, amp: np.ndarray, att: np.ndarray, field: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """One beam-space B-mode image.

    ``amp``, ``att`` (n_r, n_l) float32 tissue amplitude and attenuation (dB/cm/MHz) sampled on the
    grid; ``field``, ``noise`` (n_r, n_l, 2) float32 complex Gaussian (re, im), unit power. Returns
    (n_r, n_l) uint8 grey levels in 1..255.
    """
    sc = field * amp[:, :, None]
    acc = None
    for lvl, kx in enumerate(plan.kx):
        w = plan.weights[lvl]
        if not w.any():
            continue
        b = cv2.sepFilter2D(sc, -1, kx, plan.ky, borderType=cv2.BORDER_REFLECT) * w
        acc = b if acc is None else acc + b
    att_db = np.cumsum(att, axis=0) * plan.att_db_per_sample
    fac = np.exp(att_db * np.float32(-1.0 / DB_PER_NEPER))
    acc *= fac[:, :, None]  # type: ignore[operator]
    acc += noise * np.float32(plan.noise_amp)  # type: ignore[operator]
    env = cv2.magnitude(acc[:, :, 0], acc[:, :, 1])  # type: ignore[index]
    grey = cv2.log(np.maximum(env, np.float32(1e-9))) * np.float32(plan.log_a) + plan.row_b
    grey8 = np.clip(grey, 0, 255).astype(np.uint8)
    return cv2.LUT(grey8, plan.lut)
