"""``liveredge crop`` on real files: PNG screenshots, a video written with OpenCV, DICOM; bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.cli.main import main
from liveredge.edge.preprocess.fit import iou
from liveredge.edge.sim import Scanner, get_profile, make_patient

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _outputs(out: Path, stem: str) -> tuple[np.ndarray, np.ndarray, dict]:  # type: ignore[type-arg]
    mask = cv2.imread(str(out / f"{stem}_mask.png"), cv2.IMREAD_UNCHANGED)
    overlay = cv2.imread(str(out / f"{stem}_overlay.png"), cv2.IMREAD_UNCHANGED)
    doc = json.loads((out / f"{stem}.json").read_text())
    return mask, overlay, doc


def test_crop_png_screenshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = Scanner(
        make_patient("C1", "fibrosis", view="subcostal"), get_profile("S3"), size=(480, 640), doppler=True
    ).frame(4)
    src = tmp_path / "screen one.png"
    cv2.imwrite(str(src), frame.image)
    assert main(["crop", str(src), "--out", str(tmp_path / "out")]) == 0
    assert "phased region" in capsys.readouterr().out
    mask, overlay, doc = _outputs(tmp_path / "out", "screen one")
    assert mask.shape == (480, 640) and mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    assert iou(mask, frame.fan_mask) > 0.97
    assert overlay.shape == (480, 640, 3) and not np.array_equal(overlay, frame.image)  # the outline is drawn
    assert doc["status"] == "ok" and doc["kind"] == "phased" and doc["input_kind"] == "image"
    assert doc["sector"]["r_outer"] > doc["sector"]["r_inner"] >= 0 and len(doc["panels"]) == 1
    assert doc["bbox"] == list(cv2.boundingRect(cv2.findNonZero(mask)))
    assert doc["cm_per_px"] is None


def test_crop_video_uses_the_warmup_window(tmp_path: Path) -> None:
    scanner = Scanner(
        make_patient("C2", "normal", view="subcostal"), get_profile("S4"), size=(360, 480), dual_panel=True
    )
    src = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (480, 360))
    assert writer.isOpened()
    for i in range(24):
        writer.write(scanner.frame(i).image)
    writer.release()
    assert main(["crop", str(src), "--out", str(tmp_path), "--warmup", "16"]) == 0
    mask, _, doc = _outputs(tmp_path, "clip")
    assert doc["input_kind"] == "video" and doc["frames_used"] == 16 and doc["fps"] == pytest.approx(30.0)
    assert doc["kind"] == "linear" and len(doc["panels"]) == 2
    union = np.zeros((360, 480), np.uint8)
    for g in scanner.grids:
        x, y, w, h = g.bbox
        union[y : y + h, x : x + w] |= g.mask
    live = scanner.grids[doc["live_panel"]]
    x, y, w, h = live.bbox
    live_gt = np.zeros_like(union)
    live_gt[y : y + h, x : x + w] = live.mask
    assert iou(mask, live_gt) > 0.95  # the mask is the live panel's


def test_crop_dicom_cine(tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    src = Path(get_testdata_file("examples_ybr_color.dcm"))
    assert main(["crop", str(src), "--out", str(tmp_path)]) == 0
    mask, _, doc = _outputs(tmp_path, "examples_ybr_color")
    assert mask.shape == (240, 320) and doc["input_kind"] == "dicom" and doc["frames_used"] == 30
    assert doc["transfer_syntax"] == "JPEG Baseline (Process 1)" and doc["fps"] == pytest.approx(30.0, abs=0.01)
    assert doc["dicom_regions"][0]["box"] == [84, 31, 595, 414] and "ignored" in doc["message"]


def test_no_ultrasound_writes_an_empty_mask_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "menu.png"
    img = np.zeros((300, 400, 3), np.uint8)
    cv2.putText(img, "SELECT PRESET", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    cv2.imwrite(str(src), img)
    assert main(["crop", str(src), "--out", str(tmp_path)]) == 1
    assert "no_ultrasound" in capsys.readouterr().err
    mask, _, doc = _outputs(tmp_path, "menu")
    assert mask.shape == (300, 400) and not mask.any() and doc["status"] == "no_ultrasound" and doc["message"]


def test_bad_inputs_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), np.full((64, 64), 40000, np.uint16))
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI" + b"\xff" * 50)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    for path, words in [
        (tmp_path / "missing.png", "no such file"),
        (deep, "uint16"),
        (broken, "DICOM"),
        (empty, "not a readable image"),
        (notes, "unknown file type"),
    ]:
        assert main(["crop", str(path), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and words in err, err
    with pytest.raises(SystemExit) as info:
        main(["crop", str(deep), "--out", str(tmp_path), "--warmup", "0"])
    assert info.value.code == 2


def test_crop_takes_the_frame_size_limit_its_error_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from liveredge.edge import bounds

    image = tmp_path / "screen.png"
    cv2.imwrite(str(image), np.zeros((200, 300, 3), np.uint8))
    try:
        assert main(["crop", str(image), "--out", str(tmp_path / "o"), "--max-frame-pixels", "1000"]) == 2
    finally:
        bounds.configure(bounds.DEFAULT_LIMITS)
    err = capsys.readouterr().err
    assert str(image) in err and "60000 pixels exceeds the limit of 1000" in err and "--max-frame-pixels" in err
