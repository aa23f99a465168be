"""The one home of the simulator's seed discipline: which seeds train, which validate, which only report.

Two kinds of seed choose what the phantom simulator draws:

- a **profile** seed ``N`` names the scanner ``random:N`` (:func:`~liveredge.edge.sim.profiles.random_profile`);
- a **patient** seed is the ``seed`` of :func:`~liveredge.edge.sim.patient.make_patient` (and of the
  :class:`~liveredge.edge.sim.scanner.Scanner` that images that patient).

Each kind has three disjoint ranges (half-open ``[start, stop)``), one per purpose:

============  ========================  ================================  ===========================================
purpose       profile seeds             patient seeds                     what may use it
============  ========================  ================================  ===========================================
training      0 – 99,999                0 – 1,999,999,999                 fitting weights, augmentation, calibration
                                                                          data for int8 conversion
validation    100,000 – 199,999         2,000,000,000 – 2,999,999,999     anything that CHOOSES: early stopping,
                                                                          model selection, thresholds, gates,
                                                                          temperature scaling, harmonisation targets
benchmark     900,000 – 999,999         3,000,000,000 – 3,999,999,999     ``liveredge benchmark`` only: reported,
                                                                          never used to choose anything
============  ========================  ================================  ===========================================

Seeds outside every range (profile seeds 200,000–899,999 and >= 1,000,000; patient seeds >= 4,000,000,000)
are unassigned: free for tests and ad hoc experiments, never for a reported number. The simulator masks
seeds to 32 bits (``seed & 0xFFFFFFFF``), so a seed outside ``0 .. 2**32 - 1`` would alias another one and
is always refused. The named sites ``S1``..``S6`` have no seed: the shipped zoo trained on S1-S5 and chose
with S6 (augmentation, network width, the int8 gate), so they count as training/validation profiles and
are refused for the benchmark. A result used to choose anything
is validation, whatever range its frames came from. All images are SIMULATED, not for clinical use.
"""

from __future__ import annotations

from dataclasses import dataclass

from liveredge.edge.errors import ConfigError

PURPOSES: tuple[str, ...] = ("training", "validation", "benchmark")
SEED_KINDS: tuple[str, ...] = ("profile", "patient")
SEED_LIMIT = 2**32  # the simulator keeps the low 32 bits of every seed
NAMED_SITE_PURPOSES: tuple[str, ...] = ("training", "validation")  # S1..S6: used by the shipped zoo


@dataclass(frozen=True)
class SeedRange:
    """Seeds ``start <= s < stop`` of one ``kind`` ("profile" | "patient") reserved for one ``purpose``."""

    kind: str
    purpose: str
    start: int
    stop: int

    def __contains__(self, seed: object) -> bool:
        return isinstance(seed, int) and not isinstance(seed, bool) and self.start <= seed < self.stop

    def seed(self, index: int) -> int:
        """The ``index``-th seed of the range (``start + index``); ConfigError when it runs past ``stop``."""
        if not 0 <= index < self.stop - self.start:
            raise ConfigError(
                f"{self.purpose} {self.kind} seed index {index} is outside the range "
                f"0..{self.stop - self.start - 1} ({self.describe()})"
            )
        return self.start + index

    def describe(self) -> str:
        return f"{self.purpose} {self.kind} seeds {self.start:,}-{self.stop - 1:,}"


RANGES: dict[tuple[str, str], SeedRange] = {
    ("profile", "training"): SeedRange("profile", "training", 0, 100_000),
    ("profile", "validation"): SeedRange("profile", "validation", 100_000, 200_000),
    ("profile", "benchmark"): SeedRange("profile", "benchmark", 900_000, 1_000_000),
    ("patient", "training"): SeedRange("patient", "training", 0, 2_000_000_000),
    ("patient", "validation"): SeedRange("patient", "validation", 2_000_000_000, 3_000_000_000),
    ("patient", "benchmark"): SeedRange("patient", "benchmark", 3_000_000_000, 4_000_000_000),
}


def seed_range(kind: str, purpose: str) -> SeedRange:
    """The range of ``kind`` seeds reserved for ``purpose``; ConfigError for an unknown kind or purpose."""
    if kind not in SEED_KINDS:
        raise ConfigError(f"seed kind {kind!r} is unknown; use one of {', '.join(SEED_KINDS)}")
    if purpose not in PURPOSES:
        raise ConfigError(f"seed purpose {purpose!r} is unknown; use one of {', '.join(PURPOSES)}")
    return RANGES[(kind, purpose)]


def purpose_of(seed: int, kind: str) -> str | None:
    """The purpose whose ``kind`` range holds ``seed``, or None when it is unassigned."""
    seed_range(kind, PURPOSES[0])
    return next((r.purpose for (k, _), r in RANGES.items() if k == kind and seed in r), None)


def check_seed(seed: int, *, kind: str, purpose: str, what: str = "seed") -> int:
    """Return ``seed`` when it lies in the ``purpose`` range of ``kind``; otherwise raise ConfigError naming
    ``what`` (e.g. "profile random:7"), the range it belongs to, and the range it should come from."""
    want = seed_range(kind, purpose)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT:
        raise ConfigError(
            f"{what}: {kind} seed {seed!r} must be an integer 0..{SEED_LIMIT - 1:,} "
            "(the simulator keeps 32 bits, a larger seed aliases a smaller one)"
        )
    if seed not in want:
        got = purpose_of(seed, kind)
        where = f"the {got} range" if got else "no range (unassigned: tests and ad hoc use only)"
        raise ConfigError(
            f"{what}: {kind} seed {seed:,} is in {where}; {purpose} needs {want.describe()} (see docs/benchmark.md)"
        )
    return seed


def check_profile(name: str, purpose: str) -> str:
    """Return profile ``name`` when it may be used for ``purpose``: ``random:SEED`` with SEED in the purpose's
    profile range, or a named site ``S1``..``S6`` for training/validation only. ConfigError otherwise."""
    from liveredge.edge.sim.profiles import list_profiles

    seed_range("profile", purpose)
    if name in list_profiles():
        if purpose not in NAMED_SITE_PURPOSES:
            raise ConfigError(
                f"profile {name!r} is a named site the shipped models were trained and selected "
                f"on; {purpose} needs random:SEED with {seed_range('profile', purpose).describe()}"
            )
        return name
    head, _, text = name.partition(":")
    try:
        seed = int(text) if head == "random" else None
    except ValueError:
        seed = None
    if seed is None:
        raise ConfigError(f"profile {name!r}: use random:SEED (or S1..S6 for training/validation)")
    check_seed(seed, kind="profile", purpose=purpose, what=f"profile {name}")
    return name
