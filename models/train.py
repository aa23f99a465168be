"""Train a liver classifier on a manifest dataset: patient-level splits, class weights, augmentation, early
stopping, fixed seeds, checkpoints with resume, and export (``.keras``, SavedModel, sidecar).

``RUN_DIR`` afterwards holds: ``<name>.keras`` (outputs [probs, cam]), ``<name>_savedmodel/``,
``<name>.liveredge.json``, ``splits.json`` (patient ids per split), ``config.json``, ``history.json``,
``metrics.json`` (:func:`liveredge.models.metrics.summarize` per split, frames preprocessed by the runtime's
code) and ``checkpoints/``. Everything learned from the simulator is SIMULATED, not for clinical use.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models import dataset as ds
from liveredge.models.augment import AugmentConfig, augment, to_model_input
from liveredge.models.frames import load_usable_frames


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved as ``config.json``)."""

    arch: str = "cnn"
    name: str | None = None
    width: float = 1.0
    head: int = 160
    last_stage: int = 80
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 8
    seed: int = 0
    val_frac: float = 0.2
    test_frac: float = 0.0
    holdout_site: str | None = None
    region: str = "detect"
    threads: int = 2
    cam: bool = True
    labels: tuple[str, ...] = ds.DEFAULT_LABELS
    spec: PreprocessSpec = field(default_factory=PreprocessSpec)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    steps_per_epoch: int | None = None
    n_boot: int = 300
    time_budget_s: float | None = None  # stop (keeping the best epoch) before training would pass this wall time

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0 or self.threads < 1:
            raise ConfigError("epochs, batch_size, threads must be >= 1 and learning_rate > 0")
        if not 0 <= self.val_frac < 1 or not 0 <= self.test_frac < 1 or self.val_frac + self.test_frac >= 1:
            raise ConfigError(f"val_frac + test_frac must be in [0, 1), got {self.val_frac} + {self.test_frac}")

    @property
    def model_name(self) -> str:
        return self.name or f"liver_{self.arch}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spec"] = self.spec.to_dict()
        data["labels"] = list(self.labels)
        return data


@dataclass(frozen=True)
class TrainResult:
    """Paths and numbers of a finished run; ``wall_s`` is the time spent in this call."""

    run_dir: Path
    paths: dict[str, Path]
    metrics: dict[str, Any]
    epochs_run: int
    best_epoch: int
    wall_s: float


def configure_tf(threads: int, seed: int) -> None:
    """Few threads (shared 2-core machines) and fixed seeds for Python, numpy and the Keras backend.

    Training is plain Keras 3: with ``KERAS_BACKEND=jax`` (or ``torch``) it runs where TensorFlow is not installed,
    e.g. a GPU machine; the thread settings then only concern TensorFlow and are skipped."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # already initialised in this process (e.g. tests): keep the existing pools
    keras.utils.set_random_seed(seed)


def make_batches(images: np.ndarray, y: np.ndarray, cfg: TrainConfig):  # type: ignore[no-untyped-def]  # a keras.utils.PyDataset, defined lazily
    """A keras PyDataset yielding (x, one-hot y, class-weight sample weights) with fresh augmentation."""
    import keras

    counts = np.bincount(y, minlength=len(cfg.labels)).astype(np.float64)
    weights = np.where(counts > 0, len(y) / (len(cfg.labels) * np.maximum(counts, 1)), 0.0).astype(np.float32)

    class Batches(keras.utils.PyDataset):
        def __init__(self) -> None:
            # Augmentation runs in threads (OpenCV releases the GIL): half the CPU threads, at least one.
            super().__init__(workers=max(1, cfg.threads // 2), use_multiprocessing=False)
            self.epoch = 0
            self.order = self._shuffle()

        def _shuffle(self) -> np.ndarray:
            return np.random.default_rng((cfg.seed, self.epoch)).permutation(len(y))

        def __len__(self) -> int:
            full = int(np.ceil(len(y) / cfg.batch_size))
            return min(full, cfg.steps_per_epoch) if cfg.steps_per_epoch else full

        def __getitem__(self, i: int):  # type: ignore[no-untyped-def]  # keras batch tuple
            idx = self.order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            rng = np.random.default_rng((cfg.seed, self.epoch, i))
            x = to_model_input(augment(images[idx], cfg.augment, rng), cfg.spec)
            onehot = np.eye(len(cfg.labels), dtype=np.float32)[y[idx]]
            return x, onehot, weights[y[idx]]

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = self._shuffle()

    return Batches()


def _prepare(
    dataset: str | Path, cfg: TrainConfig
) -> tuple[ds.Manifest, dict[str, list[str]], dict[str, np.ndarray], np.ndarray]:
    manifest = ds.read_manifest(dataset, cfg.labels)
    splits = ds.split_patients(
        manifest, holdout_site=cfg.holdout_site, val_frac=cfg.val_frac, test_frac=cfg.test_frac, seed=cfg.seed
    )
    idx = ds.split_indices(manifest, splits)
    images, usable = load_usable_frames(manifest, cfg.spec, region=cfg.region, workers=cfg.threads)
    if not usable.all():  # the device never classifies a frame without a region: neither train nor score on it
        print(
            f"{int((~usable).sum())} of {len(usable)} frames have no ultrasound region the runtime can find "
            "(it would flag them NO_REGION); left out",
            file=sys.stderr,
        )
        idx = {name: ix[usable[ix]] for name, ix in idx.items()}
    ds.check_classes(manifest, idx, required=[s for s in ("train", "val") if s == "train" or cfg.val_frac > 0])
    return manifest, splits, idx, images


def _model(cfg: TrainConfig, ckpt: Path, resume: bool, steps: int):  # type: ignore[no-untyped-def]  # keras types, imported lazily
    """(training model with the probs output only, first epoch) — fresh, or reloaded from ``last.keras``."""
    import keras

    from liveredge.models.arch import ArchConfig, build, probs_model
    from liveredge.models.callbacks import load_state

    state = load_state(ckpt) if resume else None
    if state and (ckpt / "last.keras").is_file():
        return keras.models.load_model(ckpt / "last.keras"), int(state["epoch"])
    arch = ArchConfig(
        arch=cfg.arch, n_classes=len(cfg.labels), width=cfg.width, cam=cfg.cam, head=cfg.head, last_stage=cfg.last_stage
    )
    full = build(cfg.spec, arch)
    model = probs_model(full)
    # One epoch of linear warm-up, then cosine decay to 1 % over the remaining epochs: the last epochs move the
    # weights (and the BatchNorm statistics) little, so the model early stopping picks is a settled one.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, (cfg.epochs - 1) * steps),
        alpha=0.01,
        warmup_target=cfg.learning_rate,
        warmup_steps=steps,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=[],
    )
    return model, 0


def with_cam(model, cfg: TrainConfig):  # type: ignore[no-untyped-def]  # keras types, imported lazily
    """The exported model: shared weights, outputs [probs, cam] (cam_output = 1) or probs alone."""
    import keras

    if not cfg.cam:
        return keras.Model(model.input, model.get_layer("probs").output, name=cfg.model_name)
    return keras.Model(
        model.input, [model.get_layer("probs").output, model.get_layer("cam").output], name=cfg.model_name
    )


def predict_probs(model, images: np.ndarray, spec: PreprocessSpec, batch: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]  # model: a keras model, imported lazily
    """Probabilities (N, K) for uint8 (N, h, w) images (output 0 when the model has several)."""
    out = []
    for s in range(0, len(images), batch):
        p = model(to_model_input(images[s : s + batch], spec), training=False)
        out.append(np.asarray(p[0] if isinstance(p, (list, tuple)) else p))
    return np.concatenate(out) if out else np.zeros((0, model.outputs[0].shape[-1]), np.float32)


def train(dataset: str | Path, run_dir: str | Path, cfg: TrainConfig, *, resume: bool = True) -> TrainResult:
    """Run (or resume) training; export; evaluate every split. See the module docstring for the outputs."""
    from liveredge.edge.harmonize import reference_from_images
    from liveredge.models.export import Sidecar, export_model
    from liveredge.models.metrics import summarize

    start = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    configure_tf(cfg.threads, cfg.seed)
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest, splits, idx, images = _prepare(dataset, cfg)
    (out / "splits.json").write_text(json.dumps(splits, indent=1))
    (out / "config.json").write_text(json.dumps({**cfg.to_dict(), "manifest_sha256": manifest.sha256}, indent=1))
    model, ckpt = _fit(manifest, idx, images, cfg, out, resume)
    final = with_cam(model, cfg)
    reference = reference_from_images(images[idx["train"]], source=f"training frames of {manifest.sha256[:16]}")
    import keras

    sidecar = Sidecar(cfg.model_name, cfg.labels, cfg.spec, 1 if cfg.cam else None, reference)
    paths = export_model(final, out, sidecar, savedmodel=keras.backend.backend() == "tensorflow")
    metrics = {
        name: summarize(
            manifest.y[ix],
            predict_probs(final, images[ix], cfg.spec),
            cfg.labels,
            sites=manifest.sites[ix],
            groups=manifest.patients[ix],
            n_boot=cfg.n_boot,
            seed=cfg.seed,
        )
        for name, ix in idx.items()
        if len(ix)
    }
    wall = time.perf_counter() - start
    metrics["_run"] = {
        "wall_s": wall,
        "epochs_run": ckpt.state["epoch"],
        "best_epoch": ckpt.state["best_epoch"],
        "params": int(final.count_params()),
        "frames": {k: int(len(v)) for k, v in idx.items()},
        "simulated_data_note": "SIMULATED data; not for clinical use",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return TrainResult(out, paths, metrics, ckpt.state["epoch"], ckpt.state["best_epoch"], wall)


def _fit(
    manifest: ds.Manifest, idx: dict[str, np.ndarray], images: np.ndarray, cfg: TrainConfig, out: Path, resume: bool
) -> tuple[Any, Any]:
    """Fit (resuming from ``out/checkpoints``), restore the best weights; returns (model, checkpoint callback)."""
    from liveredge.models.callbacks import ResumableCheckpoint, TimeBudget, TqdmProgress

    train_idx, val_idx = idx["train"], idx["val"]
    batches = make_batches(images[train_idx], manifest.y[train_idx], cfg)
    model, initial = _model(cfg, out / "checkpoints", resume, len(batches))
    ckpt = ResumableCheckpoint(
        out / "checkpoints", monitor="val_loss" if len(val_idx) else "loss", patience=cfg.patience
    )
    batches.epoch = initial
    batches.order = batches._shuffle()  # noqa: SLF001 - resume: the epoch's order, as the sequence itself makes it
    val = (to_model_input(images[val_idx], cfg.spec), np.eye(len(cfg.labels), dtype=np.float32)[manifest.y[val_idx]])
    history: dict[str, list[float]] = {}
    if initial < cfg.epochs and not ckpt.state["stopped"]:
        fit = model.fit(
            batches,
            validation_data=val if len(val_idx) else None,
            epochs=cfg.epochs,
            initial_epoch=initial,
            verbose=0,
            callbacks=[
                ckpt,
                TqdmProgress(cfg.epochs, len(batches), initial),
                *([TimeBudget(cfg.time_budget_s)] if cfg.time_budget_s else []),
            ],
        )
        history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    if ckpt.best_weights.is_file():
        model.load_weights(ckpt.best_weights)
    _append_history(out / "history.json", history)
    return model, ckpt


def _append_history(path: Path, history: dict[str, list[float]]) -> None:
    old = json.loads(path.read_text()) if path.is_file() else {}
    for k, v in history.items():
        old.setdefault(k, []).extend(v)
    path.write_text(json.dumps(old, indent=1))
