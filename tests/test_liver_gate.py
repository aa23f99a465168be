"""The "not a liver" gate on arrays: per-frame label and flag, smoothing untouched, and an exam whose frames
are mostly not a liver never ends as a disease."""

from __future__ import annotations

import numpy as np
import pytest

from liveredge.edge.decisions import DecisionEngine, ExamAggregator
from liveredge.edge.decisions.liver_gate import LiverGate, energy_score
from liveredge.edge.events import NOT_LIVER, UNCERTAIN, FrameResult, Quality
from liveredge.edge.model_meta import ModelMetadata, OperatingPoint
from liveredge.edge.preprocess.spec import PreprocessSpec

LABELS5 = ("normal", "steatosis", "fibrosis", "focal_lesion", NOT_LIVER)
LABELS4 = LABELS5[:4]
FIB = np.array([0.02, 0.03, 0.9, 0.03, 0.02])
HEART = np.array([0.05, 0.05, 0.3, 0.05, 0.55])  # "fibrosis" would win without the gate
OP = OperatingPoint(min_confidence=0.5, not_liver_threshold=0.5)


def _result(seq: int, decision_label: str, probs: np.ndarray, quality: Quality) -> FrameResult:
    return FrameResult(seq, seq / 30, seq / 30, 0.0, tuple(probs), tuple(probs), decision_label, 0.9, quality, "E1")


def test_energy_score_is_minus_logsumexp() -> None:
    z = np.array([2.0, -1.0, 0.5])
    assert energy_score(z) == pytest.approx(-np.log(np.exp(z).sum()))
    assert energy_score(np.array([0.1, 0.1])) > energy_score(np.array([8.0, 0.1])), "confident input: low energy"


def test_gate_reads_its_thresholds_from_the_operating_point() -> None:
    assert not LiverGate.for_model(LABELS4, OperatingPoint()).active
    assert LiverGate.for_model(LABELS5, OP).not_liver_index == 4
    # a 4-label model cannot use a not_liver threshold, only the energy check
    g = LiverGate.for_model(LABELS4, OperatingPoint(not_liver_threshold=0.5, energy_threshold=-3.0))
    assert g.not_liver_threshold is None and g.needs_logits
    assert g.fires(np.full(4, 0.25), logits=np.zeros(4)) and not g.fires(np.full(4, 0.25), logits=np.full(4, 5.0))


def test_metadata_round_trips_the_gate_thresholds() -> None:
    meta = ModelMetadata("m", LABELS5, PreprocessSpec(), operating_point=OP)
    back = ModelMetadata.from_json(meta.to_json())
    assert back.operating_point.not_liver_threshold == 0.5 and back.operating_point.energy_threshold is None


def test_engine_labels_not_liver_frames_and_keeps_them_out_of_smoothing() -> None:
    engine = DecisionEngine(LABELS5, OP)
    for i in range(20):
        d = engine.decide(i / 30, FIB)
    assert d.label == "fibrosis"
    smoothed_before = d.smoothed
    d = engine.decide(21 / 30, HEART)
    assert d.label == NOT_LIVER and d.quality & Quality.OUT_OF_DISTRIBUTION
    assert d.smoothed == smoothed_before, "a not-liver frame must not move the smoothed liver probabilities"


def test_engine_never_reports_the_not_liver_class_without_the_gate() -> None:
    engine = DecisionEngine(LABELS5, OperatingPoint(min_confidence=0.5, not_liver_threshold=0.99))
    p = np.array([0.05, 0.05, 0.05, 0.05, 0.8])
    labels = {engine.decide(i / 30, p).label for i in range(30)}
    assert labels == {UNCERTAIN}


@pytest.mark.parametrize("n_heart", [11, 20])
def test_exam_mostly_not_liver_is_never_a_disease(n_heart: int) -> None:
    engine, exam = DecisionEngine(LABELS5, OP), ExamAggregator(LABELS5, 0.5, min_frames=5)
    exam.start("E1", 0.0)
    frames = [HEART] * n_heart + [FIB] * (20 - n_heart)
    for i, p in enumerate(frames):
        d = engine.decide(i / 30, p)
        exam.add(_result(i, d.label, p, d.quality))
    summary = exam.end(1.0)
    assert summary.label == NOT_LIVER
    assert summary.confidence == pytest.approx(n_heart / 20)


def test_exam_with_a_few_not_liver_frames_reports_the_liver_class() -> None:
    engine, exam = DecisionEngine(LABELS5, OP), ExamAggregator(LABELS5, 0.5, min_frames=5)
    exam.start("E1", 0.0)
    for i, p in enumerate([FIB] * 16 + [HEART] * 4):
        d = engine.decide(i / 30, p)
        exam.add(_result(i, d.label, p, d.quality))
    summary = exam.end(1.0)
    assert summary.label == "fibrosis" and summary.frames_used == 16


def test_dark_frames_do_not_count_towards_the_majority() -> None:
    exam = ExamAggregator(LABELS5, 0.5, min_frames=1)
    exam.start("E1", 0.0)
    for i in range(10):
        exam.add(_result(i, UNCERTAIN, FIB, Quality.DARK))
    for i in range(3):
        exam.add(_result(10 + i, NOT_LIVER, HEART, Quality.OUT_OF_DISTRIBUTION))
    exam.add(_result(13, "fibrosis", FIB, Quality.OK))
    assert exam.end(1.0).label == NOT_LIVER, "3 of the 4 frames that showed an image were not a liver"
