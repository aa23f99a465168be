"""Render suite cases with the phantom simulator and prepare them with the runtime's preprocessing.

:class:`Renderer` turns a :class:`~.suite.Case` into the uint8 model image (steps 1-4 of the model's
:class:`PreprocessSpec`, through :func:`liveredge.edge.preprocess.prepare_gray`: region detection + crop +
mask + resize, exactly what ``liveredge evaluate`` and training use). A case whose lesion cannot be placed
fully visible in the fan is ``skipped``; a frame where the runtime finds no ultrasound region is
``no_region``. SIMULATED data, not for clinical use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from liveredge.edge.errors import ConfigError, PreprocessError
from liveredge.edge.preprocess import prepare_gray
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.edge.sim import anatomy
from liveredge.edge.sim.exam import VIEWS
from liveredge.edge.sim.patient import Patient, make_patient
from liveredge.edge.sim.profiles import get_profile
from liveredge.edge.sim.scanner import Scanner
from liveredge.edge.sim.scenes import make_scene
from liveredge.models.benchmark.suite import Case
from liveredge.models.benchmark.sweeps import place_lesion, tgc_curve

LESION_ATTEMPTS = 12  # positions tried per lesion case before it is skipped (lesion not fully in the fan)


@dataclass(frozen=True)
class Rendered:
    """``status`` "ok" | "skipped" | "no_region"; ``image`` uint8 (h, w) model image when ok; ``lesion_cm``
    the placed lesion's (x, z) centre for lesion sweeps."""

    status: str
    image: np.ndarray | None = None
    lesion_cm: tuple[float, float] | None = None


def make_patient_for(case: Case) -> Patient:
    """The case's patient (or non-liver scene), examined in ``case.view`` (drawn per exam when None), with
    lesions placed where the case's scanner sees liver (as ``liveredge simulate dataset`` does)."""
    if case.scene is not None:
        return make_scene(case.patient_id, case.scene, seed=case.patient_seed)
    if case.view is not None and case.view not in VIEWS:
        raise ConfigError(f"view {case.view!r} is not one of the simulator's views {VIEWS}")
    return make_patient(
        case.patient_id,
        case.condition,
        severity=case.severity,
        lesion=case.lesion,
        seed=case.patient_seed,
        view=case.view,
        profile=get_profile(case.profile),
    )


def make_scanner(patient: Patient, case: Case, size: tuple[int, int]) -> Scanner:
    """The case's scanner: its profile with the gain offset and TGC tilt applied (the exam's operator
    settings come on top, inside ``Scanner``), at ``size``."""
    profile = get_profile(case.profile)
    profile = replace(
        profile,
        gain_db=profile.gain_db + case.gain_offset_db,
        tgc_curve_db=tgc_curve(profile.tgc_curve_db, case.tgc_tilt_db),
    )
    return Scanner(patient, profile, seed=case.patient_seed, size=size)


def lesion_fully_visible(scanner: Scanner, index: int) -> bool:
    """Whether every lesion pixel of frame ``index`` is inside the live region (none cut by the fan edge)."""
    lab = scanner.label_map(scanner.content_index(index))
    lesion = ((lab >= anatomy.LESION_CODE) & (lab != 255)).astype(np.uint8)
    if not lesion.any():
        return False
    grown = cv2.dilate(lesion, np.ones((5, 5), np.uint8)).astype(bool)
    return not bool(np.any(grown & (lab == 255)))


class Renderer:
    """Render cases in order, reusing the scanner while consecutive cases show the same scene."""

    def __init__(self, spec: PreprocessSpec, size: tuple[int, int]) -> None:
        self.spec, self.size = spec, size
        self._key: Case | None = None
        self._scanner: Scanner | None = None
        self._where: tuple[float, float] | None = None

    def _scene(self, case: Case) -> tuple[Scanner | None, tuple[float, float] | None]:
        key = replace(case, frame=0)
        if key == self._key:
            return self._scanner, self._where
        patient = make_patient_for(case)
        scanner, where = None, None
        if case.lesion_mm is None:
            scanner = make_scanner(patient, case, self.size)
        else:
            for attempt in range(LESION_ATTEMPTS):
                placed = place_lesion(patient, case, get_profile(case.profile), attempt)
                if placed is None:
                    break
                candidate = make_scanner(placed, case, self.size)
                if lesion_fully_visible(candidate, case.frame):
                    scanner, where = candidate, (placed.lesions[0].shape.cx, placed.lesions[0].shape.cz)
                    break
        self._key, self._scanner, self._where = key, scanner, where
        return scanner, where

    def render(self, case: Case) -> Rendered:
        scanner, where = self._scene(case)
        if scanner is None:
            return Rendered("skipped")
        frame = scanner.frame(case.frame)
        try:
            return Rendered("ok", prepare_gray(frame.image, self.spec), where)
        except PreprocessError:
            return Rendered("no_region", None, where)
