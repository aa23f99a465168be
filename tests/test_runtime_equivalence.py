"""Issue 20: the faster per-frame path and the overlapped pipeline give the same records as the old path.

A simulated 640x480 clip (SIMULATED data) with a frozen stretch, a black frame, a moved fan and a resolution
change is replayed through (a) the pre-issue-20 path kept in ``legacy_frame_path`` (serial), (b) the new path
back to back and (c) the new path overlapped with ``invoke()`` (modes direct and staged, queued and paced); every
result record and the
exam summary must agree (decisions and flags exactly, probabilities within 1e-6). The model is the shipped int8
CNN (class-activation output, liver gate with the energy check), loaded through the verified path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from legacy_frame_path import LegacyProcessor

from liveredge.edge.events import ExamSummary, FrameResult, Quality
from liveredge.edge.runtime import FrameProcessor, LoadOptions, Pipeline, PipelineConfig, load_model
from liveredge.edge.runtime.bench import Collector
from liveredge.edge.sources import PrerenderedClip

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"
SIM = "sim://?condition=steatosis&site=S1&fps=60&seed=4"
FPS = 60.0


@pytest.fixture(scope="module")
def clip_frames() -> list[np.ndarray]:
    base = list(PrerenderedClip.from_sim(SIM, 24, progress=False).frames)
    moved = [np.ascontiguousarray(np.roll(f, 48, axis=1)) for f in base[8:12]]  # the fan moves: re-estimate
    smaller = [np.ascontiguousarray(f[:400, :560]) for f in base[12:16]]  # resolution change
    frozen = [base[18]] * 4  # the same image repeated: FROZEN
    return [*base[:18], *frozen, np.zeros_like(base[0]), *base[19:24], *moved, *smaller, *base[:6]]


def _run(
    processor: FrameProcessor, frames: list[np.ndarray], mode: str, rate: str = "max"
) -> tuple[list[FrameResult], Any]:
    """Replay with back-pressure (nothing dropped, smoothing on media time): ``rate="max"`` queues frames (the
    staged mode stages them), ``"realtime"`` paces them at 30 fps (the staged mode runs a frame latency-first
    when none is waiting behind it: how many depends on the machine's speed)."""
    sink = Collector()
    pipe = Pipeline(
        PrerenderedClip(frames, fps=30.0 if rate == "realtime" else FPS, rate=rate),
        processor,
        [sink],
        PipelineConfig(backpressure=True, mode=mode),
    )
    pipe.start_exam("EQ1")
    stats = pipe.run()
    pipe.finish()
    summaries = [e for e in sink.events if isinstance(e, ExamSummary)]
    assert stats.end == "end" and stats.dropped == 0 and len(summaries) == 1
    if mode == "direct":
        assert pipe.direct_frames == len(frames), "direct mode runs every frame latency-first"
    if mode == "staged" and rate == "max":
        assert pipe.direct_frames < len(frames), "queued frames are staged"
    return sink.results, summaries[0]


def _same(a: FrameResult, b: FrameResult) -> None:
    where = f"frame seq {a.seq}"
    assert (a.seq, a.label, a.quality, a.exam_id, a.site_sha256) == (
        b.seq,
        b.label,
        b.quality,
        b.exam_id,
        b.site_sha256,
    ), where
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-6, err_msg=where)
    np.testing.assert_allclose(a.smoothed, b.smoothed, atol=1e-6, err_msg=where)
    assert abs(a.confidence - b.confidence) <= 1e-6, where


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model(ZOO, LoadOptions(num_threads=2))


@pytest.fixture(scope="module")
def legacy(model: Any, clip_frames: list[np.ndarray]) -> dict[str, tuple[list[FrameResult], Any, int]]:
    """The old path's records, exam summary and region estimate count, per replay rate (computed once)."""
    out = {}
    for rate in ("max", "realtime"):
        proc = LegacyProcessor(model)
        results, summary = _run(proc, clip_frames, "serial", rate=rate)
        out[rate] = (results, summary, proc.region.estimates)
    return out


@pytest.mark.parametrize(
    ("mode", "rate"), [("serial", "max"), ("direct", "max"), ("staged", "max"), ("staged", "realtime")]
)
def test_new_path_gives_every_record_of_the_old_path(
    model: Any, clip_frames: list[np.ndarray], legacy: Any, mode: str, rate: str
) -> None:
    old, old_summary, old_estimates = legacy[rate]
    proc = FrameProcessor(model)
    new, new_summary = _run(proc, clip_frames, mode, rate=rate)
    assert len(old) == len(new) == len(clip_frames)
    for a, b in zip(old, new, strict=True):
        _same(a, b)
    flags = Quality(0)
    for r in old:
        flags |= r.quality
    # the clip exercises what changed: frozen and dark frames, a lost region, re-estimates after geometry changes
    assert flags & Quality.FROZEN and flags & Quality.DARK and flags & Quality.NO_REGION
    assert len({r.label for r in old}) >= 2
    assert proc.region.estimates == old_estimates >= 4  # first fit, black frame, moved fan, new size
    keys = ("exam_id", "label", "frames_total", "frames_used", "quality_counts")
    assert [getattr(old_summary, k) for k in keys] == [getattr(new_summary, k) for k in keys]
    assert old_summary.confidence == pytest.approx(new_summary.confidence, abs=1e-6)
    for name, p in old_summary.class_probs.items():
        assert new_summary.class_probs[name] == pytest.approx(p, abs=1e-6)
