"""Interpreter selection, the Edge TPU delegate path (real load failure on a machine without one), the runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from runtime_fixtures import tiny_model_path

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.interpreter import (
    ClassifierRunner,
    DeviceSpec,
    EdgeTpuUnavailable,
    check_quant,
    edgetpu_library,
    find_backend,
    make_interpreter,
    parse_device,
)
from liveredge.edge.model_meta import QuantParams


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tiny_model_path(tmp_path_factory.mktemp("interp")).read_bytes()


def test_parse_device_forms() -> None:
    assert parse_device("cpu") == DeviceSpec()
    assert parse_device("edgetpu") == DeviceSpec("edgetpu", None)
    assert parse_device("EdgeTPU:usb:0") == DeviceSpec("edgetpu", "usb:0")
    assert parse_device("edgetpu:pci:1").label == "edgetpu:pci:1"
    for bad in ("gpu", "edgetpu:wifi:0", "cpu:1", "edgetpu:usb:x"):
        with pytest.raises(ConfigError):
            parse_device(bad)


def test_edgetpu_library_names_per_os() -> None:
    assert edgetpu_library("Linux") == "libedgetpu.so.1"
    assert edgetpu_library("Darwin") == "libedgetpu.1.dylib"
    assert edgetpu_library("Windows") == "edgetpu.dll"
    with pytest.raises(EdgeTpuUnavailable):
        edgetpu_library("Plan9")


def test_backend_order_and_missing_backends() -> None:
    import importlib.util

    # The first installed backend in order wins: ai-edge-litert in the main venv, tflite-runtime on a device.
    installed = [name for name in ("ai_edge_litert", "tflite_runtime") if importlib.util.find_spec(name)]
    assert installed, "no LiteRT backend installed in this environment"
    assert find_backend(("no_such_interpreter_pkg", *installed)).name == installed[0]
    with pytest.raises(ModelError, match="liveredge\\[edge\\]"):
        find_backend(("no_such_interpreter_pkg",))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # LiteRT Delegate.__del__ bug
def test_edgetpu_absent_is_a_clear_error_and_fallback_is_opt_in(model_bytes: bytes) -> None:
    if Path("/usr/lib/libedgetpu.so.1").exists():
        pytest.skip("this machine has an Edge TPU runtime")
    with pytest.raises(EdgeTpuUnavailable, match="cpu-fallback"):
        make_interpreter(model_bytes, device=parse_device("edgetpu:usb:0"))
    reasons: list[str] = []
    interp, used = make_interpreter(
        model_bytes, device=parse_device("edgetpu:usb:0"), cpu_fallback=True, on_fallback=reasons.append
    )
    assert used == "cpu" and len(reasons) == 1 and "libedgetpu.so.1" in reasons[0]
    assert interp.get_input_details()[0]["dtype"] == np.int8
    with pytest.raises(ConfigError):
        make_interpreter(model_bytes, num_threads=0)


def test_runner_reads_probabilities(model_bytes: bytes) -> None:
    interp, _ = make_interpreter(model_bytes, num_threads=1)
    runner = ClassifierRunner(interp, 4)
    assert runner.input_shape == (128, 128, 1) and runner.input_quant is not None
    assert runner.input_quant.dtype == "int8" and runner.cam() is None
    rng = np.random.default_rng(1)
    runner.set_input(rng.integers(-128, 127, (128, 128, 1), dtype=np.int8))
    runner.invoke()
    p = runner.probs()
    assert p.dtype == np.float32 and p.shape == (4,) and abs(float(p.sum()) - 1.0) < 0.03
    with pytest.raises(ModelError):
        runner.set_input(np.zeros((128, 128, 1), np.float32))
    with pytest.raises(ModelError, match="probability output"):
        ClassifierRunner(interp, 5)


def test_check_quant_tolerates_rounding_but_not_a_different_contract() -> None:
    tensor = QuantParams(0.003921555, -128, "int8")
    check_quant("input", tensor, QuantParams(1 / 255, -128, "int8"))
    check_quant("input", tensor, None)
    with pytest.raises(ModelError):
        check_quant("input", tensor, QuantParams(1 / 255, 0, "uint8"))
    with pytest.raises(ModelError):
        check_quant("input", None, QuantParams(1 / 255, -128, "int8"))


def test_class_activation_output_gives_a_heatmap(tmp_path: Path) -> None:
    from runtime_fixtures import trusted

    from liveredge.edge.runtime import FrameProcessor, load_model
    from liveredge.edge.sources import PrerenderedClip

    path = tiny_model_path(tmp_path, cam=True)
    model = load_model(path, trusted(path))
    runner = model.runner
    assert runner.cam_index is not None and runner.cam_index != runner.output_index
    frame = PrerenderedClip.from_sim("sim://?size=240x320&seed=3", 1, progress=False).frames[0]
    proc = FrameProcessor(model, heatmap=True)
    proc.infer(proc.prepare(frame)[0])
    cam = runner.cam()
    assert cam is not None and cam.ndim == 3 and cam.shape[2] == 4 and cam.dtype == np.float32
    from liveredge.edge.sources.base import Frame

    proc.process(Frame(frame, 0, 0.0, 0))
    heat = proc.last_heatmap
    assert heat is not None and heat.shape == (128, 128) and heat.dtype == np.uint8 and heat.max() > 128
