"""Scanner harmonisation core (no TF): tissue landmarks, the bounded monotone LUT, the guard, metadata round trip.

Frames are SIMULATED (``liveredge.edge.sim``) and go through the runtime's own region tracking and preprocessing.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from liveredge.edge import harmonize as h
from liveredge.edge.errors import DataError, ModelError
from liveredge.edge.model_meta import ModelMetadata
from liveredge.edge.preprocess import PreprocessSpec, prepare_frame, prepare_gray
from liveredge.edge.runtime.region import RegionState
from liveredge.edge.sources import PrerenderedClip

SPEC = PreprocessSpec()


def _views(uri: str, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(model-view image, region mask in model-input space) for n frames of a sim:// URI, as the runtime sees them."""
    state, out = RegionState(SPEC), []
    for frame in PrerenderedClip.from_sim(uri, n, progress=False).frames:
        pre = state.update(frame)
        assert state.ok and state.input_region is not None
        out.append((pre.gray(frame).copy(), state.input_region.copy()))
    return out


@pytest.fixture(scope="module")
def views() -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for site, condition in (("S1", "normal"), ("S2", "steatosis"), ("S3", "fibrosis"), ("S5", "focal_lesion")):
        out += _views(f"sim://?site={site}&seed=4&condition={condition}&size=240x320", 20)
    return out


def _checks(views: list[tuple[np.ndarray, np.ndarray]], lut: np.ndarray | None = None) -> list[h.FrameCheck]:
    return [h.check_frame(g if lut is None else lut[g], m) for g, m in views]


def _curve(gain: float, gamma: float) -> np.ndarray:
    """A scanner's different grey-level curve: 255 * gain * (v / 255) ** gamma (0 stays 0)."""
    v = np.arange(256) / 255.0
    return np.clip(np.round(255.0 * gain * v**gamma), 0, 255).astype(np.uint8)


def test_lut_is_exactly_identity_when_frames_match_the_reference(views: list) -> None:
    ref = h.reference_from_checks(_checks(views), "same frames")
    fit = h.fit_site(_checks(views), ref, h.GuardConfig(min_frames=20))
    assert np.array_equal(fit.lut, np.arange(256, dtype=np.uint8))
    assert fit.identity and fit.max_shift == 0 and fit.frames_used == len(views) and fit.frames_rejected == {}
    assert "identity" in fit.report()["summary"]


@pytest.mark.parametrize("gain, gamma", [(0.7, 1.25), (1.0, 0.7), (0.85, 1.0)])
def test_known_gain_gamma_change_is_mapped_back(views: list, gain: float, gamma: float) -> None:
    ref = h.reference_from_checks(_checks(views), "original frames")
    distorted = _checks(views, _curve(gain, gamma))
    fit = h.fit_site(distorted, ref, h.GuardConfig(min_frames=20))
    # measured independently: the distorted frames pushed through the fitted LUT, landmarks recomputed
    restored = h.reference_from_checks(_checks(views, fit.lut[_curve(gain, gamma)]), "restored")
    before = np.mean(np.abs(np.asarray(fit.before) - ref.landmarks))
    after = np.mean(np.abs(np.asarray(restored.landmarks) - ref.landmarks))
    assert before > 6.0, "the distortion must be visible for the test to mean anything"
    assert after < 0.25 * before and after < 3.0, (before, after)
    assert not fit.identity and fit.max_shift > 0


def test_mapping_is_monotone_with_bounded_slopes_and_fixed_ends() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        src = np.sort(rng.uniform(1, 254, 11))
        ref = np.sort(rng.uniform(1, 254, 11))
        m = h.fit_mapping(src, ref)
        assert m.lut[0] == 0 and m.lut[255] == 255 and np.all(np.diff(m.lut.astype(int)) >= 0)
        slopes = np.diff(m.knots_y) / np.diff(m.knots_x)
        assert np.all(slopes[1:-1] >= 0.5 - 1e-9) and np.all(slopes[1:-1] <= 2.0 + 1e-9), slopes
        assert 0.25 - 1e-9 <= slopes[0] <= 4.0 + 1e-9 and 0.25 - 1e-9 <= slopes[-1] <= 4.0 + 1e-9, slopes


def test_dark_fluid_only_frames_are_refused_with_a_clear_message(views: list) -> None:
    ref = h.reference_from_checks(_checks(views), "reference")
    black = _checks(views, _curve(0.02, 1.0))  # probe in the air / only fluid: nothing above the dark level
    with pytest.raises(DataError, match=r"refused: only 0 of 80 frames show enough liver tissue.*80 dark"):
        h.fit_site(black, ref, source="--source clip.mp4")
    few = _checks(views[:10])
    with pytest.raises(DataError, match=r"only 10 of 10 frames .*need >= 30"):
        h.fit_site(few, ref)


def test_a_distribution_no_bounded_map_reaches_is_refused(views: list) -> None:
    ref = h.reference_from_checks(_checks(views), "reference")
    squeezed = np.where(np.arange(256) < 90, np.arange(256) // 6, 200).astype(np.uint8)  # dark + a bright slab
    with pytest.raises(DataError, match=r"do not look like the model's training images.*limit 16"):
        h.fit_site(_checks(views, squeezed), ref)


def test_reference_of_calibration_inputs_matches_the_runtime_view() -> None:
    frame = PrerenderedClip.from_sim("sim://?site=S4&seed=2&size=240x320", 1, progress=False).frames[0]
    spec = PreprocessSpec(mean=0.45, std=0.22)
    x = prepare_frame(frame, spec)
    assert np.array_equal(h.images_from_inputs(x[None], spec.float_lut())[0], prepare_gray(frame, spec))


def test_reference_travels_in_model_metadata() -> None:
    ref = h.IntensityReference(landmarks=tuple(float(v) for v in np.linspace(20, 180, 11)), n_frames=7, source="calib")
    meta = ModelMetadata(name="m", labels=("a", "b"), preprocess=SPEC, intensity_reference=ref)
    back = ModelMetadata.from_json(meta.to_json())
    assert back.intensity_reference == ref and back == meta
    assert (
        ModelMetadata.from_json(dataclasses.replace(meta, intensity_reference=None).to_json()).intensity_reference
        is None
    )
    bad = meta.to_dict()
    bad["intensity_reference"]["landmarks"] = [300.0] * 11
    with pytest.raises(ModelError, match="landmarks must lie in"):
        ModelMetadata.from_dict(bad)


def test_compose_applies_the_site_map_in_front_of_the_input_table() -> None:
    input_lut = SPEC.lut(1 / 255, -128, "int8")
    site = _curve(1.0, 0.8)
    composed = h.compose(input_lut, site)
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert composed.dtype == np.int8 and np.array_equal(composed[gray], input_lut[site[gray]])
    with pytest.raises(Exception, match="non-decreasing"):
        h.compose(input_lut, site[::-1].copy())
