"""What lets the recipe scale to many cores / a GPU without changing results: preprocessing spread over worker
processes gives the same arrays in the same order, and a wall-time budget stops training after a whole epoch
with the best weights kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_models_support import write_dataset

from liveredge.edge.preprocess import PreprocessSpec
from liveredge.models import dataset as ds
from liveredge.models import frames

SPEC = PreprocessSpec(input_size=(32, 32))


def test_parallel_preprocessing_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_dataset(tmp_path / "ds", {"S1": 2, "S2": 2}, frames=2)
    manifest = ds.read_manifest(root)
    serial_img, serial_ok = frames.load_usable_frames(manifest, SPEC, workers=1)
    for cache in (root / frames.CACHE_DIR).glob("usable-*.npz"):
        cache.unlink()
    monkeypatch.setattr(frames, "PARALLEL_MIN_FRAMES", 1)  # the dataset is small: force the process pool
    par_img, par_ok = frames.load_usable_frames(manifest, SPEC, workers=2)
    assert len(serial_img) == len(manifest.records) > 4
    np.testing.assert_array_equal(par_img, serial_img)
    np.testing.assert_array_equal(par_ok, serial_ok)
    assert serial_img.reshape(len(serial_img), -1).std(axis=1).min() > 0  # real images, not the zero fallback


def test_time_budget_stops_after_a_whole_epoch() -> None:
    keras = pytest.importorskip("keras")
    from liveredge.models.callbacks import TimeBudget

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((16, 4)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[np.arange(16) % 2]
    budget = TimeBudget(1e-6)
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[budget])
    assert budget.stopped_early and len(history.history["loss"]) == 1
    generous = TimeBudget(3600)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[generous])
    assert not generous.stopped_early and len(history.history["loss"]) == 3
