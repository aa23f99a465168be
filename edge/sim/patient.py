"""Simulated patients: condition, severity, a consistent seeded anatomy, and how their exam is taken.

Anatomy lives in the patient's *anatomy frame*, in physical cm: ``x`` lateral along the slice (patient's
right on screen-left), ``z`` depth below the skin where the probe of an untilted view touches it. A probe
sees only its own field of view of it (an 8 cm linear probe shows a piece of superficial liver, not a
shrunken abdomen); the exam's :class:`~liveredge.edge.sim.exam.View` places the probe. Organs sit deeper
in patients with a thicker body wall. The same ``(patient_id, condition, severity, lesion, seed)`` always
gives the same patient. SIMULATED patients, not for clinical use.

Amplitudes are scatterer amplitudes relative to normal liver parenchyma (1.0); attenuation is in
dB/cm/MHz (one way). Every grade draws its parameters from ranges that overlap the neighbouring grades
(patient-level variability), so no single number separates a class.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import CLASSES
from liveredge.edge.sim.exam import NEUTRAL, Operator, View, draw_operator, draw_view, exam_rng
from liveredge.edge.sim.geometry import fov_points
from liveredge.edge.sim.profiles import SiteProfile, get_profile

LESIONS: tuple[str, ...] = ("cyst", "haemangioma", "hcc", "metastasis")
MAX_SEVERITY: dict[str, int] = {"steatosis": 3, "fibrosis": 4}

LESION_VARIANTS: dict[str, tuple[str, ...]] = {
    "cyst": ("simple", "septated"),
    "haemangioma": ("typical", "atypical"),
    "hcc": ("halo", "mosaic", "isoechoic"),
    "metastasis": ("target", "hypoechoic", "hyperechoic"),
}
# Per grade: (low, high) ranges drawn per patient. Steatosis S0..S3: liver echo amplitude factor,
# attenuation (dB/cm/MHz), vessel-wall / diaphragm blur (cm), extra subcutaneous fat (cm).
_ST_AMP = ((0.85, 1.15), (1.25, 1.8), (1.6, 2.4), (2.1, 3.2))
_ST_ATT = ((0.42, 0.62), (0.52, 0.72), (0.60, 0.82), (0.70, 0.95))
_ST_BLUR = ((0.0, 0.05), (0.05, 0.25), (0.15, 0.4), (0.3, 0.6))
_ST_FAT = (0.0, 0.3, 0.5, 0.7)
# Fibrosis F0..F4: texture contrast (log-amplitude std), nodule scale (cm), surface bumps (cm). F1 is about
# normal and F2 subtle, as on real B-mode; the surface is nodular only at F3-F4.
_FIB_TEXTURE = ((0.03, 0.09), (0.05, 0.12), (0.08, 0.2), (0.2, 0.45), (0.55, 0.85))
_FIB_SCALE = (0.35, 0.4, 0.5, 0.65, 0.8)
_FIB_BUMPS = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.04), (0.0, 0.15), (0.25, 0.5))
LESION_DIAMETER_MM = (5.0, 50.0)  # 3/4 log-uniform over the range, 1/4 uniform over its upper half (see _diameter)
FLUID_AMP, FLUID_ATT = 0.012, 0.02  # anechoic fluid (cysts, gallbladder, ascites): amplitude, attenuation


@dataclass(frozen=True)
class Ellipse:
    """An ellipse in anatomy-frame cm: centre ``(cx, cz)``, semi-axes ``(ax, az)``, rotation ``angle_deg``."""

    cx: float
    cz: float
    ax: float
    az: float
    angle_deg: float = 0.0


@dataclass(frozen=True)
class Vessel:
    """A vessel segment in anatomy-frame cm: ``kind`` "hepatic" (anechoic) or "portal" (bright walls)."""

    kind: str
    x0: float
    z0: float
    x1: float
    z1: float
    radius: float


@dataclass(frozen=True)
class Lesion:
    """A focal lesion: ``kind`` in :data:`LESIONS`, its ellipse and ``variant`` (see
    :data:`LESION_VARIANTS`; "" = the kind's first)."""

    kind: str
    shape: Ellipse
    variant: str = ""

    @property
    def diameter_mm(self) -> float:
        """Mean diameter in mm."""
        return float(10.0 * (self.shape.ax + self.shape.az))


@dataclass(frozen=True)
class Patient:
    """A simulated patient. ``label`` is the model class (one of :data:`CLASSES`); ``severity`` is the
    steatosis grade 1..3, the fibrosis stage 1..4, or 0 (normal, focal lesion).

    Tissue parameters: ``liver_amp`` and ``kidney_amp`` (scatterer amplitude, normal liver = 1),
    ``liver_att`` (dB/cm/MHz), ``wall_blur_cm`` (vessel wall / diaphragm blur), ``texture_sigma`` and
    ``texture_scale_cm`` (coarse heterogeneous texture), ``surface_bump_cm`` (nodular surface),
    ``ascites_cm`` (fluid between wall and liver), ``wall_cm`` (abdominal wall thickness, fat included),
    ``fat_cm`` (subcutaneous fat, part of the wall), ``view`` and ``operator`` (how the exam is taken),
    ``scene`` (set, with label ``not_liver``, for what is not a liver exam: see ``scenes``),
    ``diaphragm`` (dome depth cm, curvature 1/cm, dome x cm: z = d0 + c (x - xc)^2), ``kidney``, ``gallbladder`` (or None), ``vessels``,
    ``lesions``.
    """

    patient_id: str
    condition: str
    label: str
    severity: int
    lesion: str | None
    seed: int
    liver_amp: float
    kidney_amp: float
    liver_att: float
    wall_blur_cm: float
    texture_sigma: float
    texture_scale_cm: float
    surface_bump_cm: float
    ascites_cm: float
    wall_cm: float
    diaphragm: tuple[float, float, float]
    kidney: Ellipse
    gallbladder: Ellipse | None
    vessels: tuple[Vessel, ...]
    lesions: tuple[Lesion, ...]
    fat_cm: float = 1.0
    view: View = field(default_factory=lambda: View("subcostal", -2.0, -8.0))
    operator: Operator = NEUTRAL
    scene: str = ""  # non-empty for a scene that is not a liver exam (``scenes.SCENES``)


def _check(condition: str, severity: int | None, lesion: str | None) -> tuple[int, str | None]:
    if condition not in CLASSES:
        raise ConfigError(f"unknown condition {condition!r}; use one of {', '.join(CLASSES)}")
    if condition in MAX_SEVERITY:
        top = MAX_SEVERITY[condition]
        sev = top if severity is None else severity
        if not isinstance(sev, int) or not 1 <= sev <= top:
            raise ConfigError(f"{condition} severity must be an integer 1..{top}, got {severity!r}")
    elif severity not in (None, 0):
        raise ConfigError(f"condition {condition!r} takes no severity (got {severity!r})")
    else:
        sev = 0
    if condition == "focal_lesion":
        lesion = lesion or "cyst"
        if lesion not in LESIONS:
            raise ConfigError(f"unknown lesion {lesion!r}; use one of {', '.join(LESIONS)}")
    elif lesion is not None:
        raise ConfigError(f"lesion {lesion!r} is only valid with condition 'focal_lesion'")
    return sev, lesion


def _vessels(rng: np.random.Generator, diaphragm_z: float, shift: float) -> tuple[Vessel, ...]:
    out: list[Vessel] = []
    top = 3.8 + shift
    # Hepatic veins fan out from a confluence deep on the left (towards the IVC).
    hx, hz = rng.uniform(-7.5, -5.0), diaphragm_z - rng.uniform(0.8, 1.6)
    for k in range(int(rng.integers(2, 4))):
        ang = np.deg2rad(rng.uniform(15, 30) + 22 * k)  # from horizontal, pointing up and to the right
        length = rng.uniform(4.5, 7.5)
        out.append(
            Vessel(
                "hepatic",
                hx,
                hz,
                hx + length * np.cos(ang),
                max(hz - length * np.sin(ang), top),
                rng.uniform(0.22, 0.38),
            )
        )
    # Portal branches in the middle of the liver, bright walls; plus cross-sections (short segments).
    px, pz = rng.uniform(-2.0, 1.0), rng.uniform(7.0, 9.0) + shift
    out.append(Vessel("portal", px - rng.uniform(2, 4), pz + rng.uniform(-1, 1), px, pz, rng.uniform(0.35, 0.55)))
    for _ in range(int(rng.integers(2, 5))):
        cx, cz = rng.uniform(-8.0, 1.0), rng.uniform(top, diaphragm_z - 2.0)
        out.append(
            Vessel("portal", cx, cz, cx + rng.uniform(-0.4, 0.4), cz + rng.uniform(-0.2, 0.2), rng.uniform(0.15, 0.3))
        )
    return tuple(out)


def _grow(e: Ellipse, m: float) -> Ellipse:
    return Ellipse(e.cx, e.cz, e.ax + m, e.az + m, e.angle_deg)


def ellipse_radius(e: Ellipse, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Normalised elliptic radius (1 on the boundary) of anatomy-frame points ``(x, z)``."""
    a = np.deg2rad(e.angle_deg)
    dx, dz = x - e.cx, z - e.cz
    u = dx * np.cos(a) + dz * np.sin(a)
    v = -dx * np.sin(a) + dz * np.cos(a)
    return np.sqrt((u / e.ax) ** 2 + (v / e.az) ** 2)


def _segment_distance(v: Vessel, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    dx, dz = v.x1 - v.x0, v.z1 - v.z0
    t = np.clip(((x - v.x0) * dx + (z - v.z0) * dz) / max(dx * dx + dz * dz, 1e-9), 0.0, 1.0)
    return np.hypot(x - v.x0 - t * dx, z - v.z0 - t * dz)


def parenchyma_ok(p: Patient, xa: np.ndarray, za: np.ndarray, depth: np.ndarray, r: float) -> np.ndarray:
    """Whether a lesion of radius ``r`` cm centred at anatomy-frame ``(xa, za)``, ``depth`` cm below the
    skin under the probe, lies inside liver parenchyma: below the capsule, above the diaphragm (with
    room for breathing), clear of kidney, gallbladder, vessels and ``p.lesions``."""
    ok = depth > p.wall_cm + p.ascites_cm + 2 * p.surface_bump_cm + r + 0.25
    d0, curv, xc = p.diaphragm
    ok &= za < d0 + curv * (xa - xc) ** 2 - r - 0.6
    ok &= ellipse_radius(_grow(p.kidney, r + 0.5), xa, za) > 1.0
    if p.gallbladder is not None:
        ok &= ellipse_radius(_grow(p.gallbladder, r + 0.3), xa, za) > 1.0
    for v in p.vessels:
        ok &= _segment_distance(v, xa, za) > v.radius + r + 0.1
    for les in p.lesions:
        ok &= ellipse_radius(_grow(les.shape, r + 0.2), xa, za) > 1.0
    return np.asarray(ok, bool)


def _lesion_count(rng: np.random.Generator, kind: str) -> int:
    probs = (0.4, 0.35, 0.25) if kind == "metastasis" else (0.75, 0.18, 0.07)
    return 1 + int(rng.choice(3, p=probs))


def _diameter(rng: np.random.Generator) -> float:
    """A lesion diameter in mm: log-uniform over LESION_DIAMETER_MM (small lesions common), mixed 1:3 with
    uniform over its upper half, so large lesions still reach the top decile after the shrinking that
    small fields of view (linear probes under a thick wall) force."""
    lo, hi = LESION_DIAMETER_MM
    if rng.uniform() < 0.25:
        return float(rng.uniform((lo + hi) / 2, hi))
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _place_one(
    rng: np.random.Generator,
    p: Patient,
    fov: tuple[np.ndarray, np.ndarray, np.ndarray],
    kind: str,
    diameter_mm: float | None,
) -> Lesion | None:
    xa, za, depth = fov
    r = (_diameter(rng) if diameter_mm is None else float(diameter_mm)) / 20.0  # radius cm
    while r >= 0.24:
        idx = np.flatnonzero(parenchyma_ok(p, xa, za, depth, r))
        if idx.size:
            k = int(rng.choice(idx))
            jit = rng.uniform(-0.3, 0.3, 2)
            shape = Ellipse(
                float(xa[k] + jit[0]),
                float(za[k] + jit[1]),
                r,
                r * float(rng.uniform(0.8, 1.15)),
                float(rng.uniform(-40, 40)),
            )
            variants = LESION_VARIANTS[kind]
            return Lesion(kind, shape, variants[int(rng.integers(0, len(variants)))])
        r *= 0.8
    return None


def place_lesions(
    rng: np.random.Generator,
    p: Patient,
    kind: str,
    fov_xz: tuple[np.ndarray, np.ndarray],
    count: int | None = None,
    diameter_mm: float | None = None,
) -> Patient:
    """``p`` with ``count`` (default: drawn) more lesions of ``kind`` placed at random in the liver
    parenchyma seen from the probe-frame points ``fov_xz`` (see ``geometry.fov_points``; pass a subset to
    choose where), diameters ``diameter_mm`` or drawn over :data:`LESION_DIAMETER_MM`, shrunk when the
    visible liver is too small. At least one lesion always results."""
    x, z = fov_xz
    fov = (*p.view.to_anatomy(np.asarray(x, np.float32), np.asarray(z, np.float32)), np.asarray(z, np.float32))
    n = _lesion_count(rng, kind) if count is None else count
    for _ in range(n):
        les = _place_one(rng, p, fov, kind, diameter_mm)
        if les is None:
            break
        p = replace(p, lesions=(*p.lesions, les))
    if not p.lesions:  # no room at all: a small one just under the capsule in the middle of the view
        zc = p.wall_cm + p.ascites_cm + 2 * p.surface_bump_cm + 0.6
        xa, za = p.view.to_anatomy(np.array([0.0], np.float32), np.array([zc], np.float32))
        p = replace(p, lesions=(Lesion(kind, Ellipse(float(xa[0]), float(za[0]), 0.3, 0.3), LESION_VARIANTS[kind][0]),))
    return p


def _ascites(rng: np.random.Generator, stage: int) -> float:
    """Ascites thickness (cm): usually at F4, sometimes a thin rim at F3."""
    if stage == 4 and rng.uniform() < 0.7:
        return float(rng.uniform(0.4, 1.6))
    if stage == 3 and rng.uniform() < 0.25:
        return float(rng.uniform(0.2, 0.5))
    return 0.0


def _tissue(rng: np.random.Generator, disease: np.random.Generator, g_st: int, g_fib: int) -> dict[str, float]:
    """Liver and kidney tissue parameters for steatosis grade ``g_st`` and fibrosis stage ``g_fib``.

    Each parameter is its grade's range at a quantile drawn per PATIENT (from ``rng``), so one patient
    shown at rising grades changes monotonically while different patients overlap between grades."""
    q = rng.uniform(0.0, 1.0, 6)

    def at(lo_hi: tuple[float, float], u: float) -> float:
        return float(lo_hi[0] + u * (lo_hi[1] - lo_hi[0]))

    base = at(_ST_AMP[0], q[0])
    liver_amp = base * (at(_ST_AMP[g_st], q[1]) if g_st else 1.0) * (1.0 + 0.15 * q[5] if g_fib >= 2 else 1.0)
    return dict(
        liver_amp=float(liver_amp),
        kidney_amp=float(base * rng.uniform(0.6, 0.95)),
        liver_att=at(_ST_ATT[g_st], q[2]),
        wall_blur_cm=at(_ST_BLUR[g_st], q[3]),
        texture_sigma=at(_FIB_TEXTURE[g_fib], q[4]),
        texture_scale_cm=_FIB_SCALE[g_fib] * float(rng.uniform(0.8, 1.2)),
        surface_bump_cm=at(_FIB_BUMPS[g_fib], q[5]),
        ascites_cm=_ascites(disease, g_fib),
    )


def _organs(rng: np.random.Generator, shift: float) -> dict[str, object]:
    """Diaphragm, kidney, gallbladder (or None) and vessels; ``shift`` cm deeper behind a thicker wall."""
    diaphragm = (rng.uniform(11.2, 12.4) + shift, rng.uniform(0.035, 0.06), rng.uniform(-7.0, -4.0))
    kidney = Ellipse(
        rng.uniform(3.4, 4.6),
        rng.uniform(9.6, 10.8) + shift,
        rng.uniform(3.9, 4.6),
        rng.uniform(1.7, 2.1),
        rng.uniform(-28, -15),
    )
    gallbladder = Ellipse(
        rng.uniform(-3.0, -1.0),
        rng.uniform(4.2, 5.2) + shift,
        rng.uniform(1.5, 2.1),
        rng.uniform(0.7, 1.0),
        rng.uniform(5, 25),
    )
    has_gb = rng.uniform() < 0.75
    return {
        "diaphragm": tuple(float(v) for v in diaphragm),
        "kidney": kidney,
        "gallbladder": gallbladder if has_gb else None,
        "vessels": _vessels(rng, diaphragm[0], shift),
    }


def make_patient(
    patient_id: str,
    condition: str,
    *,
    severity: int | None = None,
    lesion: str | None = None,
    seed: int = 0,
    view: str | None = None,
    profile: SiteProfile | None = None,
    lesion_mm: float | None = None,
) -> Patient:
    """Make a simulated patient with a consistent anatomy and the exam it gets.

    ``condition``: "normal" | "steatosis" (``severity`` 1..3, default 3) | "fibrosis" (1..4, default 4;
    the model class "fibrosis" means F2-F4, F1 is simulable but mild) | "focal_lesion" (``lesion``
    "cyst" | "haemangioma" | "hcc" | "metastasis", default "cyst"). ``view``: one of ``exam.VIEWS``
    (default: drawn). ``profile``: the scanner the exam uses, so lesions are placed where its field of
    view (at the operator's depth) sees liver (default S1); ``lesion_mm``: exactly one lesion of that diameter
    (default: 1-3 lesions of drawn sizes). Invalid input -> ConfigError.
    """
    if lesion_mm is not None and not 2.0 <= lesion_mm <= 80.0:
        raise ConfigError(f"lesion_mm must be between 2 and 80 mm, got {lesion_mm!r}")
    sev, lesion = _check(condition, severity, lesion)
    # Anatomy and exam depend on (patient_id, seed) only, so one patient can be shown with every condition.
    rng = np.random.default_rng([zlib.crc32(patient_id.encode()), seed & 0xFFFFFFFF])
    disease = np.random.default_rng(
        [zlib.crc32(f"{patient_id}|{condition}|{sev}|{lesion}".encode()), seed & 0xFFFFFFFF]
    )
    ex = exam_rng(patient_id, seed)
    the_view, operator = draw_view(ex, view), draw_operator(ex)
    g_st = sev if condition == "steatosis" else 0
    g_fib = sev if condition == "fibrosis" else 0
    tissue = _tissue(rng, disease, g_st, g_fib)
    fat = float(rng.uniform(0.4, 2.6) + _ST_FAT[g_st] * disease.uniform(0.0, 1.0))
    wall_cm = fat + float(rng.uniform(0.8, 1.5))
    p = Patient(
        patient_id=patient_id,
        condition=condition,
        label=condition,
        severity=sev,
        lesion=lesion,
        seed=seed,
        wall_cm=float(wall_cm),
        lesions=(),
        fat_cm=fat,
        view=the_view,
        operator=operator,
        **_organs(rng, wall_cm - 2.2),  # type: ignore[arg-type]  # the helpers' dicts hold each field's own type
        **tissue,  # type: ignore[arg-type]  # the helpers' dicts hold each field's own type
    )
    if lesion is None:
        return p
    exam_profile = operator.apply(profile or get_profile("S1"), p.liver_att)
    x, z = fov_points(exam_profile)
    apex = None if exam_profile.kind == "linear" else exam_profile.probe_radius_cm
    clear = ~the_view.in_rib_shadow(x, z, p.fat_cm + 0.45 * (p.wall_cm - p.fat_cm), apex)
    return place_lesions(
        disease, p, lesion, (x[clear], z[clear]), count=None if lesion_mm is None else 1, diameter_mm=lesion_mm
    )
