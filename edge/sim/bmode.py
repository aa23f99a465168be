"""The B-mode imaging chain, in beam space (rows = depth samples along each beam, cols = beam lines).

Physics (all of it precomputed per (profile, grid) by :func:`make_plan`; :func:`render_polar` is a few
separable filters and element-wise maps per frame, float32):

- **Scatterers**: a complex Gaussian field (the IQ of many random sub-resolution scatterers) times the
  tissue amplitude, so fully developed speckle has a Rayleigh envelope.
- **Pulse-echo PSF** (separable Gaussian, baseband). Axial sigma ``0.225 c / B`` with the pulse-echo
  -6 dB bandwidth ``B = frac_bandwidth * f`` (a Gaussian pulse of that bandwidth gives 0.187; a 1-cycle
  excitation through the probe response, as SIMUS/pymust makes it, is ~20 % longer): the axial speckle
  size (intensity autocorrelation FWHM) is ``0.53 c / B`` ~ ``c / 2B``, so halving f doubles it.
  Lateral: transmit waist sigma ``0.5 lambda F`` (apodised aperture) at the focus, widening away from it
  as a Gaussian beam (Rayleigh range ``3.5 lambda F^2``; with several focal zones the narrowest zone
  wins at each depth); dynamic receive focusing at ``F_rx = max(2.5, z / aperture)`` (aperture 2.5 cm,
  phased 1.9 cm); pulse-echo sigma ``(s_tx^-2 + s_rx^-2)^-1/2``. Three lateral blur levels are blended
  per depth, power-normalised so speckle brightness does not depend on the PSF. Elevation focusing sums
  scatterers coherently, so it keeps the Rayleigh statistics (no intensity averaging for it).
- **Focal gain**: diffuse echo power ~ ``1 / sqrt(s_tx^2 + s_rx^2)``; half of it (in dB) is left after
  the scanner's own equalisation -> a brighter focal-zone band.
- **Harmonic imaging**: lateral PSF / sqrt(2), side-lobe clutter -10 dB, reverberation -8 dB, and
  attenuation on the (f + 2f) path, i.e. 1.5x the fundamental round trip (the harmonic preset's TGC
  compensates 1.5x ``tgc_slope`` too, so excess attenuation - steatosis - shows 1.5x stronger).
- **Display sampling**: where a depth sample is longer than the axial speckle, a pixel integrates
  K = floor(dr / speckle size) (1..3) independent speckle cells: K intensity looks are averaged, which
  softens speckle on a coarse screen; on a fine grid (the phantom) K = 1 and speckle stays Rayleigh.
- **Spatial compounding**: N steering angles average ``compound_looks(N)`` (~N/2, at most 4)
  decorrelated looks in intensity (adjacent angles are partly correlated); with the display looks the
  total is capped at 4 (speed). L averaged looks have a log-domain speckle std of
  ``4.34 sqrt(psi1(L))`` dB: 5.57, 3.49, 2.73, 2.31 dB for L = 1..4.
- **Artefacts** derived from the amplitude map: side-lobe clutter (local echo power spread +-1 cm
  laterally at ``clutter_db``; visible in fluid), reverberation (interface lines > 5 dB above liver
  and 1.5x their +-4 mm surroundings, shallower than 4 cm, repeated at 2x, 3x and 4x their depth,
  each bounce ``reverb_db`` down), fat-layer aberration (``make_plan(..., fat_cm=)``: lateral PSF x
  ``sqrt(1 + (0.4 fat_cm)^2)`` and clutter +1.5 dB/cm; half of both with harmonics).
- **Attenuation** ``alpha * f`` dB/cm integrated along each beam, round trip (fluid gives posterior
  enhancement) -> electronic noise -> **TGC** (compensates ``tgc_slope``, plus 5 slider offsets) and
  gain -> **log compression**: normal liver's RMS echo sits at 40 % of the dynamic range at gain 0 ->
  optional speckle-reduction blend and persistence -> grey map (gamma) -> uint8 (>= 1 inside the fan).

Images made with it are SIMULATED, not for clinical use.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.geometry import PolarGrid
from liveredge.edge.sim.profiles import SiteProfile

SOUND_CM_US = 0.154  # cm/us: wavelength (cm) = 0.154 / f (MHz)
DB_PER_NEPER = 20.0 / np.log(10.0)
REF_FRAC = 0.40  # RMS echo of normal liver (amplitude 1) at 40 % of the dynamic range, gain 0, TGC matched
RX_APERTURE_CM = {"curvilinear": 2.5, "phased": 1.9, "linear": 2.5}  # active receive aperture
RX_FNUM_MIN = 2.5
AXIAL_K = 0.225  # axial sigma * B / c: a Gaussian pulse gives 0.187; real (SIMUS) pulses are ~20 % longer
BEAM_K = 0.5  # one-way Gaussian beam sigma / (lambda * F): apodised aperture, FWHM 1.18 lambda F
LEVELS = 3
MAX_LOOKS = 4
REVERB_MAX_CM = 4.0


@dataclass(frozen=True)
class BmodePlan:
    """Everything per (profile, grid) that does not change between frames.

    ``kx`` lateral kernels (one per level), ``ky`` axial kernel; ``weights`` (levels, n_r, 1, 1)
    power-normalised blend weights; ``bands`` per level the row range [r0, r1) where it is used;
    ``looks`` incoherent intensity looks; ``att_db_per_sample`` turns the running sum of attenuation
    (dB/cm/MHz) into round-trip dB; ``noise_pow`` electronic noise power; ``log_a`` grey levels per
    neper of intensity; ``row_b`` (n_r, 1) grey offset per row (focal gain + TGC + gain);
    ``clutter`` linear side-lobe level and ``clutter_k`` its lateral box width (lines);
    ``reverb`` per-bounce power ratio, ``reverb_rows`` rows shallower than the reverberation limit,
    ``reverb_k`` rows of the neighbourhood a specular reflector must stand out from;
    ``srf`` speckle-reduction blend and ``srf_sigma`` (axial, lateral) px; ``persistence``; ``lut``.
    """

    kx: tuple[np.ndarray, ...]
    ky: np.ndarray
    weights: np.ndarray
    bands: tuple[tuple[int, int], ...]
    looks: int
    att_db_per_sample: float
    noise_pow: float
    log_a: float
    row_b: np.ndarray
    clutter: float
    clutter_k: int
    reverb: float
    reverb_rows: int
    reverb_k: int
    srf: float
    srf_sigma: tuple[float, float]
    persistence: float
    lut: np.ndarray


@dataclass(frozen=True)
class Psf:
    """Physical PSF of a profile on a grid: axial sigma (cm), lateral sigma (n_r,) cm, focal gain (n_r,) dB."""

    axial_cm: float
    lateral_cm: np.ndarray
    focal_db: np.ndarray


def _gauss(sigma: float) -> np.ndarray:
    k = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma)) + 1, sigma).astype(np.float32)
    return k.ravel()


def focal_depths_cm(profile: SiteProfile) -> np.ndarray:
    """Transmit focal depths (cm): one at ``focus_frac * depth``, or ``focal_zones`` spread around it."""
    focus = profile.focus_frac * profile.depth_cm
    if profile.focal_zones <= 1:
        return np.array([focus])
    return np.clip(focus * np.linspace(0.6, 1.5, profile.focal_zones), 0.5, profile.depth_cm)


def psf(profile: SiteProfile, depth_cm: np.ndarray, fat_cm: float = 0.0) -> Psf:
    """Pulse-echo PSF sigmas and focal gain of ``profile`` at the depths ``depth_cm`` (see module doc)."""
    lam = SOUND_CM_US / profile.freq_mhz
    axial = AXIAL_K * SOUND_CM_US / (profile.frac_bandwidth * profile.freq_mhz) * profile.speckle_scale
    s0 = BEAM_K * lam * profile.lateral_fnum
    z_r = 3.5 * lam * profile.lateral_fnum**2
    z = np.asarray(depth_cm, np.float64)
    s_tx = np.min([s0 * np.sqrt(1 + ((z - zf) / z_r) ** 2) for zf in focal_depths_cm(profile)], axis=0)
    s_rx = BEAM_K * lam * np.maximum(RX_FNUM_MIN, z / RX_APERTURE_CM[profile.kind])
    lateral = (s_tx**-2 + s_rx**-2) ** -0.5
    gain = -10 * np.log10(np.sqrt(s_tx**2 + s_rx**2))
    focal_db = 0.5 * (gain - gain.max())
    aber = 0.5 if profile.harmonic else 1.0
    lateral = lateral * np.sqrt(1 + (0.4 * aber * fat_cm) ** 2) * profile.speckle_scale
    if profile.harmonic:
        lateral = lateral / np.sqrt(2.0)
    return Psf(float(axial), lateral, focal_db)


def compound_looks(angles: int) -> int:
    """Independent speckle looks of ``angles``-angle spatial compounding: adjacent steering angles overlap
    in aperture and stay partly correlated, so about every second angle adds a look (1, 3, 5, 7+ angles ->
    1, 2, 3, 4 looks)."""
    return int(min((max(int(angles), 1) + 2) // 2, 4))


Bands = tuple[tuple[int, int], ...]


def _levels(sig_px: np.ndarray, ky: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, Bands]:
    """Lateral kernels at LEVELS sigmas and per-row blend weights that keep the speckle power at 1
    (each level's separable kernel ``kx (x) ky`` scaled to unit energy, then the blend renormalised)."""
    lo, hi = float(sig_px.min()), max(float(sig_px.max()), float(sig_px.min()) * 1.01)
    levels = np.geomspace(lo, hi, LEVELS)
    pos = np.interp(np.log(sig_px), np.log(levels), np.arange(LEVELS))
    kx = tuple(_gauss(float(s)) for s in levels)
    w = np.stack([np.clip(1 - np.abs(pos - k), 0, 1) for k in range(LEVELS)])
    i0 = np.clip(np.floor(pos).astype(int), 0, LEVELS - 2)
    sa, sb = levels[i0], levels[i0 + 1]
    corr = np.sqrt(2 * sa * sb / (sa**2 + sb**2))  # overlap of the two unit-power Gaussian kernels
    wa, wb = w[i0, np.arange(len(pos))], w[i0 + 1, np.arange(len(pos))]
    w = w / np.sqrt(wa**2 + wb**2 + 2 * wa * wb * corr)[None, :]
    energy = np.array([float((k**2).sum() * (ky**2).sum()) for k in kx])
    w = w / np.sqrt(energy)[:, None]
    bands = []
    for k in range(LEVELS):
        rows = np.nonzero(w[k] > 0)[0]
        bands.append((int(rows.min()), int(rows.max()) + 1) if len(rows) else (0, 0))
    return kx, w.astype(np.float32), tuple(bands)


def _row_offset(profile: SiteProfile, grid: PolarGrid, focal_db: np.ndarray, att_factor: float) -> np.ndarray:
    """Grey offset per row: focal gain + TGC (attenuation compensation and sliders) + gain + reference."""
    nodes = np.linspace(0, profile.depth_cm, 5)
    tgc = 2 * att_factor * profile.tgc_slope * profile.freq_mhz * grid.depth_cm + np.interp(
        grid.depth_cm, nodes, profile.tgc_curve_db
    )
    dr = profile.dynamic_range_db
    return (255.0 / dr * (focal_db + tgc + profile.gain_db + REF_FRAC * dr)).astype(np.float32)[:, None]


def make_plan(profile: SiteProfile, grid: PolarGrid, *, fat_cm: float = 0.0) -> BmodePlan:
    """Derive the PSF kernels, looks, artefact levels, TGC and grey map of ``profile`` on ``grid``.

    ``fat_cm`` (>= 0): thickness of the subcutaneous fat layer; it aberrates the beam (wider lateral
    PSF, more clutter). Raises :class:`ConfigError` for a negative thickness.
    """
    if not fat_cm >= 0:
        raise ConfigError(f"fat_cm must be >= 0, got {fat_cm!r}")
    p = psf(profile, grid.depth_cm, fat_cm)
    ax_px = max(p.axial_cm / grid.dr_cm, 0.6)
    ky = _gauss(ax_px)
    kx, w, bands = _levels(np.clip(p.lateral_cm / np.maximum(grid.line_cm, 1e-4), 0.5, 12.0), ky)
    sub_looks = int(np.clip(np.floor(grid.dr_cm / (2.355 * p.axial_cm)), 1, 3))
    looks = min(sub_looks * compound_looks(profile.compound_angles), MAX_LOOKS)
    att_factor = 1.5 if profile.harmonic else 1.0
    aber = 0.5 if profile.harmonic else 1.0
    clutter_db = profile.clutter_db + 1.5 * aber * fat_cm - (10.0 if profile.harmonic else 0.0)
    reverb_db = profile.reverb_db - (8.0 if profile.harmonic else 0.0)
    line_mid = float(np.median(grid.line_cm))
    dr = profile.dynamic_range_db
    lat_px = float(np.median(p.lateral_cm / np.maximum(grid.line_cm, 1e-4)))
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** profile.gamma, 1, 255).astype(np.uint8)
    return BmodePlan(
        kx=kx,
        ky=ky,
        weights=w[:, :, None, None],
        bands=bands,
        looks=looks,
        att_db_per_sample=2 * att_factor * profile.freq_mhz * grid.dr_cm,
        noise_pow=float(10 ** (profile.noise_db / 10)),
        log_a=float(255.0 / dr * 10 / np.log(10.0)),
        row_b=_row_offset(profile, grid, p.focal_db, att_factor),
        clutter=float(10 ** (clutter_db / 10)),
        clutter_k=int(np.clip(round(2.0 / max(line_mid, 1e-3)), 3, 127)) | 1,
        reverb=float(10 ** (reverb_db / 10)),
        reverb_rows=int(np.searchsorted(grid.depth_cm, REVERB_MAX_CM)),
        reverb_k=int(max(3, round(0.8 / grid.dr_cm))) | 1,
        srf=float(profile.speckle_reduction),
        srf_sigma=(max(ax_px, 0.8), max(lat_px, 0.8)),
        persistence=float(profile.persistence),
        lut=lut,
    )


def _echo_power(plan: BmodePlan, amp: np.ndarray) -> np.ndarray:
    """Scatterer power: tissue echo + side-lobe clutter + reverberation copies of strong shallow reflectors."""
    power = amp * amp
    if plan.clutter > 0:
        power = power + cv2.blur(power, (plan.clutter_k, 1), borderType=cv2.BORDER_REFLECT) * np.float32(plan.clutter)
    n = plan.reverb_rows
    if plan.reverb > 0 and n > 2:
        # specular reflectors: > 5 dB above liver AND 1.5x above their +-4 mm neighbourhood (a bright
        # interface line, not a bright bulk tissue such as a fatty liver)
        local = cv2.blur(power[:n], (1, plan.reverb_k), borderType=cv2.BORDER_REFLECT)
        strong = np.maximum(power[:n] - np.maximum(local * np.float32(1.5), np.float32(3.0)), 0)
        if strong.any():
            rows = np.arange(power.shape[0])
            for k in (2, 3, 4):
                src = rows // k
                ok = src < n
                power[ok] += strong[src[ok]] * np.float32(plan.reverb ** (k - 1))
    return power


def _speckle(plan: BmodePlan, a: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Mean intensity over the plan's looks of the PSF-filtered scatterer field (before attenuation)."""
    n_r, n_l = a.shape
    pad = len(plan.ky) // 2
    inten = np.zeros((n_r, n_l), np.float32)
    for m in range(plan.looks):
        f = field if m == 0 else np.roll(field, (m * (n_r // 4 + 7), m * (n_l // 5 + 3)), axis=(0, 1))
        sc = f * a[:, :, None]
        acc = np.zeros_like(sc)
        for kx, w, (r0, r1) in zip(plan.kx, plan.weights, plan.bands, strict=True):
            if r1 <= r0:
                continue
            s0, s1 = max(r0 - pad, 0), min(r1 + pad, n_r)
            b = cv2.sepFilter2D(sc[s0:s1], -1, kx, plan.ky, borderType=cv2.BORDER_REFLECT)
            acc[r0:r1] += b[r0 - s0 : r1 - s0] * w[r0:r1]
        inten += acc[:, :, 0] * acc[:, :, 0] + acc[:, :, 1] * acc[:, :, 1]
    return inten * np.float32(1.0 / plan.looks) if plan.looks > 1 else inten


def render_polar(
    plan: BmodePlan,
    amp: np.ndarray,
    att: np.ndarray,
    field: np.ndarray,
    noise: np.ndarray,
    *,
    previous: np.ndarray | None = None,
) -> np.ndarray:
    """One beam-space B-mode image.

    ``amp``, ``att`` (n_r, n_l) float32 tissue amplitude and attenuation (dB/cm/MHz) sampled on the
    grid; ``field``, ``noise`` (n_r, n_l, 2) float32 complex Gaussian (re, im), unit power, mutually
    independent. ``previous``: the beam-space image this function returned for the previous frame;
    with it, the profile's ``persistence`` p blends ``(1 - p) * this + p * previous``. Returns
    (n_r, n_l) uint8 grey levels in 1..255.
    """
    a = np.sqrt(_echo_power(plan, amp.astype(np.float32, copy=False)))
    inten = _speckle(plan, a, field)
    att_db = np.cumsum(att, axis=0, dtype=np.float32) * np.float32(plan.att_db_per_sample)
    inten *= np.exp(att_db * np.float32(-np.log(10.0) / 10.0))
    inten += (noise[:, :, 0] ** 2 + noise[:, :, 1] ** 2) * np.float32(plan.noise_pow)
    grey = cv2.log(np.maximum(inten, np.float32(1e-18))) * np.float32(plan.log_a) + plan.row_b
    if plan.srf > 0:
        smooth = cv2.GaussianBlur(grey, (0, 0), sigmaX=plan.srf_sigma[1], sigmaY=plan.srf_sigma[0])
        grey = cv2.addWeighted(grey, 1.0 - plan.srf, smooth, plan.srf, 0.0)
    out = cv2.LUT(np.clip(grey, 0, 255).astype(np.uint8), plan.lut)
    if previous is not None and plan.persistence > 0:
        if previous.shape != out.shape or previous.dtype != np.uint8:
            raise ConfigError(f"previous frame must be uint8 {out.shape}, got {previous.dtype} {previous.shape}")
        out = cv2.addWeighted(out, 1.0 - plan.persistence, previous, plan.persistence, 0.0)
    return out
