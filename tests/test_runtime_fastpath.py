"""Issue 20's cheaper per-frame work, piece by piece, against the old code (``legacy_frame_path``): the tracker's
probe-only grey read, ``cv2.LUT`` into reused buffers, the gate's cached region indices, no image-sized
allocations per frame; the peer loop's input equals the runtime's; thread counts by core count.

Frames are simulated (SIMULATED data, not for clinical use); the model is the shipped int8 CNN.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
from legacy_frame_path import LegacyGate, LegacyTracker, legacy_gray

from liveredge.edge.decisions.quality import ImageGate
from liveredge.edge.errors import ConfigError
from liveredge.edge.preprocess import Preprocessor, PreprocessSpec, RegionTracker, detect_region
from liveredge.edge.preprocess.tracker import _probe_gray
from liveredge.edge.runtime import FrameProcessor, LoadOptions, Pipeline, PipelineConfig, load_model
from liveredge.edge.runtime.cores import default_threads, pipeline_mode
from liveredge.edge.runtime.peer import PeerLoop
from liveredge.edge.sources import PrerenderedClip

ZOO = Path(__file__).resolve().parents[1] / "models" / "zoo" / "liver_cnn_int8.tflite"


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return list(PrerenderedClip.from_sim("sim://?condition=fibrosis&site=S3&seed=2", 20, progress=False).frames)


def test_tracker_reads_only_probe_pixels_with_the_same_grey_and_decisions(frames: list[np.ndarray]) -> None:
    region = detect_region(frames[0])
    new, old = RegionTracker(region, frames[0]), LegacyTracker(region, frames[0])
    rng = np.random.default_rng(1)
    trials = [
        *frames,
        np.zeros_like(frames[0]),
        rng.integers(0, 256, frames[0].shape, dtype=np.uint8),
        np.ascontiguousarray(np.roll(frames[3], 40, axis=1)),
        frames[4][:, :, ::-1],  # a strided view
        cv2.cvtColor(frames[5], cv2.COLOR_BGR2GRAY),
        cv2.cvtColor(frames[6], cv2.COLOR_BGR2BGRA),
    ]
    decisions = []
    for f in trials:
        full = cv2.cvtColor(
            f
            if f.ndim == 3 and f.shape[2] == 3
            else cv2.cvtColor(f, cv2.COLOR_GRAY2BGR if f.ndim == 2 else cv2.COLOR_BGRA2BGR),
            cv2.COLOR_BGR2GRAY,
        )
        np.testing.assert_array_equal(_probe_gray(f, new._flat), full.reshape(-1)[new._flat])
        decisions.append(new.update(f))
        assert decisions[-1] == old.update(f)
    assert not any(decisions[: len(frames)]) and decisions[len(frames)] and decisions[len(frames) + 2]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "float32", "int64"])
def test_lookup_equals_table_indexing_and_reuses_its_buffer(
    frames: list[np.ndarray], channels: int, dtype: str
) -> None:
    spec = PreprocessSpec(channels=channels)
    pre = Preprocessor.from_region(spec, detect_region(frames[0]))
    table = spec.float_lut().astype(dtype) if dtype in ("float32", "int64") else spec.lut(1 / 255, -128, dtype)
    for f in frames[:3]:
        gray = legacy_gray(pre, f)
        np.testing.assert_array_equal(pre.gray(f), gray)
        expected = np.repeat(table[gray][..., None], channels, axis=-1)
        out = pre.apply_table(f, table, reuse=True)
        assert out.dtype == table.dtype and out.shape == spec.input_shape
        np.testing.assert_array_equal(out, expected)
    assert pre.apply_table(frames[0], table, reuse=True) is out, "reuse=True writes into one kept buffer"
    assert pre.apply_table(frames[0], table) is not out


def test_gate_with_cached_region_indices_equals_the_old_gate(frames: list[np.ndarray]) -> None:
    pre = Preprocessor.from_region(PreprocessSpec(), detect_region(frames[0]))
    region = legacy_gray(pre, np.ascontiguousarray(detect_region(frames[0]).mask)) > 127
    other = np.roll(region, 3, axis=0)  # a new region with the same pixel count: the old gate compares anyway
    new, old = ImageGate(), LegacyGate()
    seq = [
        (frames[0], region),
        (frames[0], region),
        (frames[1], region),
        (frames[2], other),
        (frames[3], None),
        (frames[4], region),
        (np.zeros_like(frames[5]), region),
        (frames[6], np.zeros_like(region)),
    ]
    for f, r in seq:
        g = legacy_gray(pre, f)
        assert new.check(g, r) == old.check(g, r)


def test_prepare_allocates_no_image_sized_array_per_frame(frames: list[np.ndarray]) -> None:
    proc = FrameProcessor(load_model(ZOO, LoadOptions(num_threads=1)))
    for f in frames:  # the region fit and its warm-up window happen here
        proc.prepare(f)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for f in frames * 2:
            proc.prepare(f)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    crop = proc.region.preprocessor.placement.crop  # the old path allocated the grey crop and a full grey frame
    assert peak - base < crop[2] * crop[3] // 4, f"a per-frame temporary of {peak - base} bytes"
    assert current - base < 4096


def test_peer_loop_feeds_the_model_what_the_runtime_feeds_it(frames: list[np.ndarray]) -> None:
    model = load_model(ZOO, LoadOptions(num_threads=1))
    proc = FrameProcessor(model)
    peer = PeerLoop(ZOO.read_bytes(), model.meta.preprocess, 1)
    x, _ = proc.prepare(frames[0])  # first frame: both use detect_region on it
    peer.preprocess(frames[0])
    np.testing.assert_array_equal(peer.x[0], x)
    peer.infer()
    proc.infer(x)
    assert peer.top1() == int(np.argmax(model.runner.probs()))


def test_thread_counts_and_pipeline_mode_follow_the_core_count(frames: list[np.ndarray]) -> None:
    assert [default_threads(n) for n in (1, 2, 3, 4, 8)] == [1, 2, 3, 4, 4]
    assert [pipeline_mode(n) for n in (1, 2, 4)] == ["serial", "staged", "staged"]
    assert 1 <= default_threads() <= 4
    model = load_model(ZOO, LoadOptions())  # no --threads: chosen by core count, and recorded
    assert model.threads == default_threads()
    pipe = Pipeline(PrerenderedClip(frames[:2]), FrameProcessor(model), [])
    assert pipe.mode == pipeline_mode()
    with pytest.raises(ConfigError, match="pipeline mode must be one of serial, direct, staged"):
        PipelineConfig(mode="parallel")
