"""models.metrics equals scikit-learn on known arrays and stays TensorFlow-free."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, roc_auc_score, roc_curve

from liveredge.models import metrics as M

LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion")


def _arrays(seed: int, n: int = 300, k: int = 4, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    if ties:
        logits = np.round(logits, 0)
    p = np.exp(logits)
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed,ties", [(0, False), (1, True), (2, False)])
def test_auc_and_curve_equal_sklearn(seed: int, ties: bool) -> None:
    y, p = _arrays(seed, ties=ties)
    assert M.macro_auc(y, p) == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-12)
    for k in range(4):
        assert M.roc_auc(y == k, p[:, k]) == pytest.approx(roc_auc_score(y == k, p[:, k]), abs=1e-12)
    fpr, tpr = M.roc_curve(y == 1, p[:, 1])
    s_fpr, s_tpr, _ = roc_curve(y == 1, p[:, 1], drop_intermediate=False)
    np.testing.assert_allclose(fpr, s_fpr)
    np.testing.assert_allclose(tpr, s_tpr)


def test_confusion_and_balanced_accuracy_equal_sklearn() -> None:
    y, p = _arrays(3)
    pred = p.argmax(axis=1)
    np.testing.assert_array_equal(M.confusion(y, pred, 4), confusion_matrix(y, pred, labels=range(4)))
    assert M.balanced_accuracy(y, pred, 4) == pytest.approx(balanced_accuracy_score(y, pred))
    # a class missing from y_true is left out of the mean, like scikit-learn (which also warns)
    y2, pred2 = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 3])
    with pytest.warns(UserWarning):
        ref = balanced_accuracy_score(y2, pred2)
    assert M.balanced_accuracy(y2, pred2, 4) == pytest.approx(ref)


def test_ece_hand_computed_and_perfect() -> None:
    y = np.array([0, 1, 0, 1])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    # bins (15 equal): 0.9 -> acc 1, 0.8 -> acc 1, 0.6 -> acc 1, 0.7 -> acc 0  => |1-.9|+|1-.8|+|1-.6|+|0-.7| / 4
    assert M.ece(y, p) == pytest.approx((0.1 + 0.2 + 0.4 + 0.7) / 4)
    assert M.ece(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(0.0)


def test_per_class_and_undefined_auc() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.eye(4)[[0, 1, 1, 1, 2, 0]] * 0.7 + 0.075
    pc = M.per_class(y, p, LABELS)
    assert pc["normal"]["sensitivity"] == pytest.approx(0.5)
    assert pc["normal"]["specificity"] == pytest.approx(3 / 4)
    assert pc["steatosis"]["sensitivity"] == 1.0 and pc["steatosis"]["specificity"] == pytest.approx(3 / 4)
    assert np.isnan(pc["focal_lesion"]["auc"]) and np.isnan(pc["focal_lesion"]["sensitivity"])
    assert M.macro_auc(y, p) == pytest.approx(np.mean([roc_auc_score(y == k, p[:, k]) for k in range(3)]))


def test_bootstrap_ci_brackets_the_estimate_and_clusters() -> None:
    y, p = _arrays(4, n=400)
    point = M.macro_auc(y, p)
    lo, hi = M.bootstrap_ci(M.macro_auc, y, p, n_boot=200)
    assert lo < point < hi and hi - lo < 0.1
    groups = np.repeat(np.arange(40), 10)  # 40 "patients" x 10 frames
    glo, ghi = M.bootstrap_ci(M.macro_auc, y, p, groups=groups, n_boot=200)
    assert glo < point < ghi


def test_summarize_is_json_ready_with_sites() -> None:
    y, p = _arrays(5, n=120)
    sites = np.array(["S1", "S2", "S3"] * 40)
    out = M.summarize(y, p, LABELS, sites=sites, groups=np.arange(120) // 3, n_boot=50)
    assert out["macro_auc"] == pytest.approx(M.macro_auc(y, p))
    assert set(out["per_site"]) == {"S1", "S2", "S3"} and out["per_site"]["S2"]["n"] == 40
    mask = sites == "S2"
    assert out["per_site"]["S2"]["macro_auc"] == pytest.approx(M.macro_auc(y[mask], p[mask]))
    assert np.array(out["confusion"]).sum() == 120 and len(out["macro_auc_ci95"]) == 2


def test_metrics_module_imports_numpy_only() -> None:
    code = (
        "import sys, liveredge.models.metrics\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'tensorflow','keras','sklearn','tf_keras','cv2'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
