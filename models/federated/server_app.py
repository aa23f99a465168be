"""The Flower ServerApp: FedAvg or FedProx (Flower's own strategies) over the clinics' SuperNodes.

It starts from the zoo model (or a fresh one), and for each round lets the strategy sample the clinics and
aggregate their weights; it keeps what a report needs: per-clinic held-out balanced accuracy of the global model
(each clinic scores the model it receives before training on it; a last evaluate round scores the final one),
bytes on the wire per round, clinics that dropped out, and the audit of every reply. Results go to
``OUT/federation/`` (``rounds.json`` after every round, ``federated_model.keras`` + sidecar at the end).
SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context, Message
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, FedProx

from liveredge.edge.events import NOT_LIVER
from liveredge.models import dataset as ds
from liveredge.models.federated import learn
from liveredge.models.federated.wire import METRICS, audit_reply, payload_bytes

app = ServerApp()
LABELS: tuple[str, ...] = (*ds.DEFAULT_LABELS, NOT_LIVER)
START_WAIT_S = 180.0  # how long the first round waits for every clinic to connect before going with min-clinics


def _strategy(rc: dict[str, Any]) -> FedAvg:
    n = int(rc["min-clinics"])
    if rc["strategy"] == "fedprox":
        return FedProx(
            min_train_nodes=n, min_evaluate_nodes=n, min_available_nodes=n, proximal_mu=float(rc["proximal-mu"])
        )
    return FedAvg(min_train_nodes=n, min_evaluate_nodes=n, min_available_nodes=n)


def _wait_for_clinics(grid: Grid, expected: int) -> int:
    deadline = time.monotonic() + START_WAIT_S
    while len(list(grid.get_node_ids())) < expected and time.monotonic() < deadline:
        time.sleep(1.0)
    return len(list(grid.get_node_ids()))


def _exchange(
    grid: Grid, messages: list[Message], timeout: float, kind: str, sent: ArrayRecord | None
) -> tuple[list[Message], dict[str, Any]]:
    """Send, wait (at most ``timeout``), audit; returns (valid replies, what happened on the wire)."""
    targets = {m.metadata.dst_node_id for m in messages}
    down = sum(payload_bytes(m.content) for m in messages)
    replies = list(grid.send_and_receive(messages, timeout=timeout))
    ok = [r for r in replies if not r.has_error()]
    problems = {str(r.metadata.src_node_id): p for r in ok if (p := audit_reply(r.content, kind=kind, sent=sent))}
    valid = [r for r in ok if str(r.metadata.src_node_id) not in problems]
    errors = {str(r.metadata.src_node_id): r.error.reason for r in replies if r.has_error()}
    missing = sorted(targets - {r.metadata.src_node_id for r in valid})
    return valid, {
        "sent_to": len(targets),
        "replied": len(valid),
        "bytes_down": down,
        "bytes_up": sum(payload_bytes(r.content) for r in ok),
        "dropped_nodes": [str(n) for n in missing],
        "errors": errors,
        "audit_problems": problems,
    }


def _clinic_metrics(replies: list[Message]) -> dict[str, dict[str, float]]:
    out = {}
    for r in replies:
        m = dict(r.content[METRICS])
        out[str(int(m["clinic-index"]))] = {k: float(v) for k, v in m.items() if k != "clinic-index"}
    return out


def _train_config(rc: dict[str, Any], model: Any, spec: Any) -> ConfigRecord:
    return ConfigRecord(
        {
            "model-json": model.to_json(),
            "spec": spec.to_json(),
            "labels": json.dumps(list(LABELS)),
            "local-epochs": int(rc["local-epochs"]),
            "batch-size": int(rc["batch-size"]),
            "lr": float(rc["lr"]),
            "val-frac": float(rc["val-frac"]),
            "seed": int(rc["seed"]),
            "threads": int(rc["threads"]),
            "dp-epsilon": float(rc.get("dp-epsilon", 0.0)),
            "dp-delta": float(rc.get("dp-delta", 1e-5)),
            "dp-clip": float(rc.get("dp-clip", 1.0)),
        }
    )


def run_rounds(grid: Grid, rc: dict[str, Any], out: Path) -> dict[str, Any]:
    """The federation itself; writes ``rounds.json`` after every round and the final model at the end."""
    learn.configure(int(rc["threads"]), int(rc["seed"]))
    size = tuple(int(v) for v in str(rc["input-size"]).split("x"))
    model, spec = learn.initial_model(str(rc["init"]), LABELS, float(rc["width"]), size, int(rc["seed"]))
    strategy, config = _strategy(rc), _train_config(rc, model, spec)
    arrays = ArrayRecord(model.get_weights())
    log: dict[str, Any] = {"connected_at_start": _wait_for_clinics(grid, int(rc["clinics"])), "rounds": []}
    node_clinic: dict[str, int] = {}
    for r in range(1, int(rc["rounds"]) + 1):
        t0 = time.perf_counter()
        msgs = list(strategy.configure_train(r, arrays, ConfigRecord(dict(config)), grid))
        valid, wire = _exchange(grid, msgs, float(rc["round-timeout"]), "train", arrays)
        node_clinic.update({str(m.metadata.src_node_id): int(m.content[METRICS]["clinic-index"]) for m in valid})
        new_arrays, _ = strategy.aggregate_train(r, valid)
        arrays = new_arrays if new_arrays is not None else arrays
        wire["dropped_clinics"] = [node_clinic.get(n) for n in wire["dropped_nodes"]]
        log["rounds"].append(
            {"round": r, **wire, "clinics": _clinic_metrics(valid), "wall_s": time.perf_counter() - t0}
        )
        _write(out / "rounds.json", log)
    ev = list(strategy.configure_evaluate(int(rc["rounds"]), arrays, ConfigRecord(dict(config)), grid))
    valid, wire = _exchange(grid, ev, float(rc["round-timeout"]), "evaluate", None)
    log["final_evaluate"] = {**wire, "clinics": _clinic_metrics(valid)}
    model.set_weights(arrays.to_numpy_ndarrays())
    _save(model, spec, out)
    return log


def _save(model: Any, spec: Any, out: Path) -> None:
    from liveredge.models.export import Sidecar, write_sidecar

    model.save(out / "federated_model.keras")
    write_sidecar(out / "federated_model.liveredge.json", Sidecar("liver_cnn_federated", LABELS, spec, 1))


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Entry point Flower calls in the ServerApp process; outcome in OUT/federation/done.json or error.json."""
    rc = dict(context.run_config)
    out = Path(str(rc["out-dir"])) / "federation"
    out.mkdir(parents=True, exist_ok=True)
    try:
        log = run_rounds(grid, rc, out)
        _write(out / "rounds.json", log)
        _write(out / "done.json", {"ok": True})
    except Exception as exc:  # reported to the orchestrator, then re-raised for Flower's own log
        _write(out / "error.json", {"error": repr(exc), "traceback": traceback.format_exc()})
        raise
