"""The federation's fault drill as separate Flower processes: a clinic's SuperNode killed mid-round. Its own file
(not test_federated.py) so that a parallel run (pytest-xdist, one file per worker) overlaps it with the zoo
federation there: most of its ~2 minutes is Flower waiting out the killed node's heartbeat (2 x 30 s), not CPU.
SIMULATED data, not for clinical use."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

pytest.importorskip("flwr", reason="flwr is not installed: pip install 'liveredge[federated]' (part of the dev extra)")
pytest.importorskip("keras", reason="TensorFlow/keras is not installed (train extra)")

from federated_fixtures import TINY, processes_mentioning

from liveredge.models.federated.run import RunOptions, federate


@pytest.mark.timeout(600)
def test_a_clinic_killed_mid_round_does_not_stop_the_federation(tmp_path: Path) -> None:
    """The fault drill: clinic 3's SuperNode is killed as soon as it has started round 1. The round completes with
    the two others (min-available clinics = 2), the report names the dropout, the run ends, nothing is left."""
    cfg = dataclasses.replace(TINY, clinics=3, min_clinics=2)  # the kill is seen by Flower, not by a timeout
    report = federate(cfg, RunOptions(tmp_path / "run", drop_clinic=3, drop_round=1, timeout_s=480))
    assert report["fault_drill"]["clinic"] == "clinic3" and report["fault_drill"]["round"] == 1
    (wire,) = report["bytes_per_round"]
    assert wire["clinics_sent"] == 3 and wire["clinics_replied"] == 2
    (dropout,) = report["dropouts"]
    assert dropout["round"] == 1 and dropout["clinic"].startswith("clinic3"), dropout
    assert (tmp_path / "run" / "federation" / "federated_model.keras").is_file()
    assert processes_mentioning(str(tmp_path / "run")) == []
