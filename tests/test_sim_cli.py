"""``liveredge simulate``: dataset balance and layout, clips with ground truth, bad input exits 2."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.cli.main import main
from liveredge.edge.sim import CLASSES


def test_dataset_is_balanced_complete_and_site_consistent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds"
    rc = main(
        [
            "simulate",
            "dataset",
            str(out),
            "--patients",
            "16",
            "--frames-per-patient",
            "2",
            "--sites",
            "S1,S4,random:7",
            "--seed",
            "3",
            "--size",
            "200x240",
            "--quiet",
        ]
    )
    assert rc == 0
    assert "not for clinical use" in capsys.readouterr().out.lower()
    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 32
    for col in ("path", "mask_path", "label", "severity", "patient_id", "site_id", "condition", "lesion", "frame"):
        assert col in rows[0]
    per_class = Counter(r["label"] for r in rows)
    assert set(per_class) == set(CLASSES) and len(set(per_class.values())) == 1
    sites_of = defaultdict(set)
    for r in rows:
        sites_of[r["patient_id"]].add(r["site_id"])
    assert all(len(s) == 1 for s in sites_of.values()), "a patient spans two sites"
    assert {next(iter(s)) for s in sites_of.values()} == {"S1", "S4", "random:7"}
    fib = {int(r["severity"]) for r in rows if r["label"] == "fibrosis"}
    assert fib <= {2, 3, 4} and len(fib) >= 2
    assert {r["lesion"] for r in rows if r["label"] == "focal_lesion"} <= {"cyst", "haemangioma", "hcc", "metastasis"}
    img = cv2.imread(str(out / rows[0]["path"]))
    mask = cv2.imread(str(out / rows[0]["mask_path"]), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (200, 240, 3) and mask.shape == (200, 240)
    assert set(np.unique(mask)) == {0, 255}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folder left behind"


def test_clip_writes_mp4_and_per_frame_truth(tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    rc = main(
        [
            "simulate",
            "clip",
            str(out),
            "--condition",
            "steatosis",
            "--severity",
            "2",
            "--seconds",
            "0.5",
            "--fps",
            "20",
            "--site",
            "S3",
            "--size",
            "240x320",
            "--freeze-prob",
            "0.2",
            "--quiet",
        ]
    )
    assert rc == 0
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    meta = json.loads(out.with_suffix(".json").read_text())
    assert n == 10 == len(meta["frames"])
    assert meta["fps"] == 20 and meta["site_id"] == "S3" and "not for clinical use" in meta["note"]
    assert {f["label"] for f in meta["frames"]} == {"steatosis"} and meta["patient"]["severity"] == 2
    assert meta["fan_geometry"][0]["kind"] == "phased"


def test_profiles_lists_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "profiles"]) == 0
    text = capsys.readouterr().out
    assert all(f"S{k}" in text for k in range(1, 7)) and "random:SEED" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "dataset", "{tmp}/a", "--patients", "-1"],
        ["simulate", "dataset", "{tmp}/a", "--patients", "2", "--frames-per-patient", "0"],
        ["simulate", "dataset", "{tmp}/a", "--patients", "2", "--sites", "S1,nowhere"],
        ["simulate", "dataset", "{tmp}/afile/sub", "--patients", "1"],
        ["simulate", "dataset", "{tmp}/a", "--patients", "1", "--size", "big"],
        ["simulate", "clip", "{tmp}/c.mp4", "--condition", "hepatitis"],
        ["simulate", "clip", "{tmp}/c.mp4", "--site", "S42"],
        ["simulate", "clip", "{tmp}/missing/c.mp4", "--seconds", "0.1"],
        ["simulate", "dataset", "{tmp}/a", "--patients", "x"],
    ],
)
def test_bad_input_exits_2(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("not a folder")
    args = [a.format(tmp=tmp_path) for a in argv]
    try:
        rc = main(args)
    except SystemExit as exc:  # argparse usage errors
        rc = int(exc.code or 0)
    assert rc == 2
    assert "error" in capsys.readouterr().err.lower()
    assert not (tmp_path / "a").exists()
