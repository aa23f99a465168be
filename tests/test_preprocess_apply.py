"""Estimate once, apply cheaply: Preprocessor.from_region, prepare_frame, the quantised path, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from liveredge.edge.errors import PreprocessError
from liveredge.edge.preprocess import (
    Preprocessor,
    PreprocessSpec,
    detect_region,
    prepare_frame,
    prepare_gray,
    quantize,
)
from liveredge.edge.sim import Scanner, get_profile, make_patient


@pytest.fixture(scope="module")
def sim_frame() -> tuple[np.ndarray, np.ndarray]:
    frame = Scanner(
        make_patient("A1", "steatosis", severity=2, view="subcostal"), get_profile("S2"), size=(480, 640)
    ).frame(3)
    return frame.image, frame.fan_mask


def test_prepare_frame_is_detect_then_apply(sim_frame: tuple[np.ndarray, np.ndarray]) -> None:
    image, _ = sim_frame
    spec = PreprocessSpec()
    x = prepare_frame(image, spec)
    assert x.shape == (128, 128, 1) and x.dtype == np.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0 and float(x.std()) > 0.05
    pre = Preprocessor.from_region(spec, detect_region(image))
    np.testing.assert_array_equal(x, pre.apply(image))
    np.testing.assert_array_equal(prepare_gray(image, spec)[..., None].astype(np.float32) / 255.0, x)


def test_overlays_outside_the_region_never_reach_the_model(sim_frame: tuple[np.ndarray, np.ndarray]) -> None:
    image, fan = sim_frame
    spec = PreprocessSpec(input_size=(224, 224))
    pre = Preprocessor.from_region(spec, detect_region(image))
    clean = image.copy()
    clean[fan == 0] = 0  # the same screen without any text, ruler, grey bar or logo
    np.testing.assert_array_equal(pre.gray(image), pre.gray(clean))


def test_letterbox_keeps_aspect_and_pads_with_zero(sim_frame: tuple[np.ndarray, np.ndarray]) -> None:
    image, _ = sim_frame
    region = detect_region(image)
    pre = Preprocessor.from_region(PreprocessSpec(input_size=(128, 128)), region)
    _, _, w, h = region.bbox
    tx, ty, tw, th = pre.placement.target
    assert abs(tw / th - w / h) < 0.03
    g = pre.gray(image)
    assert not g[:ty].any() and not g[ty + th :].any() and not g[:, :tx].any() and not g[:, tx + tw :].any()


@pytest.mark.parametrize("dtype,scale,zp", [("int8", 1 / 255, -128), ("uint8", 1 / 255, 0), ("int8", 0.02, -3)])
def test_quantised_input_equals_quantising_the_float_input(
    sim_frame: tuple[np.ndarray, np.ndarray], dtype: str, scale: float, zp: int
) -> None:
    image, _ = sim_frame
    for spec in (PreprocessSpec(), PreprocessSpec(channels=3, mean=0.5, std=0.25)):
        pre = Preprocessor.from_region(spec, detect_region(image))
        q = pre.apply_quantized(image, scale, zp, dtype)
        assert q.dtype == np.dtype(dtype) and q.shape == spec.input_shape
        np.testing.assert_array_equal(q, quantize(pre.apply(image), scale, zp, dtype))
    assert len(pre._qluts) == 1
    pre.apply_quantized(image, scale, zp, dtype)
    assert len(pre._qluts) == 1  # the table is built once per (scale, zero_point, dtype)


def test_from_region_refuses_a_frame_without_ultrasound() -> None:
    region = detect_region(np.zeros((480, 640, 3), np.uint8))
    assert region.status == "no_ultrasound" and not region.mask.any()
    with pytest.raises(PreprocessError, match="no usable ultrasound region"):
        Preprocessor.from_region(PreprocessSpec(), region)
    with pytest.raises(PreprocessError):
        prepare_frame(np.zeros((480, 640, 3), np.uint8), PreprocessSpec())


def test_a_frame_of_another_size_is_refused_not_silently_cropped(sim_frame: tuple[np.ndarray, np.ndarray]) -> None:
    image, _ = sim_frame
    pre = Preprocessor.from_region(PreprocessSpec(), detect_region(image))
    with pytest.raises(PreprocessError, match="re-estimate"):
        pre.apply(cv2.resize(image, (600, 450)))


def _screen_with_text_only() -> np.ndarray:
    img = np.zeros((480, 640, 3), np.uint8)
    for k, line in enumerate(["PATIENT LIST", "1  DOE^JANE  2026-11-28", "2  ROE^RICHARD", "SETTINGS  PRESETS  EXIT"]):
        cv2.putText(img, line, (20, 60 + 40 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (235, 235, 235), 2)
    img[420:440, 0:640] = (90, 60, 20)  # a coloured menu bar
    return img


@pytest.mark.parametrize(
    "name,frame",
    [
        ("all black", np.zeros((480, 640, 3), np.uint8)),
        ("uniform grey", np.full((480, 640, 3), 128, np.uint8)),
        ("white noise", np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)),
        ("text and menus only", _screen_with_text_only()),
        (
            "colour photo-like",
            cv2.applyColorMap(np.tile(np.arange(640, dtype=np.uint8)[None] // 3, (480, 1)), cv2.COLORMAP_JET),
        ),
        ("tiny", np.full((20, 24, 3), 90, np.uint8)),
    ],
)
def test_frames_without_ultrasound_get_a_status_not_a_guess(name: str, frame: np.ndarray) -> None:
    region = detect_region(frame, name)
    assert region.status == "no_ultrasound", f"{name}: {region.kind} {region.bbox}"
    assert region.message and not region.mask.any() and region.mask.shape == frame.shape[:2]


@pytest.mark.parametrize(
    "frame,match",
    [
        (np.zeros((0, 0, 3), np.uint8), "empty frame"),
        (np.zeros((480, 640, 3), np.uint16), "uint16 pixels"),
        (np.zeros((480, 640), np.float32), "float32 pixels"),
        (np.zeros((480, 640, 2), np.uint8), "not an image"),
        (np.zeros((2, 480, 640, 3), np.uint8), "not an image"),
    ],
)
def test_unusable_frames_raise_an_error_naming_the_frame(frame: np.ndarray, match: str) -> None:
    with pytest.raises(PreprocessError, match=match) as info:
        detect_region(frame, "cam0 frame 17")
    assert "cam0 frame 17" in str(info.value)


def test_grey_bgra_and_odd_sized_frames_work(sim_frame: tuple[np.ndarray, np.ndarray]) -> None:
    image, fan = sim_frame
    base = detect_region(image)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(detect_region(gray).mask, detect_region(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)).mask)
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    assert np.array_equal(detect_region(bgra).mask, base.mask)
    odd = Scanner(make_patient("A2", "normal", view="subcostal"), get_profile("S3"), size=(359, 479)).frame(0)
    region = detect_region(odd.image)
    assert region.ok and region.mask.shape == (359, 479)
    inter = np.count_nonzero((region.mask > 0) & (odd.fan_mask > 0))
    assert inter / np.count_nonzero((region.mask > 0) | (odd.fan_mask > 0)) > 0.97
    x = prepare_frame(odd.image, PreprocessSpec(input_size=(96, 160), channels=3))
    assert x.shape == (96, 160, 3)


def test_public_surface_is_pinned() -> None:
    import liveredge.edge.preprocess as pp

    assert set(pp.__all__) == {
        "Panel",
        "Placement",
        "PreprocessSpec",
        "Preprocessor",
        "Region",
        "RegionTracker",
        "Sector",
        "as_bgr",
        "dequantize",
        "detect_region",
        "detect_region_video",
        "prepare_frame",
        "prepare_gray",
        "quantize",
    }
    assert all(hasattr(pp, name) for name in pp.__all__)
