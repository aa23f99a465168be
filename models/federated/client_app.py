"""The Flower ClientApp a clinic's SuperNode runs: fine-tune or evaluate the global model on the clinic's own data.

The clinic's data folder reaches it only through its SuperNode's node config (``data-dir``, ``clinic-index``);
what it sends back is :mod:`liveredge.models.federated.wire`'s reply: weights and aggregate metrics. A marker
``DATA/.liveredge-fed/round-N.started`` (local, never sent) lets the fault drill kill a node mid-round.
SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, Context, Message, MessageType
from flwr.clientapp import ClientApp
from flwr.clientapp.mod import LocalDpMod
from flwr.clientapp.typing import ClientAppCallable

from liveredge.edge.errors import ConfigError
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models.federated import learn
from liveredge.models.federated.wire import ARRAYS, CONFIG, reply

MARKERS = ".liveredge-fed"


def local_dp(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Optional differential privacy on what a clinic sends: when the server's config has ``dp-epsilon`` > 0,
    Flower's :class:`LocalDpMod` clips the weight update to ``dp-clip`` (L2) and adds Gaussian noise for
    (``dp-epsilon``, ``dp-delta``)-DP per round, before the reply leaves this process. Train replies only (an
    evaluate reply carries no weights)."""
    config = msg.content.config_records.get(CONFIG)
    epsilon = float(config.get("dp-epsilon", 0.0)) if config is not None else 0.0
    if msg.metadata.message_type != MessageType.TRAIN or epsilon <= 0:
        return call_next(msg, context)
    clip = float(config["dp-clip"])
    return LocalDpMod(clipping_norm=clip, sensitivity=clip, epsilon=epsilon, delta=float(config["dp-delta"]))(
        msg, context, call_next
    )


app = ClientApp(mods=[local_dp])


def _node(context: Context) -> tuple[Path, int]:
    data = context.node_config.get("data-dir")
    index = context.node_config.get("clinic-index")
    if not isinstance(data, str) or not Path(data).is_dir() or not isinstance(index, int):
        raise ConfigError(
            f"SuperNode node config needs data-dir (an existing folder) and clinic-index (an int); "
            f"got data-dir={data!r} clinic-index={index!r}"
        )
    return Path(data), index


def _setup(msg: Message, context: Context) -> tuple[Any, Any, learn.ClinicData, dict[str, Any], int]:
    """(model with the received weights, spec, this clinic's data, server config, clinic index)."""
    data_dir, index = _node(context)
    config = dict(msg.content[CONFIG])
    labels = tuple(json.loads(str(config["labels"])))
    spec = PreprocessSpec.from_json(str(config["spec"]))
    learn.configure(int(config["threads"]), int(config["seed"]) + index)
    data = learn.load_clinic(data_dir, spec, labels, float(config["val-frac"]), int(config["seed"]))
    model = learn.model_from_json(str(config["model-json"]), msg.content[ARRAYS].to_numpy_ndarrays())
    return model, spec, data, config, index


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Score the global model on held-out patients, fine-tune on training patients, return the new weights."""
    start = time.perf_counter()
    data_dir, _ = _node(context)
    (data_dir / MARKERS).mkdir(exist_ok=True)
    (data_dir / MARKERS / f"round-{int(msg.content[CONFIG]['server-round'])}.started").touch()
    model, spec, data, config, index = _setup(msg, context)
    n_classes = len(json.loads(str(config["labels"])))
    before = learn.score(model, data.val_images, data.val_y, spec, n_classes)
    settings = learn.FitSettings(
        int(config["local-epochs"]),
        int(config["batch-size"]),
        float(config["lr"]),
        float(config.get("proximal-mu", 0.0)),
        int(config["seed"]) * 1000 + int(config["server-round"]) * 10 + index,
    )
    loss = learn.fit(model, data.train_images, data.train_y, spec, tuple(json.loads(str(config["labels"]))), settings)
    after = learn.score(model, data.val_images, data.val_y, spec, n_classes)
    metrics = {
        "num-examples": int(len(data.train_y)),
        "clinic-index": index,
        "train-loss": loss,
        "val-frames": before.frames,
        "val-balanced-accuracy-global": before.balanced_accuracy,
        "val-accuracy-global": before.accuracy,
        "val-balanced-accuracy-local": after.balanced_accuracy,
        "wall-s": time.perf_counter() - start,
    }
    return reply(msg, metrics, ArrayRecord(model.get_weights()))


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Score the global model on this clinic's held-out patients; return only the aggregate numbers."""
    start = time.perf_counter()
    model, spec, data, config, index = _setup(msg, context)
    s = learn.score(model, data.val_images, data.val_y, spec, len(json.loads(str(config["labels"]))))
    metrics = {
        "num-examples": s.frames,
        "clinic-index": index,
        "val-frames": s.frames,
        "val-balanced-accuracy": s.balanced_accuracy,
        "val-accuracy": s.accuracy,
        "wall-s": time.perf_counter() - start,
    }
    return reply(msg, metrics)
