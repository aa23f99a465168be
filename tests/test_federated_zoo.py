"""A real 2-clinic, 1-round federation from the zoo CNN as separate Flower processes (SuperLink + 2 SuperNodes +
``flwr run``), whose global model then converts through the int8 gate. Its own file so that a parallel run
(pytest-xdist, one file per worker) overlaps it with the fault drill and the message tests. SIMULATED data, not
for clinical use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

pytest.importorskip("flwr", reason="flwr is not installed: pip install 'liveredge[federated]' (part of the dev extra)")
pytest.importorskip("keras", reason="TensorFlow/keras is not installed (train extra)")

from federated_fixtures import TINY, processes_mentioning

from liveredge.models.federated.run import RunOptions, federate, simulate

# The zoo CNN fine-tuned by two clinics for one round: the whole-process test and the convert test share this ONE
# run (each costs ~90 s of the suite's 2 cores: Flower processes, each importing TensorFlow).
ZOO_RUN = dataclasses.replace(TINY, init="zoo", screen_size=(192, 192), learning_rate=1e-4, unseen_patients=60)


@pytest.fixture(scope="module")
def zoo_federation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("zoofed") / "run"
    return out, federate(ZOO_RUN, RunOptions(out, timeout_s=600))


@pytest.mark.timeout(900)
def test_two_clinics_one_round_as_separate_flower_processes(zoo_federation: tuple[Path, dict[str, object]]) -> None:
    run, report = zoo_federation
    saved = json.loads((run / "federated.json").read_text())
    assert saved["engine"] == "flower" and saved["flwr_version"] == report["flwr_version"] and saved["rounds"] == 1
    for key in ("local_only", "federated", "centralized"):
        assert 0.0 <= saved["worst_clinic_balanced_accuracy"][key] <= 1.0
    assert set(saved["unseen_site_balanced_accuracy"]) >= {"local_only_mean", "federated", "centralized"}
    (wire,) = saved["bytes_per_round"]
    assert wire["clinics_sent"] == wire["clinics_replied"] == 2 and wire["bytes_from_clinics"] > 0
    assert saved["dropouts"] == [] and saved["audit"] == {"replies_checked": 2, "problems": []}
    assert all(len(c) == 2 and None not in c for c in saved["global_model_curves"].values())
    assert "<svg" in (run / "federated.html").read_text()
    assert (run / "federation" / "federated_model.keras").is_file()
    logs = run / "logs"
    assert {p.stem for p in logs.glob("*.log")} == {"superlink", "supernode-1", "supernode-2", "flwr-run"}
    assert processes_mentioning(str(run)) == []  # every Flower process group was stopped


@pytest.mark.timeout(900)
def test_a_federated_zoo_model_converts_and_passes_the_gate(
    zoo_federation: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    """Two clinics fine-tune the shipped CNN for a round as separate Flower processes; the global model goes
    through ``liveredge convert`` like any other: calibrated on the coordinator's OWN frames (never a clinic's),
    gated on the validation-range unseen site with the zoo's budget (agreement 0.985, AUC 0.005)."""
    pytest.importorskip("tensorflow")
    from liveredge.convert.gate import GateBudget
    from liveredge.convert.pipeline import ConvertRequest, convert
    from liveredge.models.federated.config import ClinicPlan

    run, _ = zoo_federation
    model = run / "federation" / "federated_model.keras"
    own = simulate(ClinicPlan("coordinator", "random:5", 4242, "training"), 12, ZOO_RUN, tmp_path / "own")
    result = convert(
        ConvertRequest(
            model=str(model),
            calib=str(own),
            val=str(run / "unseen_site"),
            out=str(tmp_path / "fed_int8.tflite"),
            budget=GateBudget.parse("agreement=0.985,auc=0.005"),
            progress=False,
        )
    )
    gate = json.loads(Path(result.report_json).read_text())["gate"]
    assert result.passed and gate["passed"] and gate["n_frames"] >= 120, gate
    agreement = next(m for m in gate["metrics"] if m["name"] == "agreement")
    assert agreement["value"] >= 0.985
