"""Models for the runtime/interpreter tests: the committed tiny fixture, else a tiny int8 model built with TF.

``tiny_model_path(folder, cam=False)`` returns ``folder/tiny_int8.tflite`` with its ``.sha256`` sidecar and a
statement (role release, version 1) signed by a test key made in ``folder`` (and the float32 twin
``tiny.float32.tflite``); the CAM variant has a (1, h, w, 4) class-activation output. The test key is NOT the
release key: load with :func:`trusted` (API) or :func:`pubkey_args` (CLI), which add it as a fleet key.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from liveredge.edge.events import CLASSES

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "tiny_int8.tflite"
LABELS = CLASSES


def _build(folder: Path, cam: bool, labels: tuple[str, ...] = LABELS, favour: int | None = None) -> None:
    tf = pytest.importorskip("tensorflow")
    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.model_meta import ModelMetadata, OperatingPoint, QuantParams
    from liveredge.edge.preprocess.spec import PreprocessSpec

    tf.random.set_seed(0)
    inp = tf.keras.Input((128, 128, 1))
    x = tf.keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inp)
    x = tf.keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    bias = np.zeros(len(labels), np.float32)
    if favour is not None:
        bias[favour] = 4.0  # this output wins on any frame (tests that need a known reported class)
    feat = tf.keras.layers.Conv2D(len(labels), 1, bias_initializer=tf.keras.initializers.Constant(bias))(x)
    out = tf.keras.layers.Softmax()(tf.keras.layers.GlobalAveragePooling2D()(feat))
    model = tf.keras.Model(inp, [out, feat] if cam else out)

    def rep():  # calibration: random frames in [0, 1]
        rng = np.random.default_rng(0)
        for _ in range(8):
            yield [rng.random((1, 128, 128, 1), dtype=np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    float_bytes = conv.convert()
    conv.optimizations, conv.representative_dataset = [tf.lite.Optimize.DEFAULT], rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    meta = ModelMetadata(
        name="tiny",
        labels=labels,
        preprocess=PreprocessSpec(),
        input_quant=QuantParams(1 / 255, -128, "int8"),
        operating_point=OperatingPoint(0.3, None, 0.3),
        cam_output=0 if cam else None,
    )
    (folder / "tiny_int8.tflite").write_bytes(embed_metadata(conv.convert(), meta))
    (folder / "tiny.float32.tflite").write_bytes(embed_metadata(float_bytes, meta))


def signer_pub(model: Path) -> Path:
    """The test signer's public key beside ``model``."""
    return model.parent / "test-signer.pub"


def sign_test_model(model: Path, role: str = "release", version: int = 1, **kw: str) -> Path:
    """Sign ``model`` with the test key of its folder (made once); returns the model path."""
    from liveredge.convert.signing import SignRequest, generate_keypair, sign_model

    key = model.parent / "test-signer.key"
    if not key.is_file():
        generate_keypair(key, signer_pub(model))
    gate = kw.pop("gate", "passed" if role == "release" else None)
    sign_model(model, key, SignRequest(role, version, gate=gate, **kw))
    return model


def trusted(model: Path, **options: Any) -> Any:
    """LoadOptions trusting the test key beside ``model`` (plus the release key); ``allow_*`` go to the policy."""
    from liveredge.edge.runtime import LoadOptions, TrustPolicy

    policy = {k: options.pop(k) for k in list(options) if k.startswith("allow_") or k == "state_dir"}
    return LoadOptions(trust=TrustPolicy(extra_keys=(signer_pub(model),), **policy), **options)


def pubkey_args(model: Path) -> list[str]:
    """CLI flags trusting the test key beside ``model``."""
    return ["--pubkey", str(signer_pub(model))]


def tiny_model_path(
    folder: Path, cam: bool = False, labels: tuple[str, ...] = LABELS, favour: int | None = None
) -> Path:
    """A signed (test key) tiny int8 classifier (128x128x1 → one probability per label, 4 by default) in
    ``folder``; ``favour``: the output index that wins on every frame (built with TF, so the test skips where
    TF is absent)."""

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny_int8.tflite"
    if FIXTURE.is_file() and not cam and labels == LABELS and favour is None:
        shutil.copy(FIXTURE, path)
        twin = FIXTURE.with_name("tiny.float32.tflite")
        if twin.is_file():
            shutil.copy(twin, folder / twin.name)
    else:
        _build(folder, cam, labels, favour)
    return sign_test_model(path)


_SIGNED: list[Path] = []


def signed_fixture_model() -> Path:
    """The tiny fixture model, copied once per test process into a temp folder and signed by its test key (use
    :func:`pubkey_args` / :func:`trusted` to trust it)."""
    import atexit
    import shutil
    import tempfile

    if not _SIGNED:
        folder = tempfile.mkdtemp(prefix="liveredge-signed-")
        atexit.register(shutil.rmtree, folder, True)  # deleted when the test process ends
        _SIGNED.append(tiny_model_path(Path(folder)))
    return _SIGNED[0]
