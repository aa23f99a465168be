"""The scanner screen around the B-mode image: layout, text, depth ruler, grey bar, logo, Doppler.

Everything static is drawn once per scanner into a BGR layer plus a mask; per frame only the fan
pixels change. Overlays never touch the live region (the mask is cleared there), except the
optional colour-Doppler box, which is drawn per frame inside the fan.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from liveredge.edge.sim.geometry import FanGeometry
from liveredge.edge.sim.profiles import SiteProfile

FONT = cv2.FONT_HERSHEY_SIMPLEX


def layout(size: tuple[int, int], profile: SiteProfile, dual: bool) -> tuple[tuple[int, int, int, int], ...]:
    """Panel boxes (x, y, w, h) px of the image panel(s) on a ``size`` (h, w) screen."""
    h, w = size
    top = max(12, round((0.085 if profile.layout == "top" else 0.05) * h))
    left = round((0.17 if profile.layout == "left" else 0.05) * w)
    right = max(14, round(0.09 * w))
    bottom = max(3, round(0.03 * h))
    x, y, pw, ph = left, top, w - left - right, h - top - bottom
    if not dual:
        return ((x, y, pw, ph),)
    gap = max(4, round(0.015 * w))
    half = (pw - gap) // 2
    return ((x, y, half, ph), (x + half + gap, y, half, ph))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color: tuple[int, int, int]) -> None:
    cv2.putText(img, text, org, FONT, scale, color, 1, cv2.LINE_AA)


def _ruler(img: np.ndarray, geo: FanGeometry, x: int, scale: float, color: tuple[int, int, int]) -> None:
    """Depth ticks every cm along the centre line, labels every 5 cm, at column ``x``."""
    for cm in range(int(geo.depth_cm) + 1):
        _, ys = geo.to_screen(np.zeros(1, np.float32), np.full(1, cm, np.float32))
        y = int(round(float(ys[0])))
        major = cm % 5 == 0
        cv2.line(img, (x, y), (x + (6 if major else 3), y), color, 1)
        if major and cm > 0:
            _text(img, str(cm), (x + 7, y + 4), scale * 0.9, color)


def _greybar(img: np.ndarray, x: int, y: int, h: int, w: int) -> None:
    ramp = np.linspace(255, 0, max(h, 2)).astype(np.uint8)[:, None]
    img[y : y + h, x : x + w] = np.repeat(ramp, w, axis=1)[:, :, None]


def static_layer(
    size: tuple[int, int],
    profile: SiteProfile,
    panels: tuple[tuple[int, int, int, int], ...],
    geoms: tuple[FanGeometry, ...],
    fan_mask: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw text, rulers, grey bar and logo; return (BGR layer, bool overlay mask), both (h, w)."""
    h, w = size
    img = np.zeros((h, w, 3), np.uint8)
    col = profile.text_color
    fs = max(0.26, h / 1000.0)
    line = max(9, int(round(28 * fs)))
    rng = np.random.default_rng([zlib.crc32(profile.site_id.encode()), seed & 0xFFFFFFFF])
    stamp = f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d} {int(rng.integers(7, 19)):02d}:{int(rng.integers(0, 60)):02d}"
    _text(img, f"{profile.vendor} {profile.site_id}", (3, line - 2), fs, col)
    (tw, _), _ = cv2.getTextSize(stamp, FONT, fs, 1)
    _text(img, stamp, (w - tw - 3, line - 2), fs, col)
    items = [
        profile.probe_name,
        f"{profile.freq_mhz:.1f}MHz",
        f"D {profile.depth_cm:.1f}cm",
        f"G {50 + profile.gain_db:.0f}",
        f"DR {profile.dynamic_range_db:.0f}",
        "MI 0.9",
        "TIS 0.4",
        "ABD",
    ]
    if profile.layout == "left":
        for k, t in enumerate(items):
            _text(img, t, (3, panels[0][1] + line * (k + 1)), fs, col)
    else:
        _text(img, "  ".join(items[:5]), (3, 2 * line - 3), fs * 0.9, col)
    right_x = panels[-1][0] + panels[-1][2] + 2
    for geo, panel in zip(geoms, panels, strict=True):
        _ruler(img, geo, min(panel[0] + panel[2] + 1, w - 12), fs, col)
    bar_h = max(16, int(0.3 * h))
    bar_x = min(right_x + 7, w - 7) if profile.greybar_right else 2
    _greybar(img, bar_x, h - bar_h - 4, bar_h, 5)
    lx, ly = (w - 22, h - bar_h - 20) if not profile.greybar_right else (4, h - 16)
    cv2.circle(img, (lx + 6, ly + 6), 5, col, -1, cv2.LINE_AA)
    cv2.putText(img, "e", (lx + 2, ly + 10), FONT, fs, (0, 0, 0), 1, cv2.LINE_AA)
    px, py = panels[0][0], panels[0][1]
    cv2.rectangle(img, (max(px - 8, 0), py + 1), (max(px - 4, 3), py + 5), col, -1)  # orientation marker
    mask = img.any(axis=2) & (fan_mask == 0)
    img[~mask] = 0
    return img, mask


def doppler(
    screen: np.ndarray, fan: np.ndarray, vessel: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    """Colour-Doppler box in place: outline, red/blue flow in vessels, sparse colour noise in tissue.

    ``fan`` and ``vessel`` are (h, w) bool masks in screen pixels; ``box`` (x, y, w, h).
    """
    x, y, w, h = box
    sub = (slice(y, y + h), slice(x, x + w))
    live = fan[sub]
    flow = vessel[sub] & live
    region = screen[sub]
    upper = np.arange(h)[:, None] < h // 2
    red = np.array([30, 30, 220], np.uint8)
    blue = np.array([220, 90, 20], np.uint8)
    region[flow & upper] = red
    region[flow & ~upper] = blue
    sparkle = live & (rng.random((h, w)) < 0.015)
    region[sparkle] = np.where(rng.random((int(sparkle.sum()), 1)) < 0.5, red, blue)
    cv2.rectangle(screen, (x, y), (x + w - 1, y + h - 1), (90, 200, 90), 1)
