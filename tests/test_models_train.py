"""Architectures, the training loop (tiny model, few steps, resume), export, and evaluation of Keras, SavedModel
and real LiteRT .tflite (float + int8) models. Checks the loop and the files, not the accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_models_support import write_dataset

keras = pytest.importorskip("keras")

from liveredge.cli.main import main  # noqa: E402
from liveredge.edge.errors import ConfigError, ModelError  # noqa: E402
from liveredge.edge.preprocess import PreprocessSpec  # noqa: E402
from liveredge.models.arch import ArchConfig, build  # noqa: E402
from liveredge.models.evaluate import EvalConfig, evaluate  # noqa: E402
from liveredge.models.export import read_sidecar  # noqa: E402
from liveredge.models.predict import load_predictor  # noqa: E402
from liveredge.models.train import TrainConfig, train  # noqa: E402

SPEC = PreprocessSpec(input_size=(32, 32))


def _cfg(**kw: object) -> TrainConfig:
    base = dict(
        arch="cnn",
        width=0.25,
        epochs=2,
        batch_size=8,
        holdout_site="S3",
        val_frac=0.5,
        spec=SPEC,
        n_boot=20,
        steps_per_epoch=2,
        patience=5,
    )
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("trainds"), {"S1": 2, "S2": 2, "S3": 1}, frames=2)


@pytest.fixture(scope="module")
def run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(data, out, _cfg())
    return out


@pytest.mark.parametrize("arch", ["cnn", "hybrid"])
def test_architectures_are_int8_friendly_with_cam(arch: str) -> None:
    model = build(PreprocessSpec(input_size=(64, 96)), ArchConfig(arch=arch, width=0.5))
    assert [o.name.split("/")[0] for o in model.outputs] == ["probs", "cam"] or model.output_names == ["probs", "cam"]
    x = np.random.default_rng(0).random((2, 64, 96, 1), dtype=np.float32)
    probs, cam = (np.asarray(t) for t in model(x, training=False))
    assert probs.shape == (2, 4) and cam.shape == (2, 4, 6, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    logits = cam.mean(axis=(1, 2))  # classifier == 1x1 conv + global average: the CAM is exact
    ref = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, ref / ref.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
    config = json.dumps(model.get_config())
    for bad in ("swish", "gelu", "hard_sigmoid", "LayerNormalization", "sigmoid"):
        assert bad not in config
    wider = build(PreprocessSpec(input_size=(64, 96)), ArchConfig(arch=arch, width=1.0))
    assert wider.count_params() > 2 * model.count_params()
    with pytest.raises(ConfigError, match="multiple of 16"):
        build(PreprocessSpec(input_size=(40, 40)), ArchConfig(arch=arch))


def test_training_writes_models_sidecar_splits_and_metrics(run: Path) -> None:
    sidecar = json.loads((run / "liver_cnn.liveredge.json").read_text())
    ref = read_sidecar(run / "liver_cnn.keras").intensity_reference  # what 'liveredge adapt' maps a scanner onto
    train_frames = 2 * len(json.loads((run / "splits.json").read_text())["train"])
    assert ref is not None and 0 < ref.n_frames <= train_frames and ref.source.startswith("training frames")
    assert sidecar.pop("intensity_reference") == ref.to_dict()
    assert sidecar == {
        "name": "liver_cnn",
        "labels": ["normal", "steatosis", "fibrosis", "focal_lesion"],
        "preprocess": SPEC.to_dict(),
        "cam_output": 1,
    }
    inside = json.loads((run / "liver_cnn_savedmodel" / "liveredge.json").read_text())
    assert inside.pop("intensity_reference") == ref.to_dict() and inside == sidecar
    splits = json.loads((run / "splits.json").read_text())
    assert all(p.startswith("S3") for p in splits["holdout"]) and splits["train"] and splits["val"]
    assert not set(splits["train"]) & set(splits["val"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"train", "val", "holdout", "_run"} and metrics["holdout"]["n"] == 8
    assert 0.0 <= metrics["val"]["balanced_accuracy"] <= 1.0
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and len(json.loads((run / "history.json").read_text())["loss"]) == 2


def test_training_resumes_from_checkpoint(data: Path, run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "resumed"
    shutil.copytree(run, copy)
    result = train(data, copy, _cfg(epochs=3))
    assert result.epochs_run == 3
    assert len(json.loads((copy / "history.json").read_text())["loss"]) == 3  # 2 before + 1 resumed


def _convert(keras_path: Path, out: Path, images: np.ndarray, int8: bool) -> Path:
    import tensorflow as tf

    model = keras.models.load_model(keras_path)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([(img[None, :, :, None] / 255.0).astype(np.float32)] for img in images)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    out.write_bytes(conv.convert())
    (out.with_name(out.name.split(".")[0] + ".liveredge.json")).write_text(
        (keras_path.with_name("liver_cnn.liveredge.json")).read_text()
    )
    return out


def test_evaluate_keras_savedmodel_and_tflite(data: Path, run: Path, tmp_path: Path) -> None:
    from liveredge.models.dataset import read_manifest
    from liveredge.models.frames import load_frames

    cfg = EvalConfig(n_boot=20)
    ref = evaluate(run / "liver_cnn.keras", data, tmp_path / "k", cfg)
    for name in ("report.json", "report.html", "roc.png", "confusion.png", "reliability.png", "per_site.png"):
        assert (tmp_path / "k" / name).stat().st_size > 0
    on_disk = json.loads((tmp_path / "k" / "report.json").read_text())
    assert on_disk["macro_auc"] == ref["macro_auc"] and set(on_disk["per_site"]) == {"S1", "S2", "S3"}
    assert np.array(on_disk["confusion"]).sum() == 40 and "NOT for clinical use" in on_disk["note"]
    html = (tmp_path / "k" / "report.html").read_text()
    assert "roc.png" in html and f"{ref['balanced_accuracy']:.3f}" in html
    saved = evaluate(run / "liver_cnn_savedmodel", data, tmp_path / "s", cfg)
    assert saved["confusion"] == ref["confusion"]
    images = load_frames(read_manifest(data), SPEC)
    keras_probs = load_predictor(run / "liver_cnn.keras").predict(images)
    f32 = load_predictor(_convert(run / "liver_cnn.keras", tmp_path / "m_f32.tflite", images, int8=False))
    np.testing.assert_allclose(f32.predict(images), keras_probs, atol=1e-4)
    q = load_predictor(_convert(run / "liver_cnn.keras", tmp_path / "m_int8.tflite", images, int8=True))
    assert q.info.input_dtype == "int8" and q.info.input_quant is not None
    from ai_edge_litert.interpreter import Interpreter

    detail = Interpreter(model_path=str(tmp_path / "m_int8.tflite")).get_input_details()[0]
    assert q.info.input_quant == pytest.approx(detail["quantization"])  # no metadata: the tensor's own qparams
    assert np.abs(q.predict(images) - keras_probs).max() < 0.1
    report = evaluate(tmp_path / "m_int8.tflite", data, tmp_path / "q", EvalConfig(sites=("S3",), n_boot=20))
    assert report["n"] == 8 and report["model"]["input_dtype"] == "int8"


def test_model_input_mismatch_is_reported(run: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copy(run / "liver_cnn.keras", tmp_path / "liver_cnn.keras")
    wrong = read_sidecar(run / "liver_cnn.keras")
    assert wrong is not None
    meta = json.loads((run / "liver_cnn.liveredge.json").read_text())
    meta["preprocess"]["input_size"] = [64, 64]
    (tmp_path / "liver_cnn.liveredge.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"input shape \(None, 32, 32, 1\) does not match .*\(batch, 64, 64, 1\)"):
        load_predictor(tmp_path / "liver_cnn.keras")


def test_cli_train_and_evaluate(data: Path, run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "evaluate",
            str(run / "liver_cnn.keras"),
            str(data),
            "--out",
            str(tmp_path / "rep"),
            "--splits",
            str(run / "splits.json"),
            "--split",
            "holdout",
            "--n-boot",
            "10",
        ]
    )
    assert rc == 0 and "8 frames: macro_auc" in capsys.readouterr().out
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["subset"]["split"] == "holdout"
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.csv").write_text("path,label,patient_id,site_id\nx.png,normal,P1,S1\n")
    rc = main(["train", str(tmp_path / "bad"), "--out", str(tmp_path / "r"), "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "files are missing: row 2" in err
