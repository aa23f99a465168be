"""Colour / power-Doppler frames are never classified: a real GE power-Doppler screen (pydicom's example file) is
flagged OUT_OF_DISTRIBUTION by the runtime, grey B-mode screens (the real obstetric palette screen, simulated
livers) are not. Real DICOM, the real detector and the real LiteRT interpreter."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_fixtures import signed_fixture_model, trusted

from liveredge.edge.decisions.colour import COLOUR_FLOW_FRACTION, ColourFlowCheck
from liveredge.edge.events import Quality
from liveredge.edge.preprocess import detect_region
from liveredge.edge.runtime import FrameProcessor, load_model
from liveredge.edge.sim import Scanner, get_profile, make_patient

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402 (after the importorskip that guards it)

MODEL = signed_fixture_model()


def _screen(name: str) -> np.ndarray:
    ds = pydicom.dcmread(get_testdata_file(name))
    arr = ds.pixel_array
    frame = arr[0] if arr.ndim == 4 or (arr.ndim == 3 and arr.shape[-1] != 3) else arr
    if ds.PhotometricInterpretation == "PALETTE COLOR":
        frame = pydicom.pixels.apply_color_lut(frame, ds)
    elif ds.PhotometricInterpretation.startswith("YBR"):
        frame = pydicom.pixels.convert_color_space(frame, ds.PhotometricInterpretation, "RGB")
    return np.ascontiguousarray(frame[..., ::-1]).astype(np.uint8)  # RGB -> BGR


def _sim_frames(n: int, doppler: bool = False) -> list[np.ndarray]:
    scanner = Scanner(make_patient("C1", "steatosis", seed=5), get_profile("S2"), doppler=doppler, seed=5)
    return [scanner.frame(i).image for i in range(n)]


def test_power_doppler_region_is_coloured_and_grey_screens_are_not() -> None:
    check = ColourFlowCheck()
    doppler = _screen("examples_rgb_color.dcm")
    check.reset(detect_region(doppler).mask)
    assert check.fraction(doppler) > 3 * COLOUR_FLOW_FRACTION and check.fires(doppler)
    grey = _screen("examples_palette.dcm")
    region = detect_region(grey)
    check.reset(region.mask if region.ok else np.full(grey.shape[:2], 255, np.uint8))
    assert not check.fires(grey)
    for frame in _sim_frames(3):
        check.reset(detect_region(frame).mask)
        assert check.fraction(frame) < COLOUR_FLOW_FRACTION / 4
    for frame in _sim_frames(2, doppler=True):  # the simulator's colour-Doppler box inside the fan
        check.reset(detect_region(frame).mask)
        assert check.fires(frame)
    check.reset(None)
    assert check.fraction(doppler) == 0.0  # no region: nothing to judge (NO_REGION flags the frame)


def test_runtime_never_classifies_a_doppler_frame() -> None:
    processor = FrameProcessor(load_model(MODEL, trusted(MODEL, num_threads=1)))
    doppler = _screen("examples_rgb_color.dcm")
    flags = [processor.prepare(doppler)[1] for _ in range(3)]
    assert all(Quality.OUT_OF_DISTRIBUTION in q for q in flags)
    processor.reset()
    grey_flags = [processor.prepare(f)[1] for f in _sim_frames(3)]
    assert not any(Quality.OUT_OF_DISTRIBUTION in q for q in grey_flags)


def test_the_check_reads_strided_and_other_size_frames_without_error() -> None:
    """The sampled pixels are gathered by flat index: a strided view gives the same fraction as its copy, a frame
    of another size reads as 0 (the tracker re-estimates), a blue square inside the mask is counted."""
    mask = np.zeros((40, 60), np.uint8)
    mask[10:30, 10:50] = 255
    check = ColourFlowCheck()
    check.reset(mask)
    frame = np.full((40, 60, 3), 90, np.uint8)
    frame[10:20, 10:30] = (255, 40, 0)  # strongly coloured: a quarter of the region
    wide = np.zeros((40, 120, 3), np.uint8)
    wide[:, ::2] = frame
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    assert check.fraction(strided) == check.fraction(frame) == pytest.approx(0.25, abs=0.02)
    assert check.fraction(np.zeros((41, 60, 3), np.uint8)) == 0.0
    assert check.fires(frame) and not check.fires(np.full((40, 60, 3), 90, np.uint8))
