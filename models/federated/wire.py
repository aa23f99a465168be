"""What crosses the wire between the ServerApp and a clinic's ClientApp, and the audit of every reply.

Server -> clinic: the model (architecture JSON + weights), the preprocessing spec, class names and training
settings. Clinic -> server: ONLY one ArrayRecord (the weights, same names and shapes as sent) and one MetricRecord
with the numeric keys below (counts and accuracies). No frames, patient IDs or file paths: :func:`audit_reply`
checks every reply the server receives, and tests/test_federated.py checks every reply a ClientApp makes.
"""

from __future__ import annotations

from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
from flwr.common.serde import recorddict_to_proto

ARRAYS, METRICS, CONFIG = "arrays", "metrics", "config"
TRAIN_METRICS: frozenset[str] = frozenset(
    {
        "num-examples",
        "clinic-index",
        "train-loss",
        "val-frames",
        "val-balanced-accuracy-global",
        "val-balanced-accuracy-local",
        "val-accuracy-global",
        "wall-s",
    }
)
EVAL_METRICS: frozenset[str] = frozenset(
    {"num-examples", "clinic-index", "val-frames", "val-balanced-accuracy", "val-accuracy", "wall-s"}
)


def payload_bytes(content: RecordDict) -> int:
    """Bytes of a message's serialised content (the protobuf Flower puts on the wire, before gRPC framing)."""
    return int(recorddict_to_proto(content).ByteSize())


def audit_reply(reply: RecordDict, *, kind: str, sent: ArrayRecord | None) -> list[str]:
    """Problems with a clinic's reply (empty list: only parameters and aggregate metrics).

    ``kind`` is "train" (one ArrayRecord with the names/shapes of ``sent`` + one MetricRecord) or "evaluate"
    (one MetricRecord). Metric keys must be in the allowed set and every value a single number.
    """
    allowed = TRAIN_METRICS if kind == "train" else EVAL_METRICS
    problems = [f"a ConfigRecord {name!r} (free text is not allowed back)" for name in reply.config_records]
    arrays = dict(reply.array_records)
    if kind == "train":
        if set(arrays) != {ARRAYS}:
            problems.append(f"ArrayRecords {sorted(arrays)} (expected exactly {ARRAYS!r})")
        elif sent is not None:
            got = {k: tuple(v.shape) for k, v in arrays[ARRAYS].items()}
            want = {k: tuple(v.shape) for k, v in sent.items()}
            if got != want:
                problems.append("the returned weights do not have the names and shapes of the model sent")
    elif arrays:
        problems.append(f"ArrayRecords {sorted(arrays)} in an evaluate reply")
    metrics = dict(reply.metric_records)
    if set(metrics) != {METRICS}:
        problems.append(f"MetricRecords {sorted(metrics)} (expected exactly {METRICS!r})")
    for key, value in metrics.get(METRICS, MetricRecord()).items():
        if key not in allowed:
            problems.append(f"metric {key!r} is not an allowed aggregate")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"metric {key!r} is not a single number")
    return problems


def reply(to: Message, metrics: dict[str, float], arrays: ArrayRecord | None = None) -> Message:
    """A ClientApp's reply: the metrics and, for training, the weights; nothing else."""
    content = RecordDict({METRICS: MetricRecord(dict(metrics.items()))})
    if arrays is not None:
        content[ARRAYS] = arrays
    return Message(content=content, reply_to=to)
