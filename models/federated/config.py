"""The federation's configuration and the simulated clinics it runs over (pure Python: no TensorFlow, no flwr).

Clinic ``k`` images its patients with the scanner profile ``random:P_k``, ``P_k`` from the TRAINING profile range;
the unseen site comes from the VALIDATION range (it may inform choices) or, only as a reported final number, from
the BENCHMARK range (see :mod:`liveredge.edge.sim.seeds`). All data is SIMULATED, not for clinical use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.seeds import seed_range

STRATEGIES: tuple[str, ...] = ("fedavg", "fedprox")
UNSEEN_PURPOSES: tuple[str, ...] = ("validation", "benchmark")
ZOO = "zoo"  # --init value: the shipped reference CNN (models/zoo/liver_cnn.keras)
_PROFILE_STRIDE = 7919  # spreads clinics of one seed over the range (a prime: no two clinics share a profile)


@dataclass(frozen=True)
class FederateConfig:
    """Everything that defines one ``liveredge federate`` run (saved in ``federated.json``).

    ``init`` is ``"zoo"`` or ``"fresh"`` (a new network of ``width`` at ``input_size``: tests and smoke runs).
    ``min_clinics`` is Flower's min-available / min-train nodes: a round completes with that many replies.
    """

    clinics: int = 3
    patients_per_clinic: int = 32
    negatives_per_clinic: int = 8
    frames_per_patient: int = 4
    screen_size: tuple[int, int] = (256, 256)
    rounds: int = 3
    local_epochs: int = 2
    strategy: str = "fedavg"
    proximal_mu: float = 0.01
    learning_rate: float = 1e-4  # chosen on validation data for the v3 zoo start (docs/federated.md)
    batch_size: int = 16
    val_frac: float = 0.25
    seed: int = 0
    init: str = ZOO
    width: float = 0.25
    input_size: tuple[int, int] = (64, 64)
    min_clinics: int | None = None
    round_timeout_s: float = 1800.0
    unseen_patients: int = 24
    unseen_purpose: str = "validation"
    threads: int = 1
    dp_epsilon: float = 0.0
    dp_delta: float = 1e-5
    dp_clip: float = 1.0

    def __post_init__(self) -> None:
        if self.clinics < 2:
            raise ConfigError(f"--clinics {self.clinics}: a federation needs at least 2 clinics")
        if self.patients_per_clinic < 10:
            raise ConfigError(
                f"--patients-per-clinic {self.patients_per_clinic}: needs >= 10 so each clinic keeps "
                "patients of every class in its training and held-out splits"
            )
        if min(self.rounds, self.local_epochs, self.frames_per_patient, self.batch_size, self.threads) < 1:
            raise ConfigError("--rounds, --local-epochs, --frames-per-patient, --batch-size, --threads must be >= 1")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"--strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.unseen_purpose not in UNSEEN_PURPOSES:
            raise ConfigError(f"--unseen {self.unseen_purpose!r}: use one of {', '.join(UNSEEN_PURPOSES)}")
        if self.init not in (ZOO, "fresh"):
            raise ConfigError(f"--init {self.init!r}: use 'zoo' or 'fresh'")
        if not 0 < self.val_frac < 1 or self.learning_rate <= 0 or self.proximal_mu < 0:
            raise ConfigError("--val-frac must be in (0, 1), --lr > 0 and --proximal-mu >= 0")
        if self.min_clinics is not None and not 1 <= self.min_clinics <= self.clinics:
            raise ConfigError(f"--min-clinics {self.min_clinics}: must be in 1..{self.clinics}")
        if self.round_timeout_s <= 0:
            raise ConfigError("--round-timeout must be > 0 seconds")
        if self.dp_epsilon < 0 or not 0 < self.dp_delta < 1 or self.dp_clip <= 0:
            raise ConfigError("--dp-epsilon must be >= 0 (0: off), --dp-delta in (0, 1) and --dp-clip > 0")

    @property
    def min_nodes(self) -> int:
        """Replies a round needs (default: all but one clinic, so one dropout never stalls the run)."""
        return self.min_clinics if self.min_clinics is not None else max(1, self.clinics - 1)

    @property
    def total_local_epochs(self) -> int:
        """Epochs each baseline trains: the same number of passes over the data the federation makes."""
        return self.rounds * self.local_epochs

    def privacy(self) -> dict[str, Any] | None:
        """The differential-privacy guarantee of what each clinic sends (None when off): Flower's LocalDpMod gives
        (epsilon, delta) per round; over ``rounds`` rounds basic composition bounds it by (R eps, R delta)."""
        if self.dp_epsilon <= 0:
            return None
        return {
            "mechanism": "client-side L2 clipping of the weight update + Gaussian noise (Flower LocalDpMod)",
            "clipping_norm": self.dp_clip,
            "epsilon_per_round": self.dp_epsilon,
            "delta_per_round": self.dp_delta,
            "epsilon_total": self.rounds * self.dp_epsilon,
            "delta_total": self.rounds * self.dp_delta,
            "composition": "basic (sequential) composition over all rounds; a tighter accountant would give less",
            "not_covered": "the aggregate metrics each clinic reports (counts, held-out accuracies)",
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClinicPlan:
    """One simulated site: ``name`` (``clinic1``..), its scanner profile and the dataset seed."""

    name: str
    profile: str
    seed: int
    purpose: str


def clinic_plans(cfg: FederateConfig) -> list[ClinicPlan]:
    """The clinics of a run: distinct training-range profiles, distinct dataset seeds."""
    prange = seed_range("profile", "training")
    span = prange.stop - prange.start
    return [
        ClinicPlan(
            f"clinic{k + 1}",
            f"random:{prange.seed((cfg.seed * 1000 + k * _PROFILE_STRIDE) % span)}",
            cfg.seed * 1000 + k,
            "training",
        )
        for k in range(cfg.clinics)
    ]


def unseen_plan(cfg: FederateConfig) -> ClinicPlan:
    """The unseen site: a profile no clinic has, from the validation (default) or benchmark range."""
    prange = seed_range("profile", cfg.unseen_purpose)
    return ClinicPlan(
        "unseen",
        f"random:{prange.seed(cfg.seed % (prange.stop - prange.start))}",
        cfg.seed * 1000 + 999,
        cfg.unseen_purpose,
    )
