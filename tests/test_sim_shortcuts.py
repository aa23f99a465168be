"""Shortcut hunt on a simulated dataset of new random scanner profiles (issue: simulator v2).

A simulator that lets one global number separate a class, or puts every lesion at one size and spot,
teaches models shortcuts instead of disease. On a dataset written by ``write_dataset`` (160 patients,
one frame each, each on its own random profile and drawn view / operator):
- no single global statistic of the fan (mean grey, near/far mean ratio, grey-level std) separates any
  class from normal with AUC > 0.90;
- lesion diameters p10 <= 12 mm and p90 >= 35 mm; visible lesion centres spread >= 12 mm (std) across
  and in depth; >= 10 % of lesion frames show 2+ lesions; every lesion frame shows one.
SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.edge.sim.dataset import MANIFEST_COLUMNS, plan_dataset, write_dataset
from liveredge.models.metrics import roc_auc

N_PATIENTS = 160
PROFILE_SEEDS = range(880_000, 880_040)  # 40 random profiles, 4 patients (one per class) on each


def _global_stats(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    grey = image[:, :, 1].astype(np.float32)
    fan = mask > 0
    rows = np.nonzero(fan.any(axis=1))[0]
    mid = (rows.min() + rows.max()) / 2
    upper = fan & (np.arange(fan.shape[0])[:, None] < mid)
    near, far = grey[upper].mean(), grey[fan & ~upper].mean()
    return {
        "mean grey": float(grey[fan].mean()),
        "grey std": float(grey[fan].std()),
        "near/far ratio": float(near / max(far, 1.0)),
    }


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    sites = [f"random:{s}" for s in PROFILE_SEEDS]
    out = tmp_path_factory.mktemp("shortcuts") / "data"
    manifest = write_dataset(out, plan_dataset(N_PATIENTS, sites, seed=880), 1, progress=False)
    with open(manifest, newline="") as fh:
        return out, list(csv.DictReader(fh))


def test_manifest_has_the_v2_ground_truth(dataset: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = dataset
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert {r["view"] for r in rows} == {"subcostal", "intercostal", "sagittal"}
    assert {r["probe"] for r in rows} == {"curvilinear", "phased", "linear"}
    for r in rows:
        assert 3.0 < float(r["depth_cm"]) < 30.0 and 0.2 < float(r["mm_per_px"]) < 3.0


def test_no_global_statistic_separates_a_class(dataset: tuple[Path, list[dict[str, str]]]) -> None:
    root, rows = dataset
    stats = [_global_stats(cv2.imread(str(root / r["path"])), cv2.imread(str(root / r["mask_path"]), 0)) for r in rows]
    labels = [r["label"] for r in rows]
    worst: dict[str, float] = {}
    for cls in ("steatosis", "fibrosis", "focal_lesion"):
        idx = [i for i, lab in enumerate(labels) if lab in (cls, "normal")]
        y = np.array([labels[i] == cls for i in idx], int)
        for name in stats[0]:
            v = np.array([stats[i][name] for i in idx])
            auc = roc_auc(y, v)
            worst[f"{cls} by {name}"] = max(auc, 1.0 - auc)
    assert max(worst.values()) <= 0.90, worst


def test_lesions_vary_in_size_place_and_number(dataset: tuple[Path, list[dict[str, str]]]) -> None:
    _, rows = dataset
    lesion_rows = [r for r in rows if r["label"] == "focal_lesion"]
    diameters = np.concatenate([json.loads(r["lesion_diameters_mm"]) for r in lesion_rows])
    assert np.percentile(diameters, 10) <= 12 and np.percentile(diameters, 90) >= 35, diameters
    xs, ys, counts = [], [], []
    for r in lesion_rows:
        mask = cv2.imread(str(dataset[0] / r["mask_path"]), 0) > 0
        cols, top = np.nonzero(mask.any(axis=0))[0], np.nonzero(mask.any(axis=1))[0].min()
        centre_x, mm = (cols.min() + cols.max()) / 2, float(r["mm_per_px"])
        boxes = [box for _, box in json.loads(r["lesion_boxes"])]
        counts.append(len(boxes))
        xs += [(x + w / 2 - centre_x) * mm for x, _, w, _ in boxes]
        ys += [(y + h / 2 - top) * mm for _, y, _, h in boxes]
    assert min(counts) >= 1, "a focal_lesion frame shows no lesion"
    assert np.mean(np.array(counts) >= 2) >= 0.10, counts
    assert np.std(xs) >= 12 and np.std(ys) >= 12, (np.std(xs), np.std(ys))
