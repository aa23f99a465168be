"""Federated fine-tuning on Flower: what a ClientApp sends (only parameters and aggregate metrics), and a real
2-clinic, 1-round run from the zoo CNN as separate Flower processes (SuperLink + 2 SuperNodes + ``flwr run``),
whose model then converts through the int8 gate. The Flower-process runs have their own files, so that a
parallel run (pytest-xdist, one file per worker) overlaps them: test_federated_zoo.py (the 2-clinic run from the
zoo CNN, then converted) and test_federated_drill.py (the 3-clinic fault drill). This file: what a ClientApp sends.

Skipped, with the reason, where flwr is not installed (``make test`` installs the dev extra, which has it).
All data is SIMULATED, not for clinical use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("flwr", reason="flwr is not installed: pip install 'liveredge[federated]' (part of the dev extra)")
pytest.importorskip("keras", reason="TensorFlow/keras is not installed (train extra)")

from federated_fixtures import TINY
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.common.serde import recorddict_to_proto
from flwr.supercore.task_identity import TaskIdentity

from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models.dataset import read_manifest
from liveredge.models.federated import client_app, learn
from liveredge.models.federated.config import FederateConfig, clinic_plans
from liveredge.models.federated.run import run_config, simulate
from liveredge.models.federated.server_app import LABELS, _train_config
from liveredge.models.federated.wire import EVAL_METRICS, TRAIN_METRICS, audit_reply
from liveredge.models.frames import load_usable_frames


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(clinic_plans(TINY)[0], TINY.patients_per_clinic, TINY, tmp_path_factory.mktemp("fed") / "clinic1")


def _message(kind: str, arrays: ArrayRecord, config: ConfigRecord) -> Message:
    """A message as the ServerApp creates it (Flower's server runtime sets the task identity first)."""
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, 1, SUPERLINK_NODE_ID
    return Message(
        RecordDict({"arrays": arrays, "config": config}),
        dst_node_id=7,
        message_type=MessageType.TRAIN if kind == "train" else MessageType.EVALUATE,
    )


def _update_norm(got: list[np.ndarray], sent: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum((a.astype(np.float64) - b) ** 2) for a, b in zip(got, sent, strict=True))))


def _leaks(payload: bytes, data_dir: Path) -> list[str]:
    """Patient ids, paths, file names or whole frames of the clinic found in ``payload``."""
    manifest = read_manifest(data_dir, LABELS)
    found = [pid for pid in set(manifest.patients.tolist()) if pid.encode() in payload]
    found += [s for s in (str(data_dir), "frames/", ".png", "manifest") if s.encode() in payload]
    images, _ = load_usable_frames(manifest, PreprocessSpec(input_size=TINY.input_size))
    return found + [f"frame {i}" for i, img in enumerate(images) if img.any() and img.tobytes() in payload]


def test_client_replies_carry_only_parameters_and_aggregate_metrics(clinic: Path) -> None:
    learn.configure(1, 0)
    model, spec = learn.initial_model("fresh", LABELS, TINY.width, TINY.input_size, 0)
    arrays = ArrayRecord(model.get_weights())
    config = _train_config(run_config(TINY, clinic.parent), model, spec)
    config["server-round"] = 1
    context = Context(
        run_id=1, node_id=7, node_config={"data-dir": str(clinic), "clinic-index": 0}, state=RecordDict(), run_config={}
    )
    replies = {}
    for kind, allowed in (("train", TRAIN_METRICS), ("evaluate", EVAL_METRICS)):
        reply = client_app.app(message=_message(kind, arrays, ConfigRecord(dict(config))), context=context)
        assert not reply.has_error(), reply.error
        assert audit_reply(reply.content, kind=kind, sent=arrays) == []
        metrics = dict(reply.content["metrics"])
        assert set(metrics) <= allowed and metrics["clinic-index"] == 0
        assert _leaks(recorddict_to_proto(reply.content).SerializeToString(), clinic) == []
        replies[kind] = reply
    trained = replies["train"].content["arrays"].to_numpy_ndarrays()
    assert [a.shape for a in trained] == [w.shape for w in model.get_weights()]
    assert _update_norm(trained, model.get_weights()) > 0.05  # it did train (and DP's 0.01 clip below would bite)


def test_local_dp_clips_each_clinics_update_before_it_leaves(clinic: Path) -> None:
    learn.configure(1, 0)
    model, spec = learn.initial_model("fresh", LABELS, TINY.width, TINY.input_size, 0)
    sent = model.get_weights()
    clip = 0.01  # far below a real update's norm; epsilon so large that the noise is negligible
    dp = FederateConfig(**{**TINY.to_dict(), "dp_epsilon": 1e6, "dp_clip": clip})
    config = _train_config(run_config(dp, clinic.parent), model, spec)
    config["server-round"] = 1
    context = Context(
        run_id=1, node_id=7, node_config={"data-dir": str(clinic), "clinic-index": 0}, state=RecordDict(), run_config={}
    )
    reply = client_app.app(message=_message("train", ArrayRecord(sent), config), context=context)
    assert not reply.has_error(), reply.error
    got = reply.content["arrays"].to_numpy_ndarrays()
    assert 0 < _update_norm(got, sent) <= clip * 1.01
    assert audit_reply(reply.content, kind="train", sent=ArrayRecord(sent)) == []
    assert dp.privacy()["epsilon_total"] == 1e6 and FederateConfig().privacy() is None


def test_fedprox_term_keeps_the_update_near_the_global_model(clinic: Path) -> None:
    from liveredge.models.federated.server_app import _strategy

    assert type(_strategy({"strategy": "fedprox", "proximal-mu": 0.1, "min-clinics": 2})).__name__ == "FedProx"
    learn.configure(1, 0)
    model, spec = learn.initial_model("fresh", LABELS, TINY.width, TINY.input_size, 0)
    data = learn.load_clinic(clinic, spec, LABELS, TINY.val_frac, 0)
    sent, anchor, norms = model.get_weights(), [v.numpy() for v in model.trainable_weights], []
    for mu in (0.0, 50.0):  # the proximal term acts on the trainable weights (BatchNorm statistics move anyway)
        model.set_weights(sent)
        learn.fit(model, data.train_images, data.train_y, spec, LABELS, learn.FitSettings(2, 8, 1e-2, mu, 0))
        norms.append(_update_norm([v.numpy() for v in model.trainable_weights], anchor))
    assert norms[1] < 0.5 * norms[0], norms


def test_the_audit_catches_what_must_not_leave_a_clinic(clinic: Path) -> None:
    sent = ArrayRecord([np.zeros((3, 3), np.float32)])
    leaky = RecordDict(
        {
            "arrays": ArrayRecord([np.zeros((4, 3), np.float32)]),
            "metrics": MetricRecord({"num-examples": 4, "patient-s0-p00001": 1.0}),
            "note": ConfigRecord({"path": str(clinic / "frames" / "x.png")}),
        }
    )
    problems = " | ".join(audit_reply(leaky, kind="train", sent=sent))
    assert "ConfigRecord 'note'" in problems and "patient-s0-p00001" in problems and "shapes" in problems
    frames = RecordDict({"metrics": MetricRecord({"num-examples": [1.0, 2.0]}), "arrays": sent})
    assert len(audit_reply(frames, kind="evaluate", sent=None)) == 2  # a list metric and arrays in an evaluate reply
    assert _leaks(b"xx s0-p00001 " + str(clinic).encode(), clinic)  # the leak finder itself can fail
