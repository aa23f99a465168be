"""Benchmark of the int8 toolchain → ``bench/results/convert.json``.

Model: ``models/zoo/liver_cnn.keras`` (the reference CNN) when present; otherwise a small stand-in CNN trained
here for a few seconds, and the JSON says so (``"reference_model_present": false``). Data: a fresh SIMULATED
dataset (sites S1-S5 for calibration, held-out site S6 for the gate). Measured in the same run:

* conversion + gate wall time (``liveredge convert`` pipeline, recovery on);
* agreement and ΔAUC (int8 vs float, LiteRT) on the held-out site, from the gate;
* size of the int8 model vs its float32 twin (same metadata);
* ms per invoke, batch 1, one thread: int8 vs float32 on the same frames (baseline = float32, same process).

Acceptance: agreement >= 0.995, |ΔAUC| <= 0.005, size <= 0.3x float, int8 >= 2x faster, convert+gate <= 60 s.
Everything here is SIMULATED data: not for clinical use.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "convert.json"
ZOO = ROOT / "models" / "zoo" / "liver_cnn.keras"


def _dataset(root: Path) -> tuple[Path, Path]:
    from liveredge.edge.sim.dataset import plan_dataset, write_dataset

    calib = write_dataset(
        root / "calib", plan_dataset(40, ["S1", "S2", "S3", "S4", "S5"], seed=11), 6, size=(256, 256), progress=False
    )
    val = write_dataset(root / "val", plan_dataset(48, ["S6"], seed=12), 5, size=(256, 256), progress=False)
    return calib.parent, val.parent


def _stand_in(calib: Path, folder: Path) -> Path:
    import keras

    from liveredge.convert import data
    from liveredge.edge.preprocess.spec import PreprocessSpec

    spec = PreprocessSpec()
    frames = data.load_frames(data.discover(calib), spec)
    keras.utils.set_random_seed(0)
    inp = keras.Input((128, 128, 1))
    x = keras.layers.Conv2D(16, 5, strides=2, activation="relu", padding="same")(inp)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(frames.x, frames.labels, epochs=40, batch_size=16, verbose=0)
    path = folder / "standin_cnn.keras"
    model.save(path)
    (folder / "standin_cnn.liveredge.json").write_text(
        json.dumps(
            {
                "name": "standin_cnn",
                "labels": ["normal", "steatosis", "fibrosis", "focal_lesion"],
                "preprocess": spec.to_dict(),
                "cam_output": None,
            }
        )
    )
    return path


def _speed(model: Path, float_model: Path, val: Path) -> dict[str, float]:
    from liveredge.convert import data
    from liveredge.convert.formats import time_invoke
    from liveredge.edge.model_meta import read_metadata

    spec = read_metadata(model).preprocess  # type: ignore[union-attr]
    x = data.load_frames(data.stratify(data.discover(val), 32), spec).x
    float_ms = time_invoke(float_model.read_bytes(), x, repeats=3)
    int8_ms = time_invoke(model.read_bytes(), x, repeats=3)
    return {"float32_ms": round(float_ms, 3), "int8_ms": round(int8_ms, 3), "speedup": round(float_ms / int8_ms, 2)}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as work:  # the data set and models, deleted after
        return _run(Path(work))


def _run(work: Path) -> int:
    from liveredge.convert.pipeline import ConvertRequest, convert
    from liveredge.edge.errors import GateFailed

    calib, val = _dataset(work)
    present = ZOO.is_file()
    model = ZOO if present else _stand_in(calib, work)
    start = time.perf_counter()
    try:
        result = convert(ConvertRequest(model=str(model), calib=str(calib), val=str(val), out=str(work / "m.tflite")))
        summary, passed = result.summary, True
    except GateFailed as exc:
        summary, passed = json.loads((work / "m.report.json").read_text()), False
        print(f"gate failed: {exc}", file=sys.stderr)
    seconds = time.perf_counter() - start
    metrics = {m["name"]: m for m in summary["gate"]["metrics"]}
    int8 = Path(summary["model"])
    twin = Path(summary["float_model"])
    speed = _speed(int8, twin, val)
    size_ratio = int8.stat().st_size / twin.stat().st_size
    weights = _weight_bytes(int8), _weight_bytes(twin)
    doc = {
        "note": "SIMULATED data; not for clinical use.",
        "reference_model_present": present,
        "model": str(model.relative_to(ROOT))
        if present
        else "stand-in CNN trained in this run (models/zoo/liver_cnn.keras absent)",
        "held_out_site": "S6",
        "validation_frames": summary["validation_frames"],
        "calibration_frames": summary["calibration"]["count"],
        "gate_passed": passed,
        "model_kind": summary["contract"]["kind"],
        "agreement": metrics["agreement"],
        "delta_auc": metrics["auc"],
        "float_auc": summary["gate"]["float_auc"],
        "int8_auc": summary["gate"]["int8_auc"],
        "size_bytes": {
            "int8": int8.stat().st_size,
            "float32": twin.stat().st_size,
            "ratio": round(size_ratio, 3),
            "weights_int8": weights[0],
            "weights_float32": weights[1],
            "weights_ratio": round(weights[0] / max(weights[1], 1), 3),
        },
        "invoke": speed,
        "convert_and_gate_s": round(seconds, 1),
        "attempts": [a["remedy"] for a in summary["attempts"]],
        "acceptance": {
            "agreement>=0.995": metrics["agreement"]["value"] >= 0.995,
            "|dAUC|<=0.005": abs(metrics["auc"]["value"]) <= 0.005,
            "size<=0.3x": size_ratio <= 0.3,
            "int8>=2x faster": speed["speedup"] >= 2.0,
            "convert+gate<=60s": seconds <= 60.0,
        },
        "cpu": _cpu(),
    }
    _write(doc)
    return 0


def _write(doc: dict[str, object]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc, indent=1))


def _weight_bytes(path: Path) -> int:
    """Bytes of constant tensor data (weights + biases): the file minus FlatBuffer structure, per-channel
    quantisation parameters (float32 scale + int64 zero point per channel) and metadata."""
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(path.read_bytes(), 0))
    return sum(
        len(tree.buffers[t.buffer].data)
        for g in tree.subgraphs
        for t in g.tensors
        if tree.buffers[t.buffer].data is not None
    )


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
