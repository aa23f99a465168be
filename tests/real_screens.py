"""Synthetic scanner screens that mimic two real-screen failures of fan detection (SIMULATED, not clinical).

Not a test module itself; imported by tests/test_preprocess_real_screens.py. Every screen is built from
speckle (complex Gaussian field, PSF blur, envelope, log compression) so the detector sees texture, and
every builder returns the ground truth next to the frames:

- :func:`touching_dual_linear` — a 640x480 palette-like screen (grey levels on a 64-entry ramp, colour
  text) with two linear panels that touch (no black gap), a vertical grey ramp bar and a grey probe icon
  inside the top-left of the left panel, a white dotted caliper line with '+' ends in the right panel;
  the left panel is live, the right one frozen;
- :func:`fluid_far_field_sector` — a curvilinear sector whose far field is fluid: tissue only in a band
  under the probe arc, the rest anechoic with sparse weak echoes that move from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from liveredge.edge.preprocess.region import Sector, rect_mask, sector_mask

SIZE = (480, 640)


@dataclass(frozen=True)
class DualScreen:
    """Frames (uint8 BGR) and truth of the touching dual-panel screen."""

    frames: list[np.ndarray]
    panels: tuple[tuple[int, int, int, int], tuple[int, int, int, int]]  # (x, y, w, h) left, right
    greybar: tuple[int, int, int, int]
    icon: tuple[int, int, int, int]
    caliper: np.ndarray  # bool (H, W): the caliper marks
    live: int


@dataclass(frozen=True)
class SectorScreen:
    """Frames (uint8 BGR) and truth of the fluid far-field sector screen."""

    frames: list[np.ndarray]
    sector: Sector
    mask: np.ndarray  # uint8 0/255, the true sector
    tissue_depth: float  # px below r_inner where tissue ends (fluid beyond)


def speckle(shape: tuple[int, int], rng: np.random.Generator, amp: np.ndarray | float = 1.0) -> np.ndarray:
    """uint8 speckle image: Rayleigh envelope of a blurred complex field times ``amp``, 50 dB log compression."""
    field = rng.standard_normal((*shape, 2)).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigmaX=2.2, sigmaY=1.0)
    env = np.hypot(field[..., 0], field[..., 1]) * np.asarray(amp, np.float32)
    db = 20.0 * np.log10(np.maximum(env, 1e-6) / 0.25)
    return np.clip(140.0 + db * 255.0 / 50.0, 0, 255).astype(np.uint8)


def _liver_amp(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Amplitude map of a linear liver view: depth attenuation, two dark vessels, a bright capsule line."""
    h, w = shape
    amp = np.exp(-np.linspace(0.0, 1.2, h, dtype=np.float32))[:, None] * np.ones((1, w), np.float32)
    for _ in range(2):
        c = (int(rng.integers(w // 5, 4 * w // 5)), int(rng.integers(h // 4, 3 * h // 4)))
        cv2.ellipse(amp, c, (int(rng.integers(12, 30)), int(rng.integers(8, 20))), 0, 0, 360, 0.03, -1)
    cv2.line(amp, (0, h // 12), (w - 1, h // 10), 3.0, 3)
    return amp


def _palette(img: np.ndarray) -> np.ndarray:
    """Grey levels on a 64-entry palette ramp (what an indexed-colour screen holds), as BGR."""
    return cv2.cvtColor((img // 4) * 4, cv2.COLOR_GRAY2BGR)


def touching_dual_linear(n_frames: int = 12, seed: int = 0) -> DualScreen:
    """Two touching linear panels 304x443 at x = 16 and 320 (together 608x443, as on the real screen)."""
    rng = np.random.default_rng(seed)
    left, right = (16, 20, 304, 443), (320, 20, 304, 443)
    amps = [_liver_amp(left[2:][::-1], rng) for _ in range(2)]
    frozen = speckle((443, 304), rng, amps[1])
    bar, icon = (22, 40, 10, 220), (24, 22, 26, 16)
    caliper = np.zeros(SIZE, bool)
    for k in range(10):  # dotted caliper line across the right panel, with '+' ends
        caliper[300, 400 + 12 * k : 404 + 12 * k] = True
    for cx in (396, 520):
        caliper[296:305, cx] = True
        caliper[300, cx - 4 : cx + 5] = True
    frames = []
    for i in range(n_frames):
        screen = np.zeros(SIZE, np.uint8)
        shift = np.roll(amps[0], 2 * i, axis=0)  # the live view breathes
        screen[20:463, 16:320] = speckle((443, 304), rng, shift)
        screen[20:463, 320:624] = frozen
        x, y, bw, bh = bar
        screen[y : y + bh, x : x + bw] = np.linspace(255, 8, bh).astype(np.uint8)[:, None]
        x, y, iw, ih = icon
        screen[y : y + ih, x : x + iw] = 150  # a grey probe icon: body, darker head, outline
        screen[y + 4 : y + ih, x + 8 : x + iw - 8] = 90
        cv2.rectangle(screen, (x, y), (x + iw - 1, y + ih - 1), 200, 1)
        screen[caliper] = 255  # white, as most scanners draw them
        bgr = _palette(screen)
        cv2.putText(bgr, "L12-5  11MHz  D 5.0cm", (8, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1)
        cv2.putText(bgr, "FR 23Hz  2D 60%", (420, 476), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1)
        frames.append(bgr)
    return DualScreen(frames, (left, right), bar, icon, caliper, live=0)


TRUE_SECTOR = Sector(apex=(320.0, -40.0), angle_left_deg=-34.0, angle_right_deg=34.0, r_inner=80.0, r_outer=500.0)


def fluid_far_field_sector(
    n_frames: int = 30, seed: int = 0, tissue_px: float = 45.0, echo_density: float = 0.004, ruler: bool = False
) -> SectorScreen:
    """Curvilinear sector (apex above the screen) with tissue only in ``tissue_px`` under the probe arc.

    The far field is fluid: black with sparse weak echoes (density ``echo_density`` per pixel per frame,
    2-6 px blobs of grey 10-40) at new places every frame, as floating particles and noise show on a live
    obstetric screen. ``ruler``: a depth ruler right of the sector (:func:`_depth_ruler`).
    """
    rng = np.random.default_rng(seed)
    truth = sector_mask(SIZE, TRUE_SECTOR)
    ys, xs = np.mgrid[0 : SIZE[0], 0 : SIZE[1]].astype(np.float32)
    r = np.hypot(xs - TRUE_SECTOR.apex[0], ys - TRUE_SECTOR.apex[1])
    depth = r - TRUE_SECTOR.r_inner
    tissue = np.clip((tissue_px - depth) / 12.0, 0.0, 1.0)  # soft edge of the tissue layer
    frames = []
    for _ in range(n_frames):
        img = speckle(SIZE, rng, 0.9 * tissue + 1e-4).astype(np.float32)
        echoes = (rng.random(SIZE) < echo_density).astype(np.uint8)
        echoes = cv2.dilate(echoes, np.ones((2, 3), np.uint8)).astype(np.float32)
        img = np.where(tissue > 0.05, img, echoes * rng.uniform(10, 40, SIZE).astype(np.float32))
        img[truth == 0] = 0
        screen = img.astype(np.uint8)
        bgr = cv2.cvtColor(screen, cv2.COLOR_GRAY2BGR)
        if ruler:
            _depth_ruler(bgr)
        cv2.putText(bgr, "C5-1 OB  D 16cm", (8, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
        frames.append(bgr)
    return SectorScreen(frames, TRUE_SECTOR, truth, tissue_px)


RULER_X = 614  # column of the depth ruler, right of the sector
DEPTH_CM = 16  # the sector's depth (r_outer - r_inner = 420 px) on the ruler


def _depth_ruler(bgr: np.ndarray) -> None:
    """Ticks every cm of depth along the centre line (y = apex y + r_inner + depth), as scanners and the
    simulator draw them: white, 3 px, 6 px every 5 cm with the number beside it; the last tick is the depth."""
    top = TRUE_SECTOR.apex[1] + TRUE_SECTOR.r_inner
    px_cm = (TRUE_SECTOR.r_outer - TRUE_SECTOR.r_inner) / DEPTH_CM
    for cm in range(DEPTH_CM + 1):
        y = int(round(top + cm * px_cm))
        major = cm % 5 == 0
        cv2.line(bgr, (RULER_X, y), (RULER_X + (6 if major else 3), y), (255, 255, 255), 1)
        if major and cm:
            cv2.putText(bgr, str(cm), (RULER_X + 8, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (255, 255, 255), 1)


def rect_truth(box: tuple[int, int, int, int]) -> np.ndarray:
    """uint8 0/255 mask of an (x, y, w, h) panel."""
    return rect_mask(SIZE, box)
