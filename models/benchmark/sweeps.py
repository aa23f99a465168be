"""Benchmark sweeps: frames that vary ONE factor, each built by one small function (easy to adapt when the
simulator changes).

- ``lesion_size``: focal-lesion sensitivity vs lesion diameter (:data:`LESION_SIZES_MM`), lesions placed
  anywhere in the visible liver.
- ``lesion_position``: sensitivity of a :data:`POSITION_LESION_MM` lesion vs its centre's (depth, lateral)
  position (:data:`POSITIONS_CM`; probe frame, cm: depth below the skin, lateral from the probe axis).
- ``gain`` / ``tgc``: balanced accuracy with the operator's gain (:data:`GAIN_OFFSETS_DB`) or a TGC tilt
  (:data:`TGC_TILTS_DB`) changed on the sweep profiles' core patients (paired with the per-profile suite).
- ``view``: balanced accuracy per probe view (the simulator's :data:`VIEWS`).
- ``ood`` (not a sweep: scored by :func:`..score.ood`): the simulator's non-liver scenes (``scenes.SCENES``)
  on the sweep profiles, to measure how well a model's confidence (or its ``not_liver`` output) tells them
  from the liver frames of the per-profile suite.

Lesions are placed by :func:`place_lesion` through the simulator's own ``place_lesions`` (its
``parenchyma_ok`` rule: inside liver parenchyma, clear of vessels, kidney, gallbladder, diaphragm) on the
probe-frame points it would use itself (:func:`lesion_fov`), restricted to a target for the position sweep;
the sweep then replaces ``Patient.lesions`` with that ONE lesion. SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np

from liveredge.edge.sim.exam import VIEWS
from liveredge.edge.sim.geometry import fov_points
from liveredge.edge.sim.patient import CLASSES, LESIONS, Patient, place_lesions
from liveredge.edge.sim.profiles import TGC, SiteProfile, shifted_tgc
from liveredge.edge.sim.scenes import SCENES
from liveredge.models.benchmark.suite import (
    SUITE_VERSION,
    Case,
    SuiteConfig,
    patient_cases,
    patient_seed,
    suite_profiles,
)

LESION_SIZES_MM: tuple[float, ...] = (5, 10, 15, 20, 30, 50)
POSITION_LESION_MM = 20.0
POSITIONS_CM: tuple[tuple[float, float], ...] = tuple((d, x) for d in (4.0, 6.0, 8.0, 10.0) for x in (-2.0, 0.0, 2.0))
POSITION_TOLERANCE_CM = 1.0  # a position point's lesion centre lies within this distance of the target
GAIN_OFFSETS_DB: tuple[float, ...] = (-12, -6, 0, 6, 12)
TGC_TILTS_DB: tuple[float, ...] = (-8, -4, 4, 8)
TGC_BAND_WEIGHTS = (-1.0, -0.5, 0.0, 0.5, 1.0)  # tilt x weight = dB added to each TGC band (near -> far)


def _lesion_cases(
    sweep: str, points: list[tuple[str, float, tuple[float, float] | None]], per_point: int, profiles: tuple[str, ...]
) -> list[Case]:
    out: list[Case] = []
    for i, (name, mm, target) in enumerate(points):
        for j in range(per_point):
            index = i * per_point + j
            kind = LESIONS[index % len(LESIONS)]
            out.append(
                Case(
                    sweep,
                    name,
                    profiles[index % len(profiles)],
                    f"bench{SUITE_VERSION}-{sweep}-{index:06d}",
                    "focal_lesion",
                    None,
                    kind,
                    patient_seed(sweep, index),
                    0,
                    lesion_mm=float(mm),
                    lesion_target_cm=target,
                )
            )
    return out


def lesion_size_cases(cfg: SuiteConfig) -> list[Case]:
    """``lesion_patients`` focal-lesion patients per diameter, profiles cycled, lesion anywhere in view."""
    points = [(f"{mm:g}mm", mm, None) for mm in LESION_SIZES_MM]
    return _lesion_cases("lesion_size", points, cfg.lesion_patients, suite_profiles(cfg.profiles))  # type: ignore[arg-type]  # list invariance: the points' lesion positions are None


def lesion_position_cases(cfg: SuiteConfig) -> list[Case]:
    """``position_patients`` patients per (depth, lateral) target with a 20 mm lesion there."""
    points: list[tuple[str, float, tuple[float, float] | None]] = [
        (f"z{d:g}_x{x:+g}", POSITION_LESION_MM, (d, x)) for d, x in POSITIONS_CM
    ]
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
    """Each of the simulator's views (``exam.VIEWS``) on the sweep subset (elsewhere the view is drawn per exam)."""
    return [c for v in VIEWS for c in _core_subset(cfg, "view", v, view=v)]


def ood_cases(cfg: SuiteConfig) -> list[Case]:
    """``sweep_patients`` scenes of each non-liver kind on each of the first ``sweep_profiles`` profiles."""
    out: list[Case] = []
    for p, profile in enumerate(suite_profiles(cfg.profiles)[: min(cfg.sweep_profiles, cfg.profiles)]):
        for k, kind in enumerate(SCENES):
            for j in range(cfg.sweep_patients):
                index = (p * len(SCENES) + k) * cfg.sweep_patients + j
                out.append(
                    Case(
                        "ood",
                        kind,
                        profile,
                        f"bench{SUITE_VERSION}-ood-{index:06d}",
                        "not_liver",
                        None,
                        None,
                        patient_seed("ood", index),
                        0,
                        scene=kind,
                    )
                )
    return out


SWEEPS = {
    "lesion_size": lesion_size_cases,
    "lesion_position": lesion_position_cases,
    "gain": gain_cases,
    "tgc": tgc_cases,
    "view": view_cases,
}


def tgc_curve(base: TGC, tilt_db: float) -> TGC:
    """The profile's TGC slider offsets with a tilt added (dB per band, near to far)."""
    return shifted_tgc(base, [tilt_db * w for w in TGC_BAND_WEIGHTS])


def lesion_fov(patient: Patient, profile: SiteProfile) -> tuple[np.ndarray, np.ndarray]:
    """Probe-frame (x, z) cm where the simulator may put a lesion in this exam, as ``make_patient`` does:
    ``fov_points`` of the profile at the operator's depth, less the rib shadows (rib depth as there)."""
    exam = patient.operator.apply(profile, patient.liver_att)
    x, z = fov_points(exam)
    apex = None if exam.kind == "linear" else exam.probe_radius_cm
    rib_depth = patient.fat_cm + 0.45 * (patient.wall_cm - patient.fat_cm)
    clear = ~patient.view.in_rib_shadow(x, z, rib_depth, apex)
    return x[clear], z[clear]


def place_lesion(patient: Patient, case: Case, profile: SiteProfile, attempt: int) -> Patient | None:
    """``patient`` with exactly ONE lesion of ``case.lesion`` kind and ``case.lesion_mm`` diameter, placed by
    the simulator in its field of view (near ``case.lesion_target_cm`` when set); ``attempt`` draws another
    spot. None when no spot in view fits a lesion of that size (the simulator would have shrunk it)."""
    x, z = lesion_fov(patient, profile)
    if case.lesion_target_cm is not None:
        depth, lateral = case.lesion_target_cm
        near = np.hypot(x - lateral, z - depth) <= POSITION_TOLERANCE_CM
        x, z = x[near], z[near]
    mm = float(case.lesion_mm or 0.0)
    if x.size == 0 or mm <= 0:
        return None
    rng = np.random.default_rng([zlib.crc32(case.patient_id.encode()), case.patient_seed & 0xFFFFFFFF, attempt])
    placed = place_lesions(
        rng, replace(patient, lesions=()), case.lesion or LESIONS[0], (x, z), count=1, diameter_mm=mm
    )
    if len(placed.lesions) != 1 or abs(20.0 * placed.lesions[0].shape.ax - mm) > 1e-6:
        return None
    return placed
