"""Manifests, label mapping, patient-level splits (no leakage), bad-input errors, preprocessing cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_models_support import rewrite_manifest, write_dataset

from liveredge.edge.errors import DataError
from liveredge.edge.preprocess import PreprocessSpec, prepare_gray
from liveredge.models import dataset as ds
from liveredge.models.augment import AugmentConfig, augment, to_model_input
from liveredge.models.frames import CACHE_DIR, load_frames


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ds"), {"S1": 2, "S2": 2, "S3": 1}, frames=2)


def test_read_manifest_maps_labels_in_class_order(data: Path) -> None:
    m = ds.read_manifest(data)
    assert m.labels == ("normal", "steatosis", "fibrosis", "focal_lesion")
    assert len(m.records) == 40 and len(m.sha256) == 64
    assert {r.label for r in m.records if r.patient_id.startswith("S1-ste")} == {1}
    assert {r.label for r in m.records if r.patient_id.startswith("S2-foc")} == {3}
    assert ds.parse_label("Fibrosis", m.labels) == 2 and ds.parse_label("3", m.labels) == 3
    assert ds.parse_label("cirrhosis", m.labels) is None and ds.parse_label("7", m.labels) is None


def test_holdout_split_is_by_patient_and_stratified(data: Path) -> None:
    m = ds.read_manifest(data)
    splits = ds.split_patients(m, holdout_site="S3", val_frac=0.5, seed=1)
    ds.check_splits(splits)
    assert all(p.startswith("S3") for p in splits["holdout"]) and len(splits["holdout"]) == 4
    assert len(splits["val"]) == 8 and len(splits["train"]) == 8
    idx = ds.split_indices(m, splits)
    ds.check_classes(m, idx)
    for a in idx:
        for b in idx:
            if a < b:
                assert not set(m.patients[idx[a]]) & set(m.patients[idx[b]])
    assert sum(len(v) for v in idx.values()) == len(m.records)


def test_leaking_patient_is_rejected(data: Path, tmp_path: Path) -> None:
    def move_one_frame(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[0]["site_id"] = "S3"  # patient S1-nor-0 now also "seen" at the held-out site
        return rows

    m = ds.read_manifest(rewrite_manifest(data, tmp_path / "leak", move_one_frame))
    with pytest.raises(DataError, match="S1-nor-0"):
        ds.split_patients(m, holdout_site="S3")
    with pytest.raises(DataError, match=r"leakage.*P1 in train\+val"):
        ds.check_splits({"train": ["P1", "P2"], "val": ["P1"], "test": [], "holdout": []})


def test_given_split_column_is_checked(data: Path, tmp_path: Path) -> None:
    def split_col(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            r["split"] = "val" if r["site_id"] == "S2" else "train"
        rows[1]["split"] = "val"  # second frame of a train patient
        return rows

    m = ds.read_manifest(rewrite_manifest(data, tmp_path / "given", split_col))
    with pytest.raises(DataError, match="S1-nor-0 in train\\+val"):
        ds.split_patients(m)


def test_bad_rows_are_listed(data: Path, tmp_path: Path) -> None:
    def bad(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[2]["label"] = "cirrhosis"
        rows[5]["label"] = "hepatitis"
        return rows

    with pytest.raises(DataError, match=r"unknown labels.*row 4: 'cirrhosis'; row 7: 'hepatitis'"):
        ds.read_manifest(rewrite_manifest(data, tmp_path / "labels", bad))

    def missing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[3]["path"] = "/nonexistent/frame.png"
        return rows

    with pytest.raises(DataError, match=r"1 files are missing: row 5: /nonexistent/frame.png"):
        ds.read_manifest(rewrite_manifest(data, tmp_path / "missing", missing))
    (tmp_path / "cols").mkdir()
    (tmp_path / "cols" / "manifest.csv").write_text("path,label\na.png,normal\n")
    with pytest.raises(DataError, match=r"lacks columns \['patient_id', 'site_id'\]"):
        ds.read_manifest(tmp_path / "cols")


def test_split_without_a_class_is_rejected(data: Path, tmp_path: Path) -> None:
    def drop_val_fibrosis(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return [r for r in rows if not (r["label"] == "fibrosis" and r["site_id"] != "S1")]

    m = ds.read_manifest(rewrite_manifest(data, tmp_path / "noclass", drop_val_fibrosis))
    splits = {
        "train": [p for p in set(m.patients) if p.startswith("S1")],
        "val": [p for p in set(m.patients) if p.startswith("S2")],
        "test": [],
        "holdout": [],
    }
    with pytest.raises(DataError, match=r"split 'val' \(\d+ frames\) has no fibrosis"):
        ds.check_classes(m, ds.split_indices(m, splits))


def test_frames_use_runtime_preprocessing_and_cache(data: Path) -> None:
    import cv2

    m = ds.read_manifest(data)
    spec = PreprocessSpec(input_size=(64, 64))
    images = load_frames(m, spec)
    assert images.shape == (40, 64, 64) and images.dtype == np.uint8
    first = cv2.imread(str(m.records[0].path))
    np.testing.assert_array_equal(images[0], prepare_gray(first, spec))
    caches = list((data / CACHE_DIR).glob("frames-*.npz"))
    assert len(caches) == 1
    np.testing.assert_array_equal(load_frames(m, spec, indices=np.array([3])), images[3:4])
    assert len(list((data / CACHE_DIR).glob("frames-*.npz"))) == 1
    masked = load_frames(m, spec, region="mask")
    assert masked.shape == images.shape and len(list((data / CACHE_DIR).glob("frames-*.npz"))) == 2


def test_augment_keeps_background_and_range() -> None:
    rng = np.random.default_rng(0)
    img = np.zeros((4, 32, 32), np.uint8)
    img[:, 8:24, 8:24] = 120
    out = augment(img, AugmentConfig(flip=False, rotate_deg=0, scale=0, shift=0), rng)
    assert out.dtype == np.float32 and out.shape == img.shape
    assert np.all(out[:, :8] == 0) and 0 < out[:, 8:24, 8:24].mean() <= 255 and out.max() <= 255
    assert not np.allclose(out[0], out[1])  # per-image jitter
    spec = PreprocessSpec(input_size=(32, 32), channels=3, mean=0.5, std=0.25)
    np.testing.assert_allclose(to_model_input(img, spec)[0], spec.normalize(img[0]))
    np.testing.assert_allclose(to_model_input(img.astype(np.float32), spec), to_model_input(img, spec), atol=1e-6)
