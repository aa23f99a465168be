"""Simulated patients: condition, severity and a consistent, seeded anatomy.

Anatomy lives in a *canonical* frame shared by every probe: ``x`` lateral in cm (−12..12,
patient's right on screen-left as usual), ``z`` depth along the beam in cm (0..16, skin at 0).
Each site profile maps its own field of view onto this frame (see ``geometry``), so the kidney,
gallbladder and lesions are in view for every probe. The same ``(patient_id, condition, severity,
lesion, seed)`` always gives the same anatomy. SIMULATED patients, not for clinical use.

Amplitudes are scatterer amplitudes relative to normal liver parenchyma (1.0); attenuation is in
dB/cm/MHz (one way).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from liveredge.edge.errors import ConfigError

CLASSES: tuple[str, ...] = ("normal", "steatosis", "fibrosis", "focal_lesion")
LESIONS: tuple[str, ...] = ("cyst", "haemangioma", "hcc", "metastasis")
MAX_SEVERITY: dict[str, int] = {"steatosis": 3, "fibrosis": 4}

# Steatosis grade S0..S3: liver echo gain (amplitude factor), attenuation, wall/diaphragm blur (cm).
_STEATOSIS_AMP = (1.0, 1.9, 2.6, 3.4)
_STEATOSIS_ATT = (0.50, 0.63, 0.76, 0.90)
_STEATOSIS_BLUR = (0.0, 0.15, 0.30, 0.50)
# Fibrosis grade F0..F4: texture contrast (log-amplitude std), nodule scale (cm), surface bumps (cm).
_FIB_TEXTURE = (0.06, 0.28, 0.50, 0.65, 0.80)
_FIB_SCALE = (0.35, 0.5, 0.6, 0.72, 0.85)
_FIB_BUMPS = (0.0, 0.08, 0.20, 0.30, 0.42)


@dataclass(frozen=True)
class Ellipse:
    """An ellipse in canonical cm: centre ``(cx, cz)``, semi-axes ``(ax, az)``, rotation ``angle_deg``."""

    cx: float
    cz: float
    ax: float
    az: float
    angle_deg: float = 0.0


@dataclass(frozen=True)
class Vessel:
    """A vessel segment in canonical cm: ``kind`` "hepatic" (anechoic) or "portal" (bright walls)."""

    kind: str
    x0: float
    z0: float
    x1: float
    z1: float
    radius: float


@dataclass(frozen=True)
class Lesion:
    """A focal lesion: ``kind`` in :data:`LESIONS` and its ellipse."""

    kind: str
    shape: Ellipse


@dataclass(frozen=True)
class Patient:
    """A simulated patient. ``label`` is the model class (one of :data:`CLASSES`); ``severity`` is the
    steatosis grade 1..3, the fibrosis stage 1..4, or 0 (normal, focal lesion).

    Tissue parameters: ``liver_amp`` and ``kidney_amp`` (scatterer amplitude, normal liver = 1),
    ``liver_att`` (dB/cm/MHz), ``wall_blur_cm`` (vessel wall / diaphragm blur), ``texture_sigma`` and
    ``texture_scale_cm`` (coarse heterogeneous texture), ``surface_bump_cm`` (nodular surface),
    ``ascites_cm`` (fluid between wall and liver), ``wall_cm`` (abdominal wall thickness),
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


def _vessels(rng: np.random.Generator, diaphragm_z: float) -> tuple[Vessel, ...]:
    out: list[Vessel] = []
    # Hepatic veins fan out from a confluence deep on the left (towards the IVC).
    hx, hz = rng.uniform(-7.5, -5.0), diaphragm_z - rng.uniform(0.8, 1.6)
    for k in range(int(rng.integers(2, 4))):
        ang = np.deg2rad(rng.uniform(15, 30) + 22 * k)  # from horizontal, pointing up and to the right
        length = rng.uniform(4.5, 7.5)
        out.append(Vessel("hepatic", hx, hz, hx + length * np.cos(ang), max(hz - length * np.sin(ang), 3.8),
                          rng.uniform(0.22, 0.38)))
    # Portal branches in the middle of the liver, bright walls; plus cross-sections (short segments).
    px, pz = rng.uniform(-2.0, 1.0), rng.uniform(7.0, 9.0)
    out.append(Vessel("portal", px - rng.uniform(2, 4), pz + rng.uniform(-1, 1), px, pz, rng.uniform(0.35, 0.55)))
    for _ in range(int(rng.integers(2, 5))):
        cx, cz = rng.uniform(-8.0, 1.0), rng.uniform(3.8, diaphragm_z - 2.0)
        out.append(Vessel("portal", cx, cz, cx + rng.uniform(-0.4, 0.4), cz + rng.uniform(-0.2, 0.2),
                          rng.uniform(0.15, 0.3)))
    return tuple(out)


def _lesions(rng: np.random.Generator, kind: str | None) -> tuple[Lesion, ...]:
    if kind is None:
        return ()
    count = 2 if kind == "metastasis" and rng.uniform() < 0.5 else 1
    out = []
    for k in range(count):
        r = rng.uniform(1.5, 2.2) * (0.8 if k else 1.0)
        cx = rng.uniform(-3.0, 0.5) + (3.6 if k else 0.0)  # a second metastasis sits to the right, shallower
        cz = rng.uniform(6.8, 8.0) - (2.6 if k else 0.0)
        out.append(Lesion(kind, Ellipse(cx, cz, r, r * rng.uniform(0.85, 1.1), rng.uniform(-30, 30))))
    return tuple(out)


def _ascites(rng: np.random.Generator, stage: int) -> float:
    """Ascites thickness (cm): always at F4, sometimes a thin rim at F3."""
    if stage == 4:
        return float(rng.uniform(0.9, 1.6))
    if stage == 3 and rng.uniform() < 0.4:
        return float(rng.uniform(0.2, 0.5))
    return 0.0


def make_patient(patient_id: str, condition: str, *, severity: int | None = None, lesion: str | None = None,
                 seed: int = 0) -> Patient:
    """Make a simulated patient with a consistent anatomy.

    ``condition``: "normal" | "steatosis" (``severity`` 1..3, default 3) | "fibrosis" (1..4, default 4;
    the model class "fibrosis" means F2-F4, F1 is simulable but mild) | "focal_lesion" (``lesion``
    "cyst" | "haemangioma" | "hcc" | "metastasis", default "cyst"). Invalid input -> ConfigError.
    """
    sev, lesion = _check(condition, severity, lesion)
    # Anatomy depends on (patient_id, seed) only, so one patient can be shown with every condition.
    rng = np.random.default_rng([zlib.crc32(patient_id.encode()), seed & 0xFFFFFFFF])
    disease = np.random.default_rng([zlib.crc32(f"{patient_id}|{condition}|{sev}|{lesion}".encode()), seed & 0xFFFFFFFF])
    g_st = sev if condition == "steatosis" else 0
    g_fib = sev if condition == "fibrosis" else 0
    base = rng.uniform(0.9, 1.1)
    liver_amp = base * _STEATOSIS_AMP[g_st] * (1.08 if g_fib >= 2 else 1.0)
    kidney_amp = base * rng.uniform(0.72, 0.9)
    att_jitter = rng.uniform(-0.03, 0.03)
    wall_cm = rng.uniform(1.8, 2.6)
    diaphragm = (rng.uniform(11.2, 12.4), rng.uniform(0.035, 0.06), rng.uniform(-7.0, -4.0))
    kidney = Ellipse(rng.uniform(3.4, 4.6), rng.uniform(9.6, 10.8), rng.uniform(3.9, 4.6), rng.uniform(1.7, 2.1),
                     rng.uniform(-28, -15))
    gallbladder = Ellipse(rng.uniform(-3.0, -1.0), rng.uniform(4.2, 5.2), rng.uniform(1.5, 2.1),
                          rng.uniform(0.7, 1.0), rng.uniform(5, 25))
    has_gb = rng.uniform() < 0.75
    vessels = _vessels(rng, diaphragm[0])
    lesions = _lesions(disease, lesion)
    if any(np.hypot(les.shape.cx - gallbladder.cx, les.shape.cz - gallbladder.cz) < les.shape.ax + gallbladder.ax
           for les in lesions):
        has_gb = False
    ascites = _ascites(disease, g_fib)
    return Patient(
        patient_id=patient_id, condition=condition, label=condition, severity=sev, lesion=lesion, seed=seed,
        liver_amp=float(liver_amp), kidney_amp=float(kidney_amp), liver_att=float(_STEATOSIS_ATT[g_st] + att_jitter),
        wall_blur_cm=_STEATOSIS_BLUR[g_st], texture_sigma=_FIB_TEXTURE[g_fib],
        texture_scale_cm=_FIB_SCALE[g_fib], surface_bump_cm=_FIB_BUMPS[g_fib], ascites_cm=float(ascites),
        wall_cm=float(wall_cm), diaphragm=tuple(float(v) for v in diaphragm),  # type: ignore[arg-type]
        kidney=kidney, gallbladder=gallbladder if has_gb else None, vessels=vessels, lesions=lesions,
    )
