"""Phantom simulator API: names, validation, determinism, screen layout and ground truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import liveredge.edge.sim as sim
from liveredge.edge.errors import ConfigError
from liveredge.edge.sim import CLASSES, Scanner, SimFrame, get_profile, list_profiles, make_patient

SIZE = (256, 256)


def test_public_surface() -> None:
    assert CLASSES == ("normal", "steatosis", "fibrosis", "focal_lesion")
    for name in (
        "CLASSES",
        "list_profiles",
        "get_profile",
        "SiteProfile",
        "make_patient",
        "Patient",
        "Scanner",
        "SimFrame",
        "FanGeometry",
    ):
        assert name in sim.__all__ and hasattr(sim, name)
    assert dataclasses.fields(SimFrame) and SimFrame.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_profiles_named_random_and_unknown() -> None:
    names = list_profiles()
    assert len(names) >= 6 and {get_profile(n).kind for n in names} == {"curvilinear", "phased", "linear"}
    assert get_profile("random:4") == get_profile("random:4")
    assert get_profile("random:4") != get_profile("random:5")
    for bad in ("S99", "random:x", ""):
        with pytest.raises(ConfigError):
            get_profile(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"condition": "hepatitis"},
        {"condition": "steatosis", "severity": 4},
        {"condition": "fibrosis", "severity": 0},
        {"condition": "focal_lesion", "lesion": "polyp"},
        {"condition": "normal", "lesion": "cyst"},
        {"condition": "normal", "severity": 2},
    ],
)
def test_make_patient_rejects_invalid(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make_patient("P", **kwargs)  # type: ignore[arg-type]


def test_f1_is_a_fibrosis_severity_and_anatomy_is_per_patient() -> None:
    f1 = make_patient("P7", "fibrosis", severity=1)
    assert (f1.label, f1.severity) == ("fibrosis", 1)
    normal = make_patient("P7", "normal")
    assert normal.kidney == f1.kidney and normal.vessels == f1.vessels  # same patient, same anatomy
    assert make_patient("P8", "normal").kidney != normal.kidney


def test_same_seed_same_frames_independent_of_order() -> None:
    p = make_patient("D1", "focal_lesion", lesion="metastasis", seed=2)
    a = Scanner(p, get_profile("S2"), size=SIZE, seed=9)
    b = Scanner(p, get_profile("S2"), size=SIZE, seed=9)
    frames_a = [f.image for f in a.frames(6)]
    assert np.array_equal(frames_a[5], b.frame(5).image)  # b never rendered 0..4
    assert np.array_equal(frames_a[2], b.frame(2).image)
    c = Scanner(p, get_profile("S2"), size=SIZE, seed=10)
    assert not np.array_equal(frames_a[2], c.frame(2).image)
    assert not np.array_equal(frames_a[0], frames_a[1])  # cine: motion + speckle decorrelation
    corr = np.corrcoef(frames_a[0][..., 0].ravel(), frames_a[1][..., 0].ravel())[0, 1]
    assert corr > 0.5, "consecutive cine frames should be strongly correlated"


@pytest.mark.parametrize("site", ["S1", "S3", "S4", "random:2"])
def test_fan_mask_is_exactly_the_non_background_region(site: str) -> None:
    p = make_patient("M", "focal_lesion", lesion="cyst")
    bare = Scanner(p, get_profile(site), size=SIZE, overlays=False).frame(3)
    assert set(np.unique(bare.fan_mask)) == {0, 255}
    assert np.array_equal(bare.image.max(axis=2) > 0, bare.fan_mask > 0)
    assert np.array_equal(bare.fan_mask, bare.geometry.mask(*SIZE))
    full = Scanner(p, get_profile(site), size=SIZE).frame(3)
    inside = full.fan_mask > 0
    assert np.array_equal(full.image[inside], bare.image[inside]), "overlays must not enter the fan"
    assert (full.image.max(axis=2)[~inside] > 0).sum() > 200, "text, ruler, grey bar, logo expected"
    b, g, r = (full.image[..., k].astype(int) for k in range(3))
    assert np.all((b == g) & (g == r) | ~inside), "B-mode is grey"


def test_dual_panel_doppler_and_ground_truth_boxes() -> None:
    p = make_patient("Q", "focal_lesion", lesion="haemangioma")
    f = Scanner(p, get_profile("S1"), size=(300, 480), dual_panel=True, doppler=True).frame(4)
    assert len(f.panels) == 2 and len(f.geometries) == 2
    import cv2

    n, _ = cv2.connectedComponents(f.fan_mask)
    assert n - 1 == 2, "two separate live regions"
    colour = (f.image[..., 2].astype(int) - f.image[..., 0].astype(int)) != 0
    assert (colour & (f.fan_mask > 0)).sum() > 20, "colour-Doppler pixels inside the fan"
    assert all(kind == "haemangioma" for kind, _ in f.lesions)

    def panel_of(box: tuple[int, int, int, int]) -> int:
        x, y, w, h = box
        inside = [
            k
            for k, (px, py, pw, ph) in enumerate(f.panels)
            if px <= x and x + w <= px + pw and py <= y and y + h <= py + ph
        ]
        assert len(inside) == 1, f"box {box} is not inside exactly one panel"
        return inside[0]

    assert sorted({panel_of(box) for _, box in f.lesions}) == [0, 1], "each panel shows its lesion(s)"


def test_freezes_repeat_the_previous_frame() -> None:
    s = Scanner(make_patient("F", "normal"), get_profile("S5"), size=SIZE, freeze_prob=0.4)
    frames = list(s.frames(20))
    frozen = [f for f in frames if f.frozen]
    assert frozen and not frames[0].frozen and len(frozen) < 20
    for f in frozen:
        assert np.array_equal(f.image, frames[f.index - 1].image)
    live = [f for f in frames[1:] if not f.frozen]
    assert all(not np.array_equal(f.image, frames[f.index - 1].image) for f in live)


def test_region_maps_follow_the_anatomy_and_breathing() -> None:
    s = Scanner(make_patient("R", "normal"), get_profile("S1"), size=SIZE, fps=30)
    m0, m60 = s.region_maps(0), s.region_maps(60)
    fan = s.fan_mask > 0
    for name in ("liver", "kidney", "vessel", "diaphragm"):
        assert m0[name].sum() > 50 and not (m0[name] & ~fan).any(), name
    assert not np.array_equal(m0["kidney"], m60["kidney"]), "breathing / probe motion moves organs"


@pytest.mark.parametrize("bad", [dict(size=(10, 10)), dict(fps=0), dict(freeze_prob=1.5)])
def test_scanner_rejects_bad_options(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Scanner(make_patient("B", "normal"), get_profile("S1"), **bad)  # type: ignore[arg-type]


def test_bmode_fast_path_is_the_beam_space_image_of_the_screen() -> None:
    s = Scanner(make_patient("B2", "steatosis", severity=1), get_profile("S6"), size=SIZE)
    polar = s.bmode(7)
    grid = s.grids[0]
    assert polar.shape == (grid.n_r, grid.n_l) and polar.dtype == np.uint8 and polar.min() >= 1
    import cv2

    x, y, w, h = grid.bbox
    expect = cv2.remap(polar, grid.map_x, grid.map_y, cv2.INTER_LINEAR)[grid.mask > 0]
    assert np.array_equal(s.frame(7).image[y : y + h, x : x + w, 0][grid.mask > 0], expect)
