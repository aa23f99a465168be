"""Decisions on arrays: time-aware EMA, hysteresis, quality gate, decision engine, exam aggregation, CAM."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liveredge.edge.decisions import (
    DecisionConfig,
    DecisionEngine,
    ExamAggregator,
    Hysteresis,
    ImageGate,
    TimeEma,
    cam_heatmap,
    normalized_entropy,
)
from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.events import UNCERTAIN, FrameResult, Quality
from liveredge.edge.model_meta import OperatingPoint

LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion")
A = np.array([0.85, 0.05, 0.05, 0.05])
B = np.array([0.05, 0.85, 0.05, 0.05])


def test_ema_weight_follows_elapsed_time_not_frame_count() -> None:
    ema = TimeEma(tau_s=0.5)
    ema.update(0.0, np.array([1.0, 0.0]))
    out = ema.update(0.5, np.array([0.0, 1.0]))
    assert out[1] == pytest.approx(1 - math.exp(-1))
    # ten frames 0.05 s apart move it as far as one frame 0.5 s later
    many = TimeEma(tau_s=0.5)
    many.update(0.0, np.array([1.0, 0.0]))
    for i in range(1, 11):
        res = many.update(i * 0.05, np.array([0.0, 1.0]))
    assert res[1] == pytest.approx(out[1])


def test_ema_reset_and_zero_tau() -> None:
    ema = TimeEma(0.0)
    ema.update(0.0, A)
    assert np.allclose(ema.update(0.01, B), B)
    ema.reset()
    assert ema.value is None
    with pytest.raises(ConfigError):
        TimeEma(-1.0)


def test_hysteresis_needs_dwell_and_margin() -> None:
    h = Hysteresis(margin=0.1, min_dwell_s=0.3)
    assert h.update(0.0, A) is None  # nothing until a class led 0.3 s
    assert h.update(0.3, A) == 0
    assert h.update(0.4, B) == 0  # B leads, but only 0 s
    assert h.update(0.6, B) == 0  # 0.2 s
    assert h.update(0.71, B) == 1  # 0.31 s and beats by margin
    # a narrow lead never switches, however long it lasts
    assert h.update(0.8, np.array([0.46, 0.44, 0.05, 0.05])) == 1
    assert h.update(1.5, np.array([0.46, 0.44, 0.05, 0.05])) == 1
    h.reset()
    assert h.reported is None


def test_image_gate_flags_frozen_dark_saturated() -> None:
    rng = np.random.default_rng(0)
    gate = ImageGate()
    img = rng.integers(40, 200, (64, 64), dtype=np.uint8)
    region = np.zeros((64, 64), bool)
    region[8:56, 8:56] = True
    q, _ = gate.check(img, region)
    assert q == Quality.OK
    q, stats = gate.check(img.copy(), region)
    assert q & Quality.FROZEN and stats.mad_prev == 0.0
    q, _ = gate.check(rng.integers(40, 200, (64, 64), dtype=np.uint8), region)
    assert not q & Quality.FROZEN
    q, _ = gate.check(rng.integers(0, 8, (64, 64), dtype=np.uint8), region)
    assert q & Quality.DARK
    q, _ = gate.check(np.full((64, 64), 255, np.uint8), region)
    assert q & Quality.SATURATED and not q & Quality.DARK


def test_normalized_entropy_bounds() -> None:
    assert normalized_entropy(np.array([1.0, 0, 0, 0])) == pytest.approx(0.0, abs=1e-6)
    assert normalized_entropy(np.full(4, 0.25)) == pytest.approx(1.0)


def _engine(**op: float | None) -> DecisionEngine:
    point = OperatingPoint(**{"min_confidence": 0.6, "ood_threshold": 0.9, "smoothing_tau_s": 0.2, **op})
    return DecisionEngine(LABELS, point, DecisionConfig(margin=0.1, min_dwell_s=0.2))


def test_engine_commits_after_dwell_and_gates_uncertain() -> None:
    eng = _engine()
    first = eng.decide(0.0, A)
    assert first.label == UNCERTAIN and first.quality == Quality.OK
    d = eng.decide(0.25, A)
    assert d.label == "normal" and d.confidence == pytest.approx(0.85)
    dark = eng.decide(0.3, A, Quality.DARK)
    assert dark.label == UNCERTAIN and dark.quality & Quality.DARK
    assert eng.decide(0.35, A).label == "normal"  # history kept through a dark frame
    ood = eng.decide(0.4, np.full(4, 0.25))
    assert ood.label == UNCERTAIN and ood.quality & Quality.OUT_OF_DISTRIBUTION


def test_engine_freeze_resets_history_and_unverified_still_labels() -> None:
    eng = _engine()
    eng.decide(0.0, A, Quality.UNVERIFIED_MODEL)
    d = eng.decide(0.3, A, Quality.UNVERIFIED_MODEL)
    assert d.label == "normal" and d.quality == Quality.UNVERIFIED_MODEL
    frozen = eng.decide(0.4, A, Quality.FROZEN)
    assert frozen.label == UNCERTAIN and eng.hysteresis.reported is None
    assert eng.decide(0.45, B).label == UNCERTAIN  # must dwell again after the freeze


def test_engine_low_confidence_is_uncertain() -> None:
    eng = _engine(min_confidence=0.9, ood_threshold=None)
    eng.decide(0.0, A)
    d = eng.decide(0.5, A)
    assert d.label == UNCERTAIN and d.quality == Quality.LOW_CONFIDENCE
    with pytest.raises(ConfigError):
        eng.decide(0.6, np.ones(3) / 3)


def _result(seq: int, probs: np.ndarray, quality: Quality = Quality.OK) -> FrameResult:
    p = tuple(float(v) for v in probs)
    return FrameResult(seq, seq * 0.1, seq * 0.1, 0.0, p, p, "x", float(max(p)), quality, "E1")


def test_exam_aggregation_uses_only_good_frames() -> None:
    agg = ExamAggregator(LABELS, min_confidence=0.5, min_frames=3)
    agg.add(_result(0, A))  # no exam open: ignored
    agg.start("E1", 1.0)
    for i in range(4):
        agg.add(_result(i, B))
    agg.add(_result(4, A, Quality.FROZEN))
    agg.add(_result(5, A, Quality.DARK | Quality.SATURATED))
    agg.add(_result(6, B, Quality.LOW_CONFIDENCE))
    s = agg.end(2.0)
    assert (s.label, s.frames_total, s.frames_used) == ("steatosis", 7, 5)
    assert s.class_probs["steatosis"] == pytest.approx(0.85)
    assert s.quality_counts == {"ok": 4, "frozen": 1, "dark": 1, "saturated": 1, "low_confidence": 1}
    assert not agg.active
    with pytest.raises(ConfigError):
        agg.end(3.0)


def test_exam_with_too_few_good_frames_is_uncertain() -> None:
    agg = ExamAggregator(LABELS, min_confidence=0.5, min_frames=3)
    agg.start("E2", 0.0)
    agg.add(_result(0, B))
    agg.add(_result(1, B, Quality.NO_REGION))
    s = agg.end(1.0)
    assert s.label == UNCERTAIN and s.frames_used == 1
    agg.start("E3", 1.0)
    with pytest.raises(ConfigError):
        agg.start("E4", 1.0)


def test_cam_heatmap_highlights_the_class_channel() -> None:
    cam = np.zeros((8, 8, 4), np.float32)
    cam[2, 5, 1] = 3.0
    cam[:, :, 0] = -1.0
    heat = cam_heatmap(cam, 1, (32, 32))
    assert heat.shape == (32, 32) and heat.dtype == np.uint8
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    assert 8 <= y < 12 and 20 <= x < 24
    assert not cam_heatmap(cam, 0, (32, 32)).any()
    with pytest.raises(ModelError):
        cam_heatmap(cam, 4, (32, 32))
