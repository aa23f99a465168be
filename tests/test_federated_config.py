"""``liveredge federate``'s configuration and clinic plan (pure Python: runs without flwr or TensorFlow)."""

from __future__ import annotations

import pytest

from liveredge.cli.main import main
from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.seeds import purpose_of
from liveredge.models.federated.config import FederateConfig, clinic_plans, unseen_plan


def _seed(profile: str) -> int:
    return int(profile.split(":")[1])


def test_clinics_get_distinct_training_profiles_and_the_unseen_site_a_validation_one() -> None:
    cfg = FederateConfig(clinics=5, seed=3)
    plans = clinic_plans(cfg)
    assert len({p.profile for p in plans}) == 5 and len({p.seed for p in plans}) == 5
    assert all(purpose_of(_seed(p.profile), "profile") == "training" for p in plans)
    unseen = unseen_plan(cfg)
    assert purpose_of(_seed(unseen.profile), "profile") == "validation"
    assert unseen.profile not in {p.profile for p in plans}
    bench = unseen_plan(FederateConfig(unseen_purpose="benchmark"))
    assert purpose_of(_seed(bench.profile), "profile") == "benchmark"


def test_one_dropout_never_stalls_a_round_by_default() -> None:
    assert FederateConfig(clinics=3).min_nodes == 2
    assert FederateConfig(clinics=3, min_clinics=3).min_nodes == 3
    assert FederateConfig(rounds=3, local_epochs=2).total_local_epochs == 6


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"clinics": 1}, "--clinics"),
        ({"patients_per_clinic": 4}, "--patients-per-clinic"),
        ({"strategy": "fedsgd"}, "--strategy"),
        ({"min_clinics": 4}, "--min-clinics"),
        ({"val_frac": 1.0}, "--val-frac"),
        ({"unseen_purpose": "training"}, "--unseen"),
        ({"round_timeout_s": 0}, "--round-timeout"),
        ({"dp_epsilon": -1.0}, "--dp-epsilon"),
        ({"dp_delta": 0.0}, "--dp-delta"),
    ],
)
def test_bad_settings_name_the_option(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        FederateConfig(**kw)  # type: ignore[arg-type]


def test_cli_refuses_bad_input_with_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["federate", "--out", str(tmp_path / "r"), "--clinics", "3", "--drop-clinic", "4"]) == 2
    assert "--drop-clinic 4" in capsys.readouterr().err
    assert main(["federate", "--out", str(tmp_path / "r"), "--superlink", "nohost"]) == 2
    assert "--superlink 'nohost'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before simulating anything


def _log() -> dict[str, object]:
    clinic = {"val-balanced-accuracy-global": 0.5}
    return {
        "connected_at_start": 3,
        "fault_drill": {"clinic": "clinic2", "round": 1},
        "rounds": [
            {
                "round": 1,
                "sent_to": 3,
                "replied": 2,
                "bytes_down": 30,
                "bytes_up": 20,
                "wall_s": 5.0,
                "dropped_nodes": ["77"],
                "dropped_clinics": [None],
                "errors": {},
                "audit_problems": {},
                "clinics": {"0": clinic, "2": clinic},
            }
        ],
        "final_evaluate": {"clinics": {"0": {"val-balanced-accuracy": 0.75}, "2": {"val-balanced-accuracy": 0.5}}},
    }


def test_report_headlines_take_each_clinics_own_local_model_and_name_the_dropout() -> None:
    from liveredge.models.federated.report import build_report

    cfg = FederateConfig(rounds=1)
    names = [p.name for p in clinic_plans(cfg)]
    own = {"clinic1": 0.8, "clinic2": 0.4, "clinic3": 0.6}
    local = {
        n: {**{m: 0.1 for m in names}, n: own[n], "unseen": u} for n, u in zip(names, (0.3, 0.6, 0.9), strict=True)
    }
    fed = {"clinic1": 0.7, "clinic2": 0.65, "clinic3": 0.7, "unseen": 0.6}
    pooled = {"clinic1": 0.9, "clinic2": 0.8, "clinic3": 0.85, "unseen": 0.7}
    scores = {"local_only": local, "federated": fed, "centralized": pooled, "frames": {}}
    r = build_report(cfg, clinic_plans(cfg), unseen_plan(cfg), _log(), scores, {"total": 1.0}, joined=None)
    assert r["engine"] == "flower" and r["rounds"] == 1
    assert r["worst_clinic_balanced_accuracy"] == {"local_only": 0.4, "federated": 0.65, "centralized": 0.8}
    assert r["unseen_site_balanced_accuracy"]["local_only_mean"] == 0.6
    assert r["worst_clinic_gain_points_federated_vs_local"] == 25.0 and r["unseen_federated_at_least_local_mean"]
    assert r["bytes_per_round"][0]["bytes_total"] == 50
    assert r["dropouts"][0]["round"] == 1 and r["dropouts"][0]["clinic"].startswith("clinic2 (node 77")
    assert r["global_model_curves"] == {"clinic1": [0.5, 0.75], "clinic2": [None, None], "clinic3": [0.5, 0.5]}
