"""Scenes that are NOT a liver exam, for teaching and testing a "not a liver" gate.

A handheld in a field clinic is pointed at hearts, bladders, pregnancies, thyroids, lungs and air. Each
scene is a :class:`~liveredge.edge.sim.patient.Patient` with label :data:`NOT_LIVER` and ``scene`` set, so
the same :class:`~liveredge.edge.sim.scanner.Scanner`, probes, views, operators and screens render it:

- cardiac: myocardium, four blood-filled chambers, valve leaflets, bright pericardium (through ribs);
- bladder: a full, anechoic bladder with a bright wall over the uterus/prostate;
- obstetric: uterus, amniotic fluid, a fetus-like head (bright skull, midline) and body (spine), placenta;
- kidney: a kidney alone in retroperitoneal fat and muscle (no liver);
- thyroid: small parts on the neck: strap muscles, two thyroid lobes, trachea with its shadow, carotids;
- vessels: a long-axis artery with bright walls in striated muscle;
- lung: pleural line, A-lines (reverberations of the pleura), sometimes B-lines;
- air: the probe in air, nothing but reverberations of the probe face;
- gel: a gel layer on the probe, then the same air reverberations.

Coordinates as in ``anatomy``; these are drawn on the same grid. SIMULATED, not for clinical use.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import NOT_LIVER
from liveredge.edge.sim.exam import View, draw_operator, exam_rng
from liveredge.edge.sim.patient import FLUID_AMP, FLUID_ATT, Ellipse, Patient, ellipse_radius

SCENES: tuple[str, ...] = ("cardiac", "bladder", "obstetric", "kidney", "thyroid", "vessels", "lung", "air", "gel")
AIRLIKE: frozenset[str] = frozenset({"air", "gel"})  # nothing below the probe face but reverberation
BLOOD_ATT = 0.18
Maps = tuple[np.ndarray, np.ndarray, np.ndarray]  # amp, att, label on the anatomy grid


def make_scene(scene_id: str, kind: str, *, seed: int = 0) -> Patient:
    """A non-liver scene of ``kind`` (one of :data:`SCENES`) as a patient with label ``not_liver``."""
    if kind not in SCENES:
        raise ConfigError(f"unknown scene {kind!r}; use one of {', '.join(SCENES)}")
    rng = np.random.default_rng([zlib.crc32(f"scene|{scene_id}|{kind}".encode()), seed & 0xFFFFFFFF])
    ex = exam_rng(scene_id, seed)
    superficial = kind in ("thyroid", "vessels")
    fat = float(rng.uniform(0.1, 0.5) if superficial else rng.uniform(0.3, 2.0))
    wall = fat + float(rng.uniform(0.3, 0.6) if superficial else rng.uniform(0.7, 1.4))
    if kind in ("cardiac", "lung"):
        width = float(rng.uniform(1.0, 1.5))
        pitch = float(rng.uniform(1.6, 2.4)) + width
        view = View(
            kind,
            float(rng.uniform(-1, 1)),
            float(rng.uniform(-6, 6)),
            pitch,
            pitch / 2 + float(rng.uniform(-0.3, 0.3)),
            width,
        )
    else:
        view = View(kind, float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-8, 8)))
    return Patient(
        patient_id=scene_id,
        condition=NOT_LIVER,
        label=NOT_LIVER,
        severity=0,
        lesion=None,
        seed=seed,
        liver_amp=1.0,
        kidney_amp=float(rng.uniform(0.6, 0.95)),
        liver_att=0.5,
        wall_blur_cm=0.0,
        texture_sigma=float(rng.uniform(0.05, 0.3)),
        texture_scale_cm=float(rng.uniform(0.3, 0.8)),
        surface_bump_cm=0.0,
        ascites_cm=0.0,
        wall_cm=wall,
        diaphragm=(30.0, 0.0, 0.0),
        kidney=Ellipse(
            float(rng.uniform(-1.5, 1.5)),
            wall + float(rng.uniform(4.0, 6.0)),
            float(rng.uniform(4.2, 5.5)),
            float(rng.uniform(2.0, 2.6)),
            float(rng.uniform(-20, 20)),
        ),
        gallbladder=None,
        vessels=(),
        lesions=(),
        fat_cm=fat,
        view=view,
        operator=draw_operator(ex),
        scene=kind,
    )


def _ellipse(e: Ellipse, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return ellipse_radius(e, grid[0], grid[1])


def _fill(maps: Maps, where: np.ndarray, amp: float | np.ndarray, att: float, code: int) -> None:
    a, t, lab = maps
    a[where] = amp if np.isscalar(amp) else np.asarray(amp)[where]
    t[where], lab[where] = att, code


def _cardiac(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    zc, ang = p.wall_cm + float(rng.uniform(6.0, 9.0)), float(rng.uniform(-50, 50))
    heart = Ellipse(float(rng.uniform(-1, 1)), zc, float(rng.uniform(4.5, 6.0)), float(rng.uniform(3.8, 5.0)), ang)
    r = _ellipse(heart, g)
    _fill(m, r < 1.0, 1.2 * tex, 0.6, code["background"])
    m[0][(r >= 1.0) & (r < 1.05)] = 3.0  # pericardium
    a = np.deg2rad(ang)
    for du, dv, ax, az in ((-1.9, -1.4, 1.4, 2.6), (1.9, -1.4, 1.2, 2.4), (-1.8, 2.2, 1.3, 1.3), (1.8, 2.2, 1.2, 1.2)):
        cx = heart.cx + du * np.cos(a) - dv * np.sin(a)
        cz = heart.cz + du * np.sin(a) + dv * np.cos(a)
        chamber = _ellipse(Ellipse(cx, cz, ax * rng.uniform(0.8, 1.2), az * rng.uniform(0.8, 1.2), ang), g) < 1.0
        _fill(m, chamber, FLUID_AMP, BLOOD_ATT, code["vessel"])
    for _ in range(2):  # valve leaflets: short bright lines between atria and ventricles
        x0, z0 = heart.cx + rng.uniform(-2.5, 2.5), heart.cz + rng.uniform(0.2, 1.0)
        m[0][(np.abs(g[1] - z0 - 0.3 * (g[0] - x0)) < 0.06) & (np.abs(g[0] - x0) < 0.9)] = 2.5


def _bladder(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    w, h = float(rng.uniform(3.5, 5.5)), float(rng.uniform(2.5, 4.0))
    cx, cz = float(rng.uniform(-1, 1)), p.wall_cm + 0.5 + h
    u, v = np.abs(g[0] - cx) / w, np.abs(g[1] - cz) / h
    r = (u**4 + v**4) ** 0.25  # rounded rectangle
    m[0][(r >= 1.0) & (r < 1.0 + 0.3 / h)] = 1.8
    _fill(m, r < 1.0, FLUID_AMP, FLUID_ATT, code["gallbladder"])
    organ = _ellipse(Ellipse(cx + rng.uniform(-1, 1), cz + h + 2.5, rng.uniform(2.5, 4.0), rng.uniform(1.8, 2.5)), g)
    _fill(m, organ < 1.0, 1.1 * tex, 0.7, code["kidney"])


def _obstetric(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    cx, cz = float(rng.uniform(-1, 1)), p.wall_cm + float(rng.uniform(6, 8))
    uterus = _ellipse(Ellipse(cx, cz, rng.uniform(7, 9), rng.uniform(5.5, 7)), g)
    _fill(m, uterus < 1.0, 0.9 * tex, 0.7, code["background"])
    _fill(m, uterus < 0.85, FLUID_AMP, FLUID_ATT, code["gallbladder"])
    m[0][(uterus < 0.85) & (uterus > 0.7) & (g[1] < cz)] = 1.3 * tex[(uterus < 0.85) & (uterus > 0.7) & (g[1] < cz)]
    hx, hz, hr = cx + float(rng.uniform(-3, 0)), cz + float(rng.uniform(-1, 2)), float(rng.uniform(1.8, 2.6))
    head = _ellipse(Ellipse(hx, hz, hr, hr * 0.8, rng.uniform(-30, 30)), g)
    _fill(m, head < 1.0, 0.35, 0.9, code["kidney"])
    m[0][(head >= 0.9) & (head < 1.0)] = 3.5  # skull
    m[0][(head < 0.8) & (np.abs(g[0] - hx) < 0.05)] = 2.0  # midline echo
    body = _ellipse(
        Ellipse(hx + hr + 2.2, hz + 0.5, rng.uniform(2.2, 3.0), rng.uniform(1.5, 2.0), rng.uniform(-20, 20)), g
    )
    _fill(m, body < 1.0, 1.0 * tex, 0.8, code["kidney"])
    spine = (body < 0.95) & (np.abs(g[1] - hz - 1.2) < 0.1) & (np.mod(g[0], 0.45) < 0.2)
    m[0][spine], m[1][spine] = 4.0, 3.0


def _kidney_only(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    from liveredge.edge.sim.anatomy import draw_kidney

    draw_kidney(p, rng, m[0], m[2], np.zeros_like(m[0]))


def _neck(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    z0 = p.wall_cm
    m[0][(g[1] > z0) & (g[1] < z0 + 0.6)] = 0.6 * tex[(g[1] > z0) & (g[1] < z0 + 0.6)]  # strap muscles
    for side in (-1, 1):
        lobe = _ellipse(Ellipse(side * 1.9, z0 + 1.6, rng.uniform(1.2, 1.7), rng.uniform(0.8, 1.1)), g) < 1.0
        _fill(m, lobe, 1.5 * np.exp(0.1 * tex), 0.8, code["kidney"])
        carotid = _ellipse(Ellipse(side * 3.6, z0 + 1.8, 0.35, 0.35), g)
        m[0][(carotid >= 1.0) & (carotid < 1.25)] = 2.5
        _fill(m, carotid < 1.0, FLUID_AMP, BLOOD_ATT, code["vessel"])
    trachea = _ellipse(Ellipse(0.0, z0 + 1.6, 1.0, 0.9), g)
    ring = (trachea >= 0.9) & (trachea < 1.0) & (g[1] < z0 + 1.6)
    _fill(m, ring, 4.0, 2.0, code["wall"])
    _fill(m, (trachea < 0.9), 0.05, 30.0, code["lung"])  # air: shadow below


def _vessel_long(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    z = p.wall_cm + float(rng.uniform(1.0, 2.5))
    slope, r = float(rng.uniform(-0.12, 0.12)), float(rng.uniform(0.3, 0.5))
    centre = z + slope * g[0]
    fascia = np.abs(np.sin((g[1] + 0.05 * tex) * rng.uniform(3, 6))) > 0.97
    m[0][fascia] = 1.8
    d = np.abs(g[1] - centre)
    m[0][(d >= r) & (d < r + 0.08)] = 2.6  # intima-media
    _fill(m, d < r, FLUID_AMP, BLOOD_ATT, code["vessel"])


def _lung(
    p: Patient,
    rng: np.random.Generator,
    g: tuple[np.ndarray, np.ndarray],
    tex: np.ndarray,
    m: Maps,
    code: dict[str, int],
) -> None:
    pleura = p.wall_cm + 0.1
    below = g[1] >= pleura
    _fill(m, below, 0.04, 0.4, code["lung"])
    m[0][(g[1] >= pleura) & (g[1] < pleura + 0.12)] = 5.0
    for k in range(2, 8):  # A-lines: the pleura repeated at multiples of its depth, fading
        m[0][np.abs(g[1] - k * pleura) < 0.08] = 4.0 * 0.7**k
    for _ in range(int(rng.integers(0, 4))):  # B-lines: vertical comet tails to the bottom
        x = float(rng.uniform(-4, 4))
        m[0][below & (np.abs(g[0] - x) < 0.12)] = 1.6


_DRAW: dict[str, Callable[..., None]] = {
    "cardiac": _cardiac,
    "bladder": _bladder,
    "obstetric": _obstetric,
    "kidney": _kidney_only,
    "thyroid": _neck,
    "vessels": _vessel_long,
    "lung": _lung,
}


def scene_maps(p: Patient, grid: tuple[np.ndarray, np.ndarray], region: dict[str, int]) -> Maps:
    """Amplitude, attenuation and label maps of scene ``p`` on the anatomy ``grid``."""
    rng = np.random.default_rng([zlib.crc32(p.patient_id.encode()), p.seed & 0xFFFFFFFF, 13])
    n = cv2.GaussianBlur(rng.standard_normal(grid[0].shape).astype(np.float32), (0, 0), 4.0)
    tex = np.exp(p.texture_sigma * (n - n.mean()) / (n.std() + 1e-6)).astype(np.float32)
    amp, att = (0.8 * tex).astype(np.float32), np.full(grid[0].shape, 0.7, np.float32)
    label = np.full(grid[0].shape, region["background"], np.uint8)
    if p.scene in AIRLIKE:
        return np.zeros_like(amp), np.full_like(att, 0.2), label
    _DRAW[p.scene](p, rng, grid, tex, (amp, att, label), region)
    return amp, att, label


def air_layers(p: Patient, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(amp, att) below the probe face for "air" and "gel": an anechoic gel layer (gel only), then
    reverberation bands of the probe face every ~3.5 mm, fading."""
    gel = p.fat_cm if p.scene == "gel" else 0.0
    period = 0.35
    k = np.floor(np.maximum(z - gel, 0) / period)
    band = (np.mod(np.maximum(z - gel, 0), period) < 0.06) & (z >= gel)
    amp = np.where(band, 3.0 * 0.72**k, 0.0).astype(np.float32)
    return amp, np.full(z.shape, 0.2, np.float32)
