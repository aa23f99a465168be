"""Architecture pre-check, NOT the deliverable int8 path (that is ``liveredge convert``, with its gate): export a
trained reference model to full-int8 TFLite with a plain ``TFLiteConverter`` (200 calibration frames from the
run's training split, through the runtime's preprocessing cache) so the models step can see early whether an
architecture quantises (ops used, accuracy on the held-out site via ``liveredge evaluate``).

    python -m liveredge.models.precheck_int8 WORK_DIR ARCH      # writes WORK_DIR/precheck/liver_ARCH_int8.tflite
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np


def precheck(work: Path, arch: str, n_calib: int = 200) -> Path:
    import keras
    import tensorflow as tf

    from liveredge.models import dataset as ds
    from liveredge.models.augment import to_model_input
    from liveredge.models.export import read_sidecar
    from liveredge.models.frames import load_frames

    run = work / "runs" / arch
    model = keras.models.load_model(run / f"liver_{arch}.keras")
    sidecar = read_sidecar(run / f"liver_{arch}.keras")
    if sidecar is None:
        from liveredge.edge.errors import ModelError

        raise ModelError(f"{run}: liver_{arch}.liveredge.json is missing; re-run the training")
    manifest = ds.read_manifest(work / "liver_sim")
    idx = ds.split_indices(manifest, json.loads((run / "splits.json").read_text()))
    images = load_frames(manifest, sidecar.preprocess)
    calib = np.random.default_rng(0).choice(idx["train"], min(n_calib, len(idx["train"])), replace=False)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([to_model_input(images[i : i + 1], sidecar.preprocess)] for i in calib)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    out = work / "precheck" / f"liver_{arch}_int8.tflite"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(conv.convert())
    shutil.copy(run / f"liver_{arch}.liveredge.json", out.with_name(f"liver_{arch}_int8.liveredge.json"))
    return out


if __name__ == "__main__":  # pragma: no cover
    from ai_edge_litert.interpreter import Interpreter

    path = precheck(Path(sys.argv[1]), sys.argv[2])
    interp = Interpreter(model_path=str(path))
    ops = sorted({d["op_name"] for d in interp._get_ops_details()})  # noqa: SLF001 - LiteRT has no public op list
    print(f"{path}: {path.stat().st_size} bytes, ops {ops}")
