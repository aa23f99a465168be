"""What a clinic does with its own frames: patient-level split, fine-tuning, held-out evaluation (TensorFlow).

Shared by the Flower ClientApp (inside each clinic's SuperNode) and by the baselines (local-only, pooled), so all
three train with the same recipe as ``liveredge train``: the runtime's preprocessing (:class:`PreprocessSpec`),
patient-level splits, class-weighted loss and ultrasound augmentation (:func:`liveredge.models.train.make_batches`).
FedProx adds ``mu/2 * ||w - w_global||^2`` to the loss. All images are SIMULATED, not for clinical use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import DataError, ModelError
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.models import dataset as ds
from liveredge.models.frames import load_usable_frames
from liveredge.models.metrics import accuracy, balanced_accuracy

ZOO_MODEL = Path(__file__).resolve().parents[1] / "zoo" / "liver_cnn.keras"


@dataclass(frozen=True)
class ClinicData:
    """One clinic's usable frames split by patient: ``train_*`` fit weights, ``val_*`` are held-out patients."""

    train_images: np.ndarray
    train_y: np.ndarray
    val_images: np.ndarray
    val_y: np.ndarray
    n_train_patients: int
    n_val_patients: int


@dataclass(frozen=True)
class FitSettings:
    """How a clinic fine-tunes: epochs, batch, learning rate, FedProx ``mu`` (0: plain local SGD), seed."""

    epochs: int
    batch_size: int
    learning_rate: float
    proximal_mu: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Scores:
    """Aggregate metrics of a model on a set of frames (no frame, id or path: safe to send)."""

    balanced_accuracy: float
    accuracy: float
    frames: int


def load_clinic(
    dataset: str | Path, spec: PreprocessSpec, labels: tuple[str, ...], val_frac: float, seed: int
) -> ClinicData:
    """Read a clinic's manifest, split its patients (stratified by label), load the frames the runtime can use."""
    manifest = ds.read_manifest(dataset, labels)
    splits = ds.split_patients(manifest, val_frac=val_frac, seed=seed)
    idx = ds.split_indices(manifest, splits)
    images, usable = load_usable_frames(manifest, spec)
    idx = {name: ix[usable[ix]] for name, ix in idx.items()}
    ds.check_classes(manifest, idx, required=("train",))
    if not len(idx["val"]):
        raise DataError(f"{dataset}: no held-out patients (raise --val-frac or --patients-per-clinic)")
    y = manifest.y
    return ClinicData(
        images[idx["train"]],
        y[idx["train"]],
        images[idx["val"]],
        y[idx["val"]],
        len(splits["train"]),
        len(splits["val"]),
    )


def configure(threads: int, seed: int) -> None:
    """Few threads (shared machines), fixed seeds; quiet TensorFlow logs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from liveredge.models.train import configure_tf

    configure_tf(threads, seed)


def initial_model(
    init: str, labels: tuple[str, ...], width: float, input_size: tuple[int, int], seed: int
) -> tuple[Any, PreprocessSpec]:
    """(model with outputs [probs, cam], its spec): the zoo CNN, or a fresh network (tests, smoke runs)."""
    import keras

    if init == "zoo":
        from liveredge.models.export import read_sidecar

        sidecar = read_sidecar(ZOO_MODEL)
        if sidecar is None or not ZOO_MODEL.is_file():
            raise ModelError(f"{ZOO_MODEL}: the zoo model or its sidecar is missing")
        if tuple(sidecar.labels) != tuple(labels):
            raise ModelError(f"{ZOO_MODEL}: labels {sidecar.labels} differ from the federation's {labels}")
        return keras.models.load_model(ZOO_MODEL, compile=False), sidecar.preprocess
    from liveredge.models.arch import ArchConfig, build

    keras.utils.set_random_seed(seed)
    spec = PreprocessSpec(input_size=input_size)
    return build(spec, ArchConfig(n_classes=len(labels), width=width)), spec


def model_from_json(text: str, weights: list[np.ndarray]) -> Any:
    """Rebuild the network the server described (architecture JSON, no data) and load its weights."""
    import keras

    try:
        model = keras.models.model_from_json(text)
        model.set_weights(weights)
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"the server's model description or weights are unusable: {exc}") from exc
    return model


def fit(
    model: Any, images: np.ndarray, y: np.ndarray, spec: PreprocessSpec, labels: tuple[str, ...], settings: FitSettings
) -> float:
    """Fine-tune ``model`` (outputs [probs, cam]) in place; returns the last epoch's mean training loss."""
    import keras
    import tensorflow as tf

    from liveredge.models.arch import probs_model
    from liveredge.models.train import TrainConfig, make_batches

    batches = make_batches(
        images, y, TrainConfig(labels=labels, spec=spec, batch_size=settings.batch_size, seed=settings.seed)
    )
    net = probs_model(model)
    anchor = [tf.constant(v) for v in net.trainable_variables]
    optimizer = keras.optimizers.Adam(settings.learning_rate)
    mu = float(settings.proximal_mu)

    @tf.function(reduce_retracing=True)
    def step(x: tf.Tensor, onehot: tf.Tensor, weight: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            per_frame = keras.losses.categorical_crossentropy(onehot, net(x, training=True))
            loss = tf.reduce_sum(per_frame * weight) / tf.cast(tf.shape(x)[0], tf.float32)
            if mu > 0:
                loss += (
                    0.5
                    * mu
                    * tf.add_n(
                        [tf.reduce_sum(tf.square(v - a)) for v, a in zip(net.trainable_variables, anchor, strict=True)]
                    )
                )
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return loss

    last = float("nan")
    for _ in range(settings.epochs):
        losses = [float(step(*(tf.convert_to_tensor(a) for a in batches[i]))) for i in range(len(batches))]
        last = float(np.mean(losses))
        batches.on_epoch_end()
    return last


def score(model: Any, images: np.ndarray, y: np.ndarray, spec: PreprocessSpec, n_classes: int) -> Scores:
    """Balanced accuracy (the worst-clinic headline), accuracy and frame count on ``images``."""
    from liveredge.models.train import predict_probs

    if not len(y):
        return Scores(float("nan"), float("nan"), 0)
    pred = predict_probs(model, images, spec).argmax(axis=1)
    return Scores(balanced_accuracy(y, pred, n_classes), accuracy(y, pred), int(len(y)))
