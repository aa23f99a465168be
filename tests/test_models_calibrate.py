"""Calibration on arrays: temperature scaling lowers ECE on HELD-OUT data, the gate's thresholds hold their
false-alarm rate, and the device applies the temperature exactly as softmax(logits / T)."""

from __future__ import annotations

import numpy as np
import pytest

from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.errors import DataError
from liveredge.edge.model_meta import OperatingPoint
from liveredge.models.calibrate import choose, fit_temperature, gate_thresholds, softmax
from liveredge.models.metrics import ece

LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion", "not_liver")


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z) over the liver classes, logits reported as 4 z: a model whose ranking is
    right but which is far too sure of itself (classic overconfidence; the true temperature is 4)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.2, (n, 5))
    z[:, 4] -= 3.0
    p = softmax(z)
    y = np.array([rng.choice(5, p=row) for row in p])
    return z * 4.0, y


def test_temperature_fitted_on_validation_lowers_ece_on_a_held_out_set() -> None:
    val_logits, val_y = _overconfident(2000, 1)
    test_logits, test_y = _overconfident(2000, 2)
    t = fit_temperature(val_logits, val_y)
    assert 3.0 < t < 5.0
    before, after = ece(test_y, softmax(test_logits)), ece(test_y, softmax(test_logits, t))
    assert after < 0.5 * before, (before, after)


def test_device_tempering_equals_softmax_of_scaled_logits() -> None:
    logits, _ = _overconfident(50, 3)
    np.testing.assert_allclose(tempered(softmax(logits), 3.0), softmax(logits, 3.0), rtol=1e-5, atol=1e-6)
    assert np.array_equal(tempered(softmax(logits), 1.0), softmax(logits).astype(np.float32))


def test_gate_thresholds_hold_their_false_alarm_rate_and_catch_outliers() -> None:
    rng = np.random.default_rng(4)
    liver_logits, y = _overconfident(1000, 5)
    y = np.minimum(y, 3)  # these are liver frames
    other = rng.normal(0, 0.5, (200, 5))
    other[:, 4] += 3.0  # the not_liver class was trained on scenes like these
    logits = np.vstack([liver_logits / 4, other])
    labels_y = np.concatenate([y, np.full(200, 4)])
    g = gate_thresholds(softmax(logits), logits, labels_y, LABELS, false_alarm=0.01)
    assert g.liver_flagged <= 0.025 and g.not_liver_caught is not None and g.not_liver_caught > 0.9
    assert g.auroc_not_liver_prob is not None and g.auroc_not_liver_prob > 0.95
    result = choose(softmax(logits), logits, labels_y, LABELS)
    op = result.operating_point(OperatingPoint(min_confidence=0.6))
    assert op.min_confidence == 0.6 and op.temperature == result.temperature
    assert op.energy_threshold == g.energy_threshold  # raw logits on both sides
    # the probability threshold is set on what the device compares it with: the tempered probabilities
    device_probs = tempered(softmax(logits), result.temperature)
    liver = labels_y != 4
    assert op.not_liver_threshold is not None
    assert np.mean(device_probs[liver, 4] >= op.not_liver_threshold) <= 0.015


def test_too_few_liver_frames_is_refused() -> None:
    logits = np.zeros((10, 5))
    with pytest.raises(DataError, match="too few"):
        gate_thresholds(softmax(logits), logits, np.zeros(10, int), LABELS)
