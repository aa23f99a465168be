"""The benchmark suite: a fixed, versioned plan of simulated frames (pure: no rendering, no model).

Suite v1 (:data:`SUITE_VERSION`): ``profiles`` scanner profiles ``random:SEED`` with SEEDs from the benchmark
profile range (:mod:`liveredge.edge.sim.seeds`), taken in seed order and interleaved by probe kind so every
kind (curvilinear, phased, linear) is present once ``profiles >= 3``; per profile ``patients`` patients per
class (severities and lesion kinds cycled as in ``liveredge simulate dataset``) x ``frames`` cine frames, with
patient seeds from the benchmark patient range. Sweeps (:mod:`.sweeps`) add frames that vary one factor.
Every :class:`Case` is one frame to render; the same config always gives the same cases (``digest``).
A changed definition needs a new SUITE_VERSION. All frames are SIMULATED, not for clinical use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.dataset import FRAME_STRIDE
from liveredge.edge.sim.patient import CLASSES, LESIONS
from liveredge.edge.sim.profiles import KINDS, random_profile
from liveredge.edge.sim.seeds import check_profile, check_seed, seed_range

SUITE_VERSION = 1
FIBROSIS_STAGES = (2, 3, 4)  # the model class "fibrosis" means F2-F4
STEATOSIS_GRADES = (1, 2, 3)  # S1-S3, all the class "steatosis"
# Patient-seed index blocks inside the benchmark range, one per part of the suite (disjoint patients).
PATIENT_BLOCK = {"profile": 0, "lesion_size": 10_000_000, "lesion_position": 20_000_000, "ood": 30_000_000}


@dataclass(frozen=True)
class SuiteConfig:
    """Size of the suite. ``profiles`` scanner profiles; ``patients`` per class and profile; ``frames`` per
    patient; ``size`` screen (height, width) px; ``sweep_profiles`` profiles the gain/TGC/view sweeps use
    (``sweep_patients`` per class each); ``lesion_patients`` per lesion-size point and ``position_patients``
    per lesion-position point; ``sweeps`` False renders the per-profile suite only."""

    profiles: int = 24
    patients: int = 6
    frames: int = 2
    size: tuple[int, int] = (256, 256)
    sweep_profiles: int = 8
    sweep_patients: int = 2
    lesion_patients: int = 24
    position_patients: int = 16
    sweeps: bool = True

    def __post_init__(self) -> None:
        for name in (
            "profiles",
            "patients",
            "frames",
            "sweep_profiles",
            "sweep_patients",
            "lesion_patients",
            "position_patients",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= 1, got {value!r}")
        if self.profiles > 1000:
            raise ConfigError(f"--profiles must be <= 1000, got {self.profiles}")
        if len(self.size) != 2 or not 96 <= min(self.size) <= max(self.size) <= 4096:
            raise ConfigError(f"--size {self.size!r}: height and width must be 96..4096 px")


@dataclass(frozen=True)
class Case:
    """One frame of the suite. ``sweep`` "profile" (the per-profile suite) or a sweep name; ``point`` the
    profile name or the sweep point; the patient (``patient_id``, ``condition``, ``severity``, ``lesion``,
    ``patient_seed``); ``frame`` cine index; scanner changes: ``gain_offset_db`` added to the profile's gain,
    ``tgc_tilt_db`` (TGC bands get ``tilt x (-1, -0.5, 0, 0.5, 1)`` dB, near to far), ``view`` (None: drawn
    per exam by the simulator); lesion sweeps:
    ``lesion_mm`` diameter and ``lesion_target_cm`` (depth, lateral) of the centre, None = anywhere; ``scene``
    a non-liver scene kind (``scenes.SCENES``; condition "not_liver") for the out-of-distribution part."""

    sweep: str
    point: str
    profile: str
    patient_id: str
    condition: str
    severity: int | None
    lesion: str | None
    patient_seed: int
    frame: int
    gain_offset_db: float = 0.0
    tgc_tilt_db: float = 0.0
    view: str | None = None
    lesion_mm: float | None = None
    lesion_target_cm: tuple[float, float] | None = None
    scene: str | None = None


def suite_profiles(n: int) -> tuple[str, ...]:
    """``n`` benchmark profiles: seeds from the start of the benchmark range, interleaved by probe kind."""
    rng = seed_range("profile", "benchmark")
    buckets: dict[str, list[int]] = {k: [] for k in KINDS}
    index = 0
    while min(len(b) for b in buckets.values()) < n:
        seed = rng.seed(index)
        buckets[random_profile(seed).kind].append(seed)
        index += 1
    seeds = [buckets[KINDS[i % len(KINDS)]][i // len(KINDS)] for i in range(n)]
    return tuple(check_profile(f"random:{s}", "benchmark") for s in seeds)


def patient_seed(block: str, index: int) -> int:
    """Benchmark patient seed number ``index`` of a suite part (``PATIENT_BLOCK``), range-checked."""
    seed = seed_range("patient", "benchmark").seed(PATIENT_BLOCK[block] + index)
    return check_seed(seed, kind="patient", purpose="benchmark", what=f"benchmark {block} patient {index}")


def condition_of(cls: int, cycle: int) -> tuple[str, int | None, str | None]:
    """(condition, severity, lesion) for class index ``cls`` of the ``cycle``-th patient of that class."""
    condition = CLASSES[cls]
    if condition == "steatosis":
        return condition, STEATOSIS_GRADES[cycle % len(STEATOSIS_GRADES)], None
    if condition == "fibrosis":
        return condition, FIBROSIS_STAGES[cycle % len(FIBROSIS_STAGES)], None
    if condition == "focal_lesion":
        return condition, None, LESIONS[cycle % len(LESIONS)]
    return condition, None, None


def patient_cases(
    sweep: str, point: str, profile: str, index: int, cls: int, cycle: int, frames: int, **scan: object
) -> list[Case]:
    """The ``frames`` cases of the ``index``-th core patient (class ``cls``) seen by ``profile``."""
    condition, severity, lesion = condition_of(cls, cycle)
    seed = patient_seed("profile", index)
    pid = f"bench{SUITE_VERSION}-p{index:06d}"
    return [
        Case(sweep, point, profile, pid, condition, severity, lesion, seed, k * FRAME_STRIDE, **scan)  # type: ignore[arg-type]  # scan holds Case's own scan fields
        for k in range(frames)
    ]


def core_cases(cfg: SuiteConfig) -> list[Case]:
    """The per-profile suite: every profile x class x ``patients`` patients x ``frames`` frames."""
    out: list[Case] = []
    for p, profile in enumerate(suite_profiles(cfg.profiles)):
        for cls in range(len(CLASSES)):
            for j in range(cfg.patients):
                index = (p * len(CLASSES) + cls) * cfg.patients + j
                out += patient_cases("profile", profile, profile, index, cls, p * cfg.patients + j, cfg.frames)
    return out


def digest(cases: list[Case]) -> str:
    """SHA-256 of the planned cases: two results with the same digest scored the same frames' definitions."""
    text = json.dumps([asdict(c) for c in cases], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
