"""Fan detection on screens that mimic real scanner failures (issue 18), and on every pydicom ultrasound example.

Synthetic screens (tests/real_screens.py; SIMULATED speckle, not clinical) were looked at as PNGs with their
masks: touching dual linear panels with a grey ramp and a grey icon inside the left panel; a curvilinear
sector whose far field is fluid, so only a band under the probe arc shows tissue.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from real_screens import DualScreen, fluid_far_field_sector, rect_truth, speckle, touching_dual_linear

from liveredge.cli.main import main
from liveredge.edge.preprocess import detect_region, detect_region_video
from liveredge.edge.preprocess.fit import iou
from liveredge.edge.preprocess.seams import find_seam

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402 (after the importorskip that guards it)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def dual() -> DualScreen:
    return touching_dual_linear()


@pytest.mark.parametrize("window", [False, True])
def test_touching_dual_panels_give_two_panels_without_bar_or_icon(dual: DualScreen, window: bool) -> None:
    """The issue's first failure: one 608x443 region covered both panels and the grey bar. Constraints checked
    by hand on the PNGs: panels at x 16-319 and 320-623 (rows 20-462); bar x 22-31, rows 40-259; icon x 24-49,
    rows 22-37."""
    region = detect_region_video(dual.frames) if window else detect_region(dual.frames[0])
    assert region.ok and region.kind == "linear" and len(region.panels) == 2
    furniture = np.zeros(region.frame_shape, bool)
    for x, y, w, h in (dual.greybar, dual.icon):
        furniture[y : y + h, x : x + w] = True
    for panel, box in zip(region.panels, dual.panels, strict=True):
        truth = rect_truth(box) > 0
        mask = panel.mask > 0
        assert not (mask & ~truth).any()  # each mask inside its own panel
        assert not (mask & furniture).any()  # grey bar and icon outside every mask
        assert np.count_nonzero(mask) >= 0.9 * np.count_nonzero(truth & ~furniture)
    if window:  # the left panel is live, the right one frozen; the caliper marks do not move
        assert region.live_panel == dual.live
        assert region.panels[0].motion > 10 * max(region.panels[1].motion, 1e-3)
        assert not (region.panels[1].mask > 0)[dual.caliper].any()
    else:  # one still: a thin white line may be clipped tissue, so the marks stay (and split nothing)
        assert (region.panels[1].mask > 0)[dual.caliper].all()


def test_a_single_linear_image_is_not_split() -> None:
    """The seam test must not fire inside one image: the frozen panel alone, pasted on a blank screen."""
    screen = touching_dual_linear(n_frames=1, seed=3).frames[0].copy()
    screen[:, :320] = 0
    region = detect_region(screen)
    assert region.ok and len(region.panels) == 1
    assert iou(region.mask, rect_truth((320, 20, 304, 443))) > 0.97


@pytest.mark.parametrize("density,seed", [(0.001, 2), (0.004, 0)])
def test_fluid_far_field_window_gets_the_full_sector(density: float, seed: int) -> None:
    """The issue's second failure, on a live source: a 30-frame window accumulates the sparse far-field
    echoes (maximum projection) and the steady tissue (median), so the whole sector is fitted."""
    screen = fluid_far_field_sector(n_frames=30, seed=seed, echo_density=density)
    region = detect_region_video(screen.frames)
    assert region.ok and region.kind == "curvilinear", region.message
    assert iou(region.mask, screen.mask) >= 0.95
    assert region.to_dict()["evidence"] == "partial" and region.partial
    sector = region.sector
    assert sector is not None
    assert abs(sector.apex[0] - 320) < 4 and abs(sector.apex[1] + 40) < 6 and abs(sector.r_outer - 500) < 12
    assert abs(sector.angle_left_deg + 34) < 1.5 and abs(sector.angle_right_deg - 34) < 1.5


def test_fluid_far_field_still_with_sparse_echoes_is_followed_outwards() -> None:
    screen = fluid_far_field_sector(n_frames=1, seed=1, echo_density=0.004)
    region = detect_region(screen.frames[0])
    assert region.ok and region.kind == "curvilinear"
    assert iou(region.mask, screen.mask) >= 0.9
    assert "sparse echoes" in region.partial


def test_a_thin_band_over_a_black_far_field_says_why_in_the_crop_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    screen = fluid_far_field_sector(n_frames=1, seed=1, echo_density=0.0)
    src = tmp_path / "ob.png"
    cv2.imwrite(str(src), screen.frames[0])
    assert main(["crop", str(src), "--out", str(tmp_path)]) == 1
    assert "too thin" in capsys.readouterr().err
    doc = json.loads((tmp_path / "ob.json").read_text())
    assert doc["status"] == "no_ultrasound" and doc["evidence"] == "partial"
    why = doc["partial_evidence"]
    assert "too thin" in why and "far field" in why and "apex (3" in why  # apex x near 320, named for the user


@pytest.mark.parametrize("tissue", [45.0, 120.0])
def test_a_black_far_field_takes_its_depth_from_the_depth_ruler(tissue: float) -> None:
    """No echoes at all, but the screen's depth ruler (ticks every cm along the centre line, the last at the
    image's depth, row 460) fixes the outer radius: what the issue says determines the geometry."""
    screen = fluid_far_field_sector(n_frames=1, seed=1, tissue_px=tissue, echo_density=0.0, ruler=True)
    region = detect_region(screen.frames[0])
    assert region.ok and region.kind == "curvilinear"
    assert iou(region.mask, screen.mask) >= 0.95
    assert "depth ruler" in region.partial and "row 460" in region.partial


def test_a_shallow_sector_with_nothing_below_is_flagged_as_maybe_deeper() -> None:
    screen = fluid_far_field_sector(n_frames=1, seed=6, tissue_px=120, echo_density=0.0)
    region = detect_region(screen.frames[0])
    assert region.ok and region.kind == "curvilinear"
    assert "may be deeper" in region.partial and region.to_dict()["evidence"] == "partial"


def _ultrasound_examples() -> list[str]:
    folder = Path(get_testdata_file("examples_palette.dcm")).parent
    names = []
    for path in sorted(folder.glob("examples_*.dcm")):
        if pydicom.dcmread(path, stop_before_pixels=True).get("Modality") == "US":
            names.append(path.name)
    return names


def test_the_ultrasound_examples_are_the_four_we_looked_at() -> None:
    assert _ultrasound_examples() == [
        "examples_jpeg2k.dcm",
        "examples_palette.dcm",
        "examples_rgb_color.dcm",
        "examples_ybr_color.dcm",
    ]


@pytest.mark.parametrize("name", _ultrasound_examples())
def test_every_pydicom_ultrasound_example_crops_with_full_evidence(name: str, tmp_path: Path) -> None:
    """Each example (looked at; detailed constraints in test_dicom_preprocess.py): one region, panels that do
    not overlap, full evidence, and the JSON written by ``liveredge crop`` carries the evidence fields."""
    assert main(["crop", get_testdata_file(name), "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / f"{Path(name).stem}.json").read_text())
    assert doc["status"] == "ok" and doc["evidence"] == "full" and doc["partial_evidence"] is None
    expected = {"examples_rgb_color.dcm": 2, "examples_jpeg2k.dcm": 2}.get(name, 1)  # GE: touching dual
    assert len(doc["panels"]) == expected
    if expected == 2:
        (x0, _, w0, _), (x1, _, _, _) = (p["bbox"] for p in doc["panels"])
        assert x0 + w0 <= x1  # side by side, not overlapping


def test_seam_from_motion_where_the_texture_runs_on() -> None:
    """One continuous speckle image (no texture seam) whose left part moved over the window and right part
    did not: the seam is where the motion steps, and without the motion map there is none."""
    img = speckle((440, 600), np.random.default_rng(7)).astype(np.float32)
    ev = np.zeros((480, 640), np.float32)
    ev[20:460, 20:620] = img
    mask = rect_truth((20, 20, 600, 440))
    assert find_seam(mask, ev) is None
    motion = np.zeros_like(ev)
    motion[20:460, 20:330] = 6.0 + np.random.default_rng(8).random((440, 310)).astype(np.float32)
    assert abs(find_seam(mask, ev, motion) - 329) <= 1
