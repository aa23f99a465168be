"""liveredge benchmark: seed discipline, the suite plan, lesion placement, and a reduced real run through LiteRT.

Everything rendered here is SIMULATED ultrasound; the model is the shipped int8 CNN (and its float twin).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from liveredge.cli.main import main
from liveredge.edge.errors import ConfigError
from liveredge.edge.preprocess.spec import PreprocessSpec
from liveredge.edge.sim import anatomy
from liveredge.edge.sim.exam import VIEWS
from liveredge.edge.sim.patient import CLASSES
from liveredge.edge.sim.profiles import KINDS, get_profile
from liveredge.edge.sim.scenes import SCENES
from liveredge.edge.sim.seeds import PURPOSES, RANGES, check_profile, check_seed, purpose_of, seed_range
from liveredge.models.benchmark import score
from liveredge.models.benchmark.render import Renderer, lesion_fully_visible, make_patient_for, make_scanner
from liveredge.models.benchmark.run import plan
from liveredge.models.benchmark.suite import Case, SuiteConfig, digest, suite_profiles
from liveredge.models.benchmark.sweeps import place_lesion

ROOT = Path(__file__).resolve().parents[1]
INT8 = ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"
TINY = ROOT / "tests" / "fixtures" / "tiny_int8.tflite"
LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion")
LABELS5 = (*LABELS, "not_liver")
SMALL = [
    "--profiles",
    "2",
    "--patients",
    "1",
    "--frames",
    "1",
    "--sweep-profiles",
    "1",
    "--sweep-patients",
    "1",
    "--lesion-patients",
    "1",
    "--position-patients",
    "1",
    "--quiet",
]


def test_seed_ranges_are_disjoint_per_kind_and_fit_32_bits() -> None:
    for kind in ("profile", "patient"):
        spans = sorted((r.start, r.stop) for (k, _), r in RANGES.items() if k == kind)
        assert len(spans) == len(PURPOSES)
        assert all(a_stop <= b_start for (_, a_stop), (b_start, _) in zip(spans, spans[1:], strict=False))
        assert spans[-1][1] <= 2**32


def test_check_seed_refuses_the_wrong_range_and_names_both() -> None:
    bench = seed_range("patient", "benchmark")
    assert check_seed(bench.start, kind="patient", purpose="benchmark") == bench.start
    with pytest.raises(ConfigError, match=r"in the training range; benchmark needs benchmark patient seeds 3,000"):
        check_seed(7, kind="patient", purpose="benchmark")
    with pytest.raises(ConfigError, match="in the benchmark range; validation needs"):
        check_seed(900_001, kind="profile", purpose="validation")
    with pytest.raises(ConfigError, match="unassigned"):
        check_seed(500_000, kind="profile", purpose="training")
    for bad in (2**32, -1, True, 3.0e9):
        with pytest.raises(ConfigError, match="aliases"):
            check_seed(bad, kind="patient", purpose="benchmark")  # type: ignore[arg-type]
    assert purpose_of(150_000, "profile") == "validation" and purpose_of(4_100_000_000, "patient") is None


def test_check_profile_keeps_named_sites_out_of_the_benchmark() -> None:
    assert check_profile("S6", "validation") == "S6"
    assert check_profile("random:900003", "benchmark") == "random:900003"
    for name, msg in (("S6", "named site"), ("random:7", "training range"), ("random:x", "use random:SEED")):
        with pytest.raises(ConfigError, match=msg):
            check_profile(name, "benchmark")


def test_plan_uses_only_benchmark_seeds_every_probe_kind_and_is_fixed() -> None:
    cfg = SuiteConfig(
        profiles=3, patients=1, frames=1, sweep_profiles=1, sweep_patients=1, lesion_patients=1, position_patients=1
    )
    cases = plan(cfg)
    prof_seeds = {int(c.profile.split(":")[1]) for c in cases}
    pat_seeds = {c.patient_seed for c in cases}
    assert all(purpose_of(s, "profile") == "benchmark" for s in prof_seeds)
    assert all(purpose_of(s, "patient") == "benchmark" for s in pat_seeds)
    for purpose in ("training", "validation"):
        assert not any(s in seed_range("profile", purpose) for s in prof_seeds)
        assert not any(s in seed_range("patient", purpose) for s in pat_seeds)
    assert {get_profile(p).kind for p in suite_profiles(3)} == set(KINDS)
    assert len(suite_profiles(24)) == len(set(suite_profiles(24))) == 24
    assert {c.sweep for c in cases} == {"profile", "lesion_size", "lesion_position", "gain", "tgc", "view", "ood"}
    core = [c for c in cases if c.sweep == "profile"]
    assert len(core) == 3 * 4 and {c.condition for c in core} == {"normal", "steatosis", "fibrosis", "focal_lesion"}
    assert digest(plan(cfg)) == digest(cases) != digest(plan(replace(cfg, patients=2)))


@pytest.mark.parametrize("bad", [dict(profiles=0), dict(patients=-1), dict(frames=1.5), dict(size=(64, 64))])
def test_suite_config_refuses_bad_counts(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        SuiteConfig(**bad)  # type: ignore[arg-type]


def test_lesion_sweep_places_one_lesion_of_the_asked_size_where_the_simulator_allows_it() -> None:
    case = Case(
        "lesion_size",
        "30mm",
        suite_profiles(1)[0],
        "bench-test-lesion",
        "focal_lesion",
        None,
        "cyst",
        seed_range("patient", "benchmark").start,
        0,
        lesion_mm=30.0,
    )
    patient = make_patient_for(case)
    profile = get_profile(case.profile)
    placed = place_lesion(patient, case, profile, 0)
    assert placed is not None and len(placed.lesions) == 1 and placed.lesions[0].shape.ax == pytest.approx(1.5)
    les = placed.lesions[0].shape
    label = anatomy.tissue_map(replace(patient, lesions=())).label  # the liver fills all above the diaphragm
    row, col = int((les.cz - anatomy.Z0) / anatomy.RES), int((les.cx - anatomy.X0) / anatomy.RES)
    assert label[row, col] == anatomy.REGION["liver"]
    assert lesion_fully_visible(make_scanner(placed, case, (256, 256)), 0)
    outside = place_lesion(patient, case, profile, 1)  # this draw crosses the fan edge: the renderer skips it
    assert outside is not None and not lesion_fully_visible(make_scanner(outside, case, (256, 256)), 0)
    assert place_lesion(patient, replace(case, lesion_target_cm=(40.0, 0.0)), profile, 0) is None
    rendered = Renderer(PreprocessSpec(), (256, 256)).render(case)
    assert rendered.status == "ok" and rendered.lesion_cm == (les.cx, les.cz)
    assert rendered.image is not None and rendered.image.shape == (128, 128)


def test_view_sweep_covers_every_simulator_view() -> None:
    cfg = SuiteConfig(profiles=2, patients=1, sweep_profiles=1, sweep_patients=1)
    cases = [c for c in plan(cfg) if c.sweep == "view"]
    assert tuple(dict.fromkeys(c.point for c in cases)) == VIEWS
    assert all(make_patient_for(c).view.name == c.view for c in cases[:: len(CLASSES)])


def test_gain_offset_changes_the_rendered_frame() -> None:
    base = Case(
        "gain",
        "+0dB",
        suite_profiles(1)[0],
        "bench-test-gain",
        "normal",
        None,
        None,
        seed_range("patient", "benchmark").start + 5,
        0,
    )
    spec = PreprocessSpec()
    dark = Renderer(spec, (256, 256)).render(replace(base, gain_offset_db=-12.0)).image
    mid = Renderer(spec, (256, 256)).render(base).image
    assert dark is not None and mid is not None and dark.mean() < mid.mean() - 5


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bench") / "int8"
    assert main(["benchmark", str(INT8), "--out", str(out), *SMALL]) == 0
    return {"out": out, "r": json.loads((out / "benchmark.json").read_text())}


def test_small_run_json_has_the_headline_first_and_sane_values(small_run: dict[str, object]) -> None:
    r = small_run["r"]
    assert isinstance(r, dict)
    assert list(r)[:4] == ["suite_version", "model_sha256", "worst_profile", "median_balanced_accuracy"]
    assert r["suite_version"] == 1 and len(r["model_sha256"]) == 64
    assert len(r["per_profile"]) == 2 and r["worst_profile"]["profile"] in r["per_profile"]
    assert 0.0 <= r["worst_profile"]["balanced_accuracy"] <= r["median_balanced_accuracy"] <= 1.0
    for v in r["per_profile"].values():
        assert v["n"] == 4 and 0.0 <= v["ece"] <= 1.0 and set(v["sensitivity"]) == set(r["model"]["labels"])
    assert set(r["sweeps"]) == {"lesion_size", "lesion_position", "gain", "tgc", "view"}
    assert list(r["sweeps"]["view"]["points"]) == list(VIEWS)
    assert [p["lesion_mm"] for p in r["sweeps"]["lesion_size"]["points"].values()] == [5, 10, 15, 20, 30, 50]
    assert r["seeds"]["all_in_benchmark_range"] is True
    assert "NOT for clinical use" in r["note"]


def test_small_run_reports_sensitivity_per_grade_and_lesion_size_bin(small_run: dict[str, object]) -> None:
    r = small_run["r"]
    assert isinstance(r, dict)
    grades = r["per_grade"]
    assert grades and all(k.split()[0] in ("steatosis", "fibrosis", "focal_lesion") for k in grades)
    assert all(0.0 <= v["sensitivity"] <= 1.0 and v["n"] > 0 for v in grades.values())
    n_core = sum(v["n"] for v in r["per_profile"].values())
    assert sum(v["n"] for v in grades.values()) < n_core  # the normal frames carry no grade
    bins = r["lesion_size_bins"]
    assert [bins[b]["sizes_mm"] for b in ("5-10mm", "10-20mm", "20-50mm")] == [[5.0], [10.0, 15.0], [20.0, 30.0, 50.0]]
    points = r["sweeps"]["lesion_size"]["points"].values()
    assert sum(b["n"] for b in bins.values()) == sum(p["n"] for p in points)


def test_a_row_scored_with_other_frame_code_is_marked_in_the_card(small_run: dict[str, object], tmp_path: Path) -> None:
    from liveredge.models import card_bench
    from liveredge.models.benchmark.run import code_fingerprint

    doc = json.loads((Path(str(small_run["out"])) / "benchmark.json").read_text())
    assert doc["suite"]["code_sha256"] == code_fingerprint() and len(code_fingerprint()) == 64
    dirs = [tmp_path / "same", tmp_path / "other", tmp_path / "old"]
    for d, code in zip(dirs, (doc["suite"]["code_sha256"], "0" * 64, None), strict=True):
        d.mkdir()
        (d / "benchmark.json").write_text(json.dumps({**doc, "suite": {**doc["suite"], "code_sha256": code}}))
    text = card_bench.render(dirs, ["A", "B", "C"])
    assert "| A |" in text and "| B † |" in text and "| C † |" in text and "compare with care" in text
    assert "compare with care" not in card_bench.render(dirs[:1], ["A"])


def test_per_grade_and_size_bins_score_what_they_are_given() -> None:
    y = np.array([1, 1, 1, 2, 0])
    probs = np.eye(5)[[1, 0, 1, 2, 0]]  # frame 1 (an S2) is called normal
    grades = score.per_grade(["steatosis S1", "steatosis S2", "steatosis S2", "fibrosis F4", None], y, probs)
    assert grades == {
        "fibrosis F4": {"n": 1, "sensitivity": 1.0},
        "steatosis S1": {"n": 1, "sensitivity": 1.0},
        "steatosis S2": {"n": 2, "sensitivity": 0.5},
    }
    hits = np.eye(5)[[0, 3, 3, 0, 3, 3]]  # 5 mm missed, 10 and 15 found, 20 missed, 30 and 50 found
    bins = score.lesion_size_bins([5, 10, 15, 20, 30, 50], hits, LABELS5)
    assert {k: (v["n"], round(v["sensitivity"], 3)) for k, v in bins.items()} == {
        "5-10mm": (1, 0.0),
        "10-20mm": (2, 1.0),
        "20-50mm": (3, 0.667),
    }


def test_small_run_reports_ood_on_every_scene_kind(small_run: dict[str, object]) -> None:
    r = small_run["r"]
    assert isinstance(r, dict)
    ood = r["ood"]
    assert ood["n_scenes"] + ood["scenes_no_region"] == len(SCENES) and ood["n_liver"] == 8
    assert 0.0 <= ood["max_softmax"]["auroc"] <= 1.0 and 0.0 <= ood["max_softmax"]["fpr_at_95tpr"] <= 1.0
    assert 0.0 <= ood["scenes_called_disease"] <= 1.0
    # the shipped CNN has a not_liver output and a gate threshold: both are scored
    assert 0.0 <= ood["not_liver"]["auroc"] <= 1.0 and set(ood["gate"]) >= {"liver_flagged", "scenes_caught"}


def test_ood_scores_a_perfect_and_a_useless_separator() -> None:
    liver = np.array([[0.97, 0.01, 0.01, 0.01]] * 20)
    unsure = np.full((10, 4), 0.25)
    perfect = score.ood(liver, unsure, ["air"] * 10, LABELS)
    assert perfect["max_softmax"]["auroc"] == 1.0 and perfect["max_softmax"]["fpr_at_95tpr"] == 0.0
    confident_disease = np.array([[0.01, 0.01, 0.97, 0.01]] * 10)
    useless = score.ood(liver, confident_disease, ["cardiac"] * 10, (*LABELS[:3], "not_liver"))
    assert useless["max_softmax"]["auroc"] == 0.5 and useless["max_softmax"]["fpr_at_95tpr"] == 1.0
    assert useless["scenes_called_disease"] == 1.0 and useless["not_liver"]["auroc_per_scene"] == {"cardiac": 0.5}


def test_small_run_reports_int8_agreement_with_the_float_twin(small_run: dict[str, object]) -> None:
    r = small_run["r"]
    assert isinstance(r, dict)
    agree = r["int8_agreement"]
    assert agree["twin"] == "liver_cnn_int8.float32.tflite"
    assert all(0.0 <= v["int8_agreement"] <= 1.0 for v in r["per_profile"].values())
    assert agree["worst"] == min(v["int8_agreement"] for v in r["per_profile"].values())


def test_small_run_writes_html_with_notice_and_plots(small_run: dict[str, object]) -> None:
    out = small_run["out"]
    assert isinstance(out, Path)
    page = (out / "benchmark.html").read_text()
    assert "NOT for clinical use" in page and "never be used to choose" in page
    for png in ("profiles.png", "reliability.png", "lesion_size.png", "lesion_position.png", "gain_tgc.png"):
        assert (out / png).stat().st_size > 1000 and png in page


def test_model_without_twin_has_no_agreement(tmp_path: Path) -> None:
    model = tmp_path / "tiny_int8.tflite"
    shutil.copy(TINY, model)
    assert main(["benchmark", str(model), "--out", str(tmp_path / "out"), *SMALL, "--no-sweeps"]) == 0
    r = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert r["int8_agreement"] is None and r["sweeps"] == {}
    assert all("int8_agreement" not in v for v in r["per_profile"].values())


def test_cli_errors_exit_2_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        ([str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "o")], "no such model"),
        ([str(TINY), "--out", str(blocker / "sub")], "cannot create or write"),
        ([str(TINY), "--out", str(tmp_path / "o"), "--profiles", "0"], "--profiles must be an integer >= 1"),
        ([str(TINY), "--out", str(tmp_path / "o"), "--size", "big"], "--size 'big'"),
    ]
    for argv, msg in cases:
        assert main(["benchmark", *argv]) == 2
        err = capsys.readouterr().err
        assert msg in err and "Traceback" not in err


def test_ood_reports_the_runtime_gate_at_the_models_threshold() -> None:
    import numpy as np

    from liveredge.models.benchmark import score

    labels = ("normal", "steatosis", "fibrosis", "focal_lesion", "not_liver")
    liver = np.array([[0.7, 0.1, 0.1, 0.05, 0.05]] * 9 + [[0.2, 0.1, 0.1, 0.0, 0.6]])
    scenes = np.array([[0.0, 0.0, 0.1, 0.0, 0.9]] * 3 + [[0.1, 0.1, 0.6, 0.0, 0.2]])
    out = score.ood(liver, scenes, ["cardiac"] * 4, labels, not_liver_threshold=0.5)
    assert out["gate"] == {
        "not_liver_threshold": 0.5,
        "liver_flagged": 0.1,
        "scenes_caught": 0.75,
        "scenes_called_disease": 0.25,
    }
    assert "gate" not in score.ood(liver, scenes, ["cardiac"] * 4, labels)


def test_model_card_section_is_filled_from_the_report(small_run: dict[str, object], tmp_path: Path) -> None:
    from liveredge.models import card_bench

    out = Path(str(small_run["out"]))
    card = tmp_path / "CARD.md"
    card.write_text(f"# card\n\n{card_bench.BEGIN}\nold text\n{card_bench.END}\n\n## after\n")
    assert card_bench.main([str(out), "--card", str(card)]) == 0
    text = card.read_text()
    doc = json.loads((out / "benchmark.json").read_text())
    assert "old text" not in text and text.endswith("## after\n")
    assert f"| {doc['median_balanced_accuracy']:.2f} |" in text and "BENCHMARK seed range" in text
    s1 = doc["per_grade"].get("steatosis S1", {}).get("sensitivity")
    assert "| steatosis S1 / S2 / S3 |" in text and (s1 is None or f"| {s1:.2f} / " in text)
    with pytest.raises(ConfigError, match="no benchmark report"):
        card_bench.render([tmp_path])
