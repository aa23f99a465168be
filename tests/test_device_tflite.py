"""The device-style install runs real int8 inference: the committed tiny model through whatever interpreter the
runtime picks (LiteRT here; tflite-runtime 2.14 with numpy < 2 and no TensorFlow in ``make test-device``).

``LIVEREDGE_DEVICE_VENV=1`` (set by the Makefile's test-device target) additionally asserts that the device venv
really is one: no TensorFlow importable, numpy 1.x, and the tflite-runtime backend chosen.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.edge.integrity import verify_model
from liveredge.edge.interpreter import ClassifierRunner, find_backend, make_interpreter
from liveredge.edge.model_meta import read_metadata
from liveredge.edge.sources import SourceStatus, open_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODEL = FIXTURES / "tiny_int8.tflite"
DEVICE_VENV = os.environ.get("LIVEREDGE_DEVICE_VENV") == "1"


def _probe_inputs() -> np.ndarray:
    spec = importlib.util.spec_from_file_location("make_tiny_model", FIXTURES / "make_tiny_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.probe_inputs()


@pytest.mark.skipif(not DEVICE_VENV, reason="only inside the device-style venv (make test-device)")
def test_this_is_a_device_style_install() -> None:
    assert importlib.util.find_spec("tensorflow") is None, "TensorFlow must not be installed on the device"
    assert int(np.__version__.split(".")[0]) < 2
    assert find_backend().name == "tflite_runtime"


def test_fixture_model_is_verified_and_described() -> None:
    report = verify_model(MODEL)
    assert report.sha256 and report.sha256 in (FIXTURES / "tiny_int8.tflite.sha256").read_text()
    meta = read_metadata(MODEL)
    assert meta is not None and meta.labels == ("normal", "steatosis", "fibrosis", "focal_lesion")
    assert meta.preprocess.input_size == (128, 128) and meta.preprocess.channels == 1
    assert meta.input_quant is not None and meta.input_quant.dtype == "int8"


def test_int8_inference_matches_the_reference_outputs() -> None:
    expected = json.loads((FIXTURES / "tiny_int8.expected.json").read_text())
    meta = read_metadata(MODEL)
    assert meta is not None and meta.input_quant is not None and meta.output_quant is not None
    interpreter, used = make_interpreter(MODEL.read_bytes(), num_threads=1)
    runner = ClassifierRunner(interpreter, n_classes=4)
    assert used == "cpu" and runner.input_shape == (128, 128, 1) and runner.input_dtype == np.int8
    scale, zp = meta.input_quant.scale, meta.input_quant.zero_point
    got = []
    for sample in _probe_inputs():
        q = np.clip(np.round(sample[0] / scale) + zp, -128, 127).astype(np.int8)
        interpreter.set_tensor(runner.input_index, q[None])
        interpreter.invoke()
        got.append(interpreter.get_tensor(runner.output_index)[0].astype(int))
    # the same int8 kernels on every runtime: at most one quantisation step apart from TensorFlow's reference
    assert np.abs(np.array(got) - np.array(expected["outputs_int8"])).max() <= 1
    assert len({tuple(g) for g in got}) == 4  # the four inputs really lead to different outputs


def test_frames_from_a_video_run_through_the_model(tmp_path: Path) -> None:
    path = tmp_path / "probe.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    for i in range(6):
        writer.write(np.full((120, 160, 3), 30 * i, np.uint8))
    writer.release()
    interpreter, _ = make_interpreter(MODEL.read_bytes(), num_threads=1)
    runner = ClassifierRunner(interpreter, n_classes=4)
    source = open_source(str(path), rate="max")
    probs = []
    while (result := source.read(1.0)).status is SourceStatus.OK:
        gray = cv2.cvtColor(result.frame.image, cv2.COLOR_BGR2GRAY)
        q = (cv2.resize(gray, (128, 128), interpolation=cv2.INTER_AREA).astype(np.int16) - 128).astype(np.int8)
        runner.set_input(q[:, :, None])
        runner.invoke()
        probs.append(runner.probs())
    source.close()
    assert len(probs) == 6
    for p in probs:
        assert p.shape == (4,) and p.dtype == np.float32 and abs(float(p.sum()) - 1.0) < 0.03
    assert not np.allclose(probs[0], probs[-1])  # dark and bright frames give different outputs
