"""Joining simulated datasets into one manifest with a split column, and frames without a region left out of
training (the device never classifies them). SIMULATED data, not for clinical use."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.edge.errors import InputError
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.edge.sim.dataset import plan_dataset, write_dataset
from liveredge.models import dataset as ds
from liveredge.models.combine import combine, main
from liveredge.models.frames import load_usable_frames


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("joined")
    write_dataset(root / "train", plan_dataset(8, ["random:880100"], seed=1), 1, progress=False)
    write_dataset(root / "val", plan_dataset(4, ["random:880101"], seed=2), 1, progress=False)
    combine(root, ["train", "val"])
    return root


def test_combined_manifest_keeps_every_row_and_its_split(joined: Path) -> None:
    manifest = ds.read_manifest(joined)
    splits = ds.split_patients(manifest)
    assert len(manifest.records) == 12 and len(splits["train"]) == 8 and len(splits["val"]) == 4
    assert all(r.path.is_file() for r in manifest.records)


def test_a_frame_without_a_region_is_left_out_not_fatal(joined: Path) -> None:
    manifest = ds.read_manifest(joined)
    black = manifest.records[3].path
    cv2.imwrite(str(black), np.zeros((256, 256, 3), np.uint8))  # e.g. a preset so dark the screen is black
    fresh = ds.read_manifest(joined)  # same manifest bytes: drop the cache so the black frame is re-read
    for f in (joined / ".liveredge-cache").glob("usable-*"):
        f.unlink()
    images, usable = load_usable_frames(fresh, PreprocessSpec())
    assert usable.tolist() == [i != 3 for i in range(12)] and not images[3].any()


def test_bad_split_names_and_missing_datasets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a split name"):
        combine(tmp_path, ["training"])
    with pytest.raises(InputError, match="no manifest.csv"):
        combine(tmp_path, ["val"])
    assert main([str(tmp_path), "val"]) == 2
