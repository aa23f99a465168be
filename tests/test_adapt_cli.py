"""``liveredge adapt`` end to end and ``--site`` in run / bench / evaluate / the run config (no TF).

Real parts: the shipped int8 CNN (a temporary copy with an intensity reference embedded — the zoo files are never
rewritten) through LiteRT, simulated sources and datasets, pydicom's bundled non-liver ultrasound clips.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from runtime_fixtures import pubkey_args, sign_test_model, trusted

from liveredge.cli.main import main
from liveredge.edge import harmonize as h
from liveredge.edge.model_meta import read_metadata
from liveredge.edge.runtime.adapt import check_frames, read_frames

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"
NEW_SCANNER = "sim://?site=random:207&seed=7&condition=normal&size=240x320"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped int8 CNN whose metadata carries a reference from simulated training sites S1-S5."""
    pytest.importorskip("ai_edge_litert")
    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.integrity import write_sidecar

    meta = read_metadata(ZOO)
    assert meta is not None
    checks = []
    for site in ("S1", "S2", "S3", "S4", "S5"):
        checks += check_frames(
            read_frames(f"sim://?site={site}&seed=9&size=240x320", 8), meta.preprocess, h.TissueRule()
        )
    ref = h.reference_from_checks(checks, "simulated S1-S5")
    path = tmp_path_factory.mktemp("adapt") / "cnn_ref_int8.tflite"
    path.write_bytes(embed_metadata(ZOO.read_bytes(), dataclasses.replace(meta, intensity_reference=ref)))
    write_sidecar(path)
    # a release statement by this folder's test key (trusted via pubkey_args), under its own name so the
    # anti-rollback record of the shipped liver_cnn (v2, run by other tests) does not refuse this v1 copy
    return sign_test_model(path, name="adapt_test_cnn")


@pytest.fixture(scope="module")
def site(model: Path) -> Path:
    out = model.parent / "site.json"
    assert main(["adapt", "--model", str(model), "--source", NEW_SCANNER, "--frames", "40", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "ref"
    assert (
        main(
            [
                "simulate",
                "dataset",
                str(out),
                "--patients",
                "8",
                "--frames-per-patient",
                "1",
                "--sites",
                "S1,S2,S3,S4,S5",
                "--size",
                "240x320",
                "--seed",
                "5",
                "--quiet",
            ]
        )
        == 0
    )
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_adapt_writes_a_site_file_bound_to_the_model(model: Path, site: Path) -> None:
    doc = json.loads(site.read_text())
    assert doc["format"] == "liveredge-site" and doc["version"] == 1 and doc["model"]["sha256"] == _sha(model)
    assert len(doc["lut"]) == 256 and doc["lut"][0] == 0 and doc["lut"][255] == 255
    rep = doc["report"]
    assert rep["landmark_error_after"] < 0.3 * rep["landmark_error_before"] and rep["max_grey_shift"] > 0
    assert len(rep["before"]) == len(rep["after"]) == len(rep["reference"]) == len(rep["percentiles"])
    assert doc["frames"]["requested"] == doc["frames"]["read"] == 40 and doc["frames"]["used"] >= 30
    assert "SIMULATED" in doc["note"] and "model's metadata" in doc["reference"]["note"]


def test_model_without_reference_needs_reference_data(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from liveredge.convert.embed import embed_metadata

    meta = read_metadata(ZOO)
    assert meta is not None
    bare = tmp_path / "no_reference_int8.tflite"  # a model converted before references were recorded
    bare.write_bytes(embed_metadata(ZOO.read_bytes(), dataclasses.replace(meta, intensity_reference=None)))
    out = tmp_path / "s.json"
    args = ["adapt", "--model", str(bare), "--source", NEW_SCANNER, "--frames", "40", "--out", str(out)]
    assert main(args) == 2 and not out.exists()
    assert "records no training intensity reference" in capsys.readouterr().err
    assert main(args + ["--reference", str(dataset)]) == 0
    assert "--reference; the model's metadata has none" in capsys.readouterr().err
    assert json.loads(out.read_text())["model"]["sha256"] == _sha(bare)


@pytest.mark.parametrize(
    "name, words",
    [
        # cardiac cine, 30 frames: grey levels alone map it onto the reference since simulator v2; the shipped model's
        # own "not a liver" gate refuses it
        ("examples_ybr_color.dcm", "'not a liver' gate fires on"),
        # a single power-Doppler lymph-node frame: since the v3 model (and the split of its two touching panels) the
        # gate refuses it before the tissue check does (v2: "only 1 of 1 frames show enough liver tissue")
        ("examples_rgb_color.dcm", "'not a liver' gate fires on"),
    ],
)
def test_adapt_refuses_non_liver_ultrasound(
    model: Path, tmp_path: Path, name: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pydicom.data import get_testdata_file

    out = tmp_path / "s.json"
    assert (
        main(["adapt", "--model", str(model), "--source", f"dicom://{get_testdata_file(name)}", "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert "refused" in err and words in err and "Traceback" not in err and not out.exists()


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_run_records_carry_the_site_hash_from_flag_and_config(model: Path, site: Path, tmp_path: Path) -> None:
    via_config = tmp_path / "run.toml"
    via_config.write_text(f'[model]\nsite = "{site}"\n', encoding="utf-8")
    for extra, name in ((["--site", str(site)], "flag"), (["--config", str(via_config)], "config")):
        jsonl = tmp_path / f"{name}.jsonl"
        assert (
            main(
                [
                    "run",
                    "--model",
                    str(model),
                    "--source",
                    NEW_SCANNER,
                    "--rate",
                    "max",
                    "--max-frames",
                    "6",
                    "--exam",
                    "E1",
                    "--jsonl",
                    str(jsonl),
                    *pubkey_args(model),
                    *extra,
                ]
            )
            == 0
        )
        events = _records(jsonl)
        results = [e for e in events if e["type"] in ("result", "exam_summary")]
        assert len(results) == 7 and {e["site_sha256"] for e in results} == {_sha(site)}, name
    plain = tmp_path / "plain.jsonl"
    assert (
        main(
            [
                "run",
                "--model",
                str(model),
                "--source",
                NEW_SCANNER,
                "--rate",
                "max",
                "--max-frames",
                "2",
                "--jsonl",
                str(plain),
                *pubkey_args(model),
            ]
        )
        == 0
    )
    assert {e["site_sha256"] for e in _records(plain) if e["type"] == "result"} == {None}


def test_site_changes_the_model_input_through_the_lut(model: Path, site: Path) -> None:
    import numpy as np

    from liveredge.edge.runtime import FrameProcessor, load_model
    from liveredge.edge.site import apply_site, read_site

    plain = load_model(model, trusted(model, num_threads=1))
    loaded = read_site(site)
    adapted = apply_site(plain, loaded)
    frame = read_frames(NEW_SCANNER, 1)[0]
    a, b = FrameProcessor(plain), FrameProcessor(adapted)
    x_plain, _ = a.prepare(frame)
    x_site, _ = b.prepare(frame)
    gray = b.region.preprocessor.gray(frame)
    assert np.array_equal(x_site[..., 0], plain.input_lut[loaded.lut[gray]]) and not np.array_equal(x_plain, x_site)


def test_wrong_model_hash_is_refused_by_run_evaluate_bench(
    site: Path, dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = [
        ["run", "--model", str(ZOO), "--source", NEW_SCANNER, "--max-frames", "2", "--site", str(site)],
        ["bench", "--model", str(ZOO), "--frames", "30", "--site", str(site)],
        ["evaluate", str(ZOO), str(dataset), "--out", str(tmp_path / "ev"), "--n-boot", "0", "--site", str(site)],
    ]
    for args in commands:
        assert main(args) == 2, args[0]
        err = capsys.readouterr().err
        assert (
            f"site file {site} was fitted for the model with sha256 {_sha(site.parent / 'cnn_ref_int8.tflite')[:16]}"
            in err
        )
        assert "re-run 'liveredge adapt'" in err and "Traceback" not in err


def test_evaluate_and_bench_apply_and_record_the_site(model: Path, site: Path, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    assert main(["evaluate", str(model), str(dataset), "--out", str(out), "--n-boot", "0", "--site", str(site)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["site"]["sha256"] == _sha(site) and "grey" in report["site"]["summary"]
    bench = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "--model",
                str(model),
                "--frames",
                "30",
                "--source",
                NEW_SCANNER,
                "--site",
                str(site),
                "--json",
                str(bench),
                *pubkey_args(model),
            ]
        )
        == 0
    )
    assert json.loads(bench.read_text())["site_sha256"] == _sha(site)
