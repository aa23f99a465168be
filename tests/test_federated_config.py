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


@pytest.mark.parametrize(("kw", "needle"), [
    ({"clinics": 1}, "--clinics"), ({"patients_per_clinic": 4}, "--patients-per-clinic"),
    ({"strategy": "fedsgd"}, "--strategy"), ({"min_clinics": 4}, "--min-clinics"), ({"val_frac": 1.0}, "--val-frac"),
    ({"unseen_purpose": "training"}, "--unseen"), ({"round_timeout_s": 0}, "--round-timeout"),
])
def test_bad_settings_name_the_option(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        FederateConfig(**kw)  # type: ignore[arg-type]


def test_cli_refuses_bad_input_with_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["federate", "--out", str(tmp_path / "r"), "--clinics", "3", "--drop-clinic", "4"]) == 2
    assert "--drop-clinic 4" in capsys.readouterr().err
    assert main(["federate", "--out", str(tmp_path / "r"), "--superlink", "nohost"]) == 2
    assert "--superlink 'nohost'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before simulating anything
