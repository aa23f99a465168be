"""Benchmark sweeps: frames that vary ONE factor, each built by one small function (easy to adapt when the
simulator changes).

- ``lesion_size``: focal-lesion sensitivity vs lesion diameter (:data:`LESION_SIZES_MM`), lesions placed
  anywhere in the visible liver.
- ``lesion_position``: sensitivity of a :data:`POSITION_LESION_MM` lesion vs its centre's (depth, lateral)
  position (:data:`POSITIONS_CM`; depth below the skin, lateral from the probe axis, anatomy cm).
- ``gain`` / ``tgc``: balanced accuracy with the operator's gain (:data:`GAIN_OFFSETS_DB`) or a TGC tilt
  (:data:`TGC_TILTS_DB`) changed on the sweep profiles' core patients (paired with the per-profile suite).
- ``view``: balanced accuracy per probe view (:data:`VIEWS`).

Lesions are placed by :func:`place_lesion` (sampling inside the liver of ``anatomy.tissue_map``), so the
sweeps only rely on ``Patient.lesions``, ``tissue_map(p).label`` and its grid (``RES``, ``X0``, ``Z0``).
SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

import cv2
import numpy as np

from liveredge.edge.sim import anatomy
from liveredge.edge.sim.patient import CLASSES, LESIONS, Ellipse, Lesion, Patient
from liveredge.models.benchmark.suite import Case, SuiteConfig, patient_cases, patient_seed, suite_profiles

LESION_SIZES_MM: tuple[float, ...] = (5, 10, 15, 20, 30, 50)
POSITION_LESION_MM = 20.0
POSITIONS_CM: tuple[tuple[float, float], ...] = tuple((d, x) for d in (4.0, 6.0, 8.0, 10.0)
                                                      for x in (-4.5, -1.5, 1.5))
POSITION_TOLERANCE_CM = 0.75  # a position point's lesion centre lies within this distance of the target
GAIN_OFFSETS_DB: tuple[float, ...] = (-12, -6, 0, 6, 12)
TGC_TILTS_DB: tuple[float, ...] = (-8, -4, 4, 8)
TGC_BAND_WEIGHTS = (-1.0, -0.5, 0.0, 0.5, 1.0)  # tilt x weight = dB added to each TGC band (near -> far)
# TODO(simulator v2): list the simulator's views here (its VIEWS tuple) once Scanner(view=...) lands;
# render.make_scanner then passes view= through. Until then only the default view exists.
VIEWS: tuple[str, ...] = ("default",)
FOCAL = CLASSES.index("focal_lesion")
# The lesion centre needs this margin of liver (or vessel) around the disc, so it never cuts the capsule,
# kidney, gallbladder or diaphragm.
LESION_MARGIN_CM = 0.2


def _lesion_cases(sweep: str, points: list[tuple[str, float, tuple[float, float] | None]], per_point: int,
                  profiles: tuple[str, ...]) -> list[Case]:
    out: list[Case] = []
    for i, (name, mm, target) in enumerate(points):
        for j in range(per_point):
            index = i * per_point + j
            kind = LESIONS[index % len(LESIONS)]
            out.append(Case(sweep, name, profiles[index % len(profiles)], f"bench1-{sweep}-{index:06d}",
                            "focal_lesion", None, kind, patient_seed(sweep, index), 0, lesion_mm=float(mm),
                            lesion_target_cm=target))
    return out


def lesion_size_cases(cfg: SuiteConfig) -> list[Case]:
    """``lesion_patients`` focal-lesion patients per diameter, profiles cycled, lesion anywhere in view."""
    points = [(f"{mm:g}mm", mm, None) for mm in LESION_SIZES_MM]
    return _lesion_cases("lesion_size", points, cfg.lesion_patients, suite_profiles(cfg.profiles))  # type: ignore[arg-type]


def lesion_position_cases(cfg: SuiteConfig) -> list[Case]:
    """``position_patients`` patients per (depth, lateral) target with a 20 mm lesion there."""
    points = [(f"z{d:g}_x{x:+g}", POSITION_LESION_MM, (d, x)) for d, x in POSITIONS_CM]
    return _lesion_cases("lesion_position", points, cfg.position_patients, suite_profiles(cfg.profiles))


def _core_subset(cfg: SuiteConfig, sweep: str, point: str, **scan: object) -> list[Case]:
    """The first ``sweep_patients`` core patients per class of the first ``sweep_profiles`` profiles, frame 0."""
    out: list[Case] = []
    n_prof, n_pat = min(cfg.sweep_profiles, cfg.profiles), min(cfg.sweep_patients, cfg.patients)
    for p, profile in enumerate(suite_profiles(cfg.profiles)[:n_prof]):
        for cls in range(len(CLASSES)):
            for j in range(n_pat):
                index = (p * len(CLASSES) + cls) * cfg.patients + j
                out += patient_cases(sweep, point, profile, index, cls, p * cfg.patients + j, 1, **scan)
    return out


def gain_cases(cfg: SuiteConfig) -> list[Case]:
    """Gain offsets (dB, added to each profile's own gain) on the sweep subset."""
    return [c for g in GAIN_OFFSETS_DB for c in _core_subset(cfg, "gain", f"{g:+g}dB", gain_offset_db=float(g))]


def tgc_cases(cfg: SuiteConfig) -> list[Case]:
    """TGC tilts (dB at the far band; the near band gets the opposite) on the sweep subset."""
    return [c for t in TGC_TILTS_DB for c in _core_subset(cfg, "tgc", f"tilt{t:+g}dB", tgc_tilt_db=float(t))]


def view_cases(cfg: SuiteConfig) -> list[Case]:
    """Each view in :data:`VIEWS` on the sweep subset."""
    return [c for v in VIEWS for c in _core_subset(cfg, "view", v, view=v)]


SWEEPS = {"lesion_size": lesion_size_cases, "lesion_position": lesion_position_cases, "gain": gain_cases,
          "tgc": tgc_cases, "view": view_cases}


def tgc_curve(base: tuple[float, ...], tilt_db: float) -> tuple[float, ...]:
    """The profile's TGC slider offsets with a tilt added (dB per band, near to far)."""
    return tuple(float(b + tilt_db * w) for b, w in zip(base, TGC_BAND_WEIGHTS))


def lesion_candidates(patient: Patient, diameter_mm: float, target: tuple[float, float] | None) -> np.ndarray:
    """(N, 2) canonical (x, z) cm of grid cells where a lesion of ``diameter_mm`` fits inside the liver
    (``tissue_map(patient without lesions).label``), optionally within tolerance of ``target`` (depth, lateral)."""
    label = anatomy.tissue_map(replace(patient, lesions=())).label
    liver = label == anatomy.REGION["liver"]
    tissue = (liver | (label == anatomy.REGION["vessel"])).astype(np.uint8)
    r = int(np.ceil((diameter_mm / 20.0 + LESION_MARGIN_CM) / anatomy.RES))
    fits = cv2.erode(tissue, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)),
                     borderValue=0).astype(bool) & liver
    rows, cols = np.nonzero(fits)
    xz = np.stack([anatomy.X0 + anatomy.RES * (cols + 0.5), anatomy.Z0 + anatomy.RES * (rows + 0.5)], axis=1)
    if target is not None:
        depth, lateral = target
        xz = xz[np.hypot(xz[:, 0] - lateral, xz[:, 1] - depth) <= POSITION_TOLERANCE_CM]
    return xz


def place_lesion(patient: Patient, case: Case, attempt: int) -> Patient | None:
    """``patient`` with ONE circular lesion of ``case.lesion`` kind and ``case.lesion_mm`` diameter at a
    deterministic random fitting position (``attempt`` draws another one); None when nothing fits."""
    xz = lesion_candidates(patient, float(case.lesion_mm or 0.0), case.lesion_target_cm)
    if len(xz) == 0:
        return None
    rng = np.random.default_rng([zlib.crc32(case.patient_id.encode()), case.patient_seed & 0xFFFFFFFF, attempt])
    x, z = xz[int(rng.integers(0, len(xz)))]
    r = float(case.lesion_mm or 0.0) / 20.0
    lesion = Lesion(case.lesion or LESIONS[0], Ellipse(float(x), float(z), r, r, 0.0))
    return replace(patient, lesions=(lesion,))
