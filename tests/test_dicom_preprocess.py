"""DICOM input: real scanner files bundled with pydicom, every transfer syntax we can read, transcoded
ultrasound cines, de-identification, and errors for corrupt or non-image files."""

from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from PIL import Image  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402
from pydicom.encaps import encapsulate  # noqa: E402
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, RLELossless  # noqa: E402

from liveredge.edge.errors import DataError  # noqa: E402
from liveredge.edge.preprocess import dicom  # noqa: E402
from liveredge.edge.preprocess.deid import deidentify, is_deidentified, save_deidentified  # noqa: E402
from liveredge.edge.preprocess.detect import overlay_mask  # noqa: E402
from liveredge.edge.preprocess.fit import iou  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _real(name: str) -> tuple[dicom.DicomCine, np.ndarray]:
    cine = dicom.read_dicom(get_testdata_file(name))
    region = dicom.detect_dicom_region(cine)
    assert region.ok, region.message
    return cine, region.mask > 0


def test_philips_palette_curvilinear() -> None:
    """Looked at: blue header banner (rows < 60), left text column, '+ Cist Mag' text, blue 'P' logo left of
    the probe face, grey bar at the right edge; the fan runs from the probe arc to the bottom of the frame."""
    cine, m = _real("examples_palette.dcm")
    frame = cine.frames[0]
    assert cine.info.photometric == "PALETTE COLOR" and frame.shape == (350, 800, 3)
    assert not m[:60].any() and not m[:, :150].any() and not m[:, 760:].any()
    assert not m[60:86, 308:336].any()  # 'P' logo
    assert not m[85:106, 120:300].any()  # measurement text
    assert (
        m[100, 460] and m[72, 365] and m[200, 460] and m[340, 460] and m[300, 480]
    )  # face, corner, mid, bottom, caliper
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    image = (gray > 0) & ~overlay_mask(frame)
    band = np.zeros_like(m)
    band[60:, 330:760] = True
    assert np.count_nonzero(image & band & ~m) < 0.02 * np.count_nonzero(image & band)  # covers the scan
    assert np.count_nonzero(image & m) > 0.99 * np.count_nonzero(m)  # and nothing but the scan


@pytest.mark.parametrize("name,scale", [("examples_rgb_color.dcm", 1), ("examples_jpeg2k.dcm", 2)])
def test_ge_linear_with_power_doppler(name: str, scale: int) -> None:
    """Looked at: text block above the image, 'LYMPH NODE' below it, a scale bar and 'TIS..' at the bottom,
    PWR colour bars (with grey 'PWR' labels) drawn over the left and right image edges, white orientation
    triangles left of the image; the Doppler ROI boxes and colour flow are inside the image. Looked at again
    (issue 18): it is a DUAL screen whose two linear panels touch at x = 158 (x 1): the Doppler box outlines
    differ on either side (the left box's right edge runs down the seam, the right box's top is a row lower),
    the speckle is discontinuous there, and each panel has its own PWR bar."""
    cine, m = _real(name)
    s = scale
    region = dicom.detect_dicom_region(cine)
    assert len(region.panels) == 2 and region.live_panel == 0  # one still: the left panel is live
    left, right = (p.mask > 0 for p in region.panels)
    assert not left[:, 160 * s :].any() and not right[:, : 156 * s].any()  # each mask inside its own panel
    assert left[110 * s, 150 * s] and right[110 * s, 165 * s]  # and reaching the seam
    assert np.array_equal(m, left)
    m = left | right
    assert m.shape == (240 * s, 320 * s)
    assert not m[: 52 * s].any() and not m[170 * s :].any()  # text above, text and scale bar below
    colour = overlay_mask(cine.frames[0])
    gray = cv2.cvtColor(cine.frames[0], cv2.COLOR_BGR2GRAY)
    for cols in (slice(0, 21 * s), slice(299 * s, 320 * s)):  # the colour bars and their labels
        bar = np.zeros_like(m)
        bar[60 * s : 120 * s, cols] = colour[60 * s : 120 * s, cols]
        assert bar.sum() > 200 * s * s and not (bar & m).any()
        label = np.zeros_like(m)
        for rows in (slice(68 * s, 75 * s), slice(109 * s, 116 * s)):  # 'PWR' above and below each bar
            label[rows, cols] = gray[rows, cols] > 120
        assert label.sum() > 20 * s * s and not (label & m).any()
    assert not m[:, : 4 * s].any()  # orientation triangles
    assert m[110 * s, 160 * s] and m[100 * s, 60 * s] and m[160 * s, 300 * s]  # image centre, Doppler, corner
    ys, xs = np.nonzero(m)  # column 311 (x 1) is the image's last: 312 is background in most rows (median 0)
    assert ys.min() <= 55 * s and ys.max() >= 166 * s and xs.min() <= 6 * s and xs.max() >= 311 * s


def test_sonosite_phased_jpeg_cine() -> None:
    """Looked at: 30-frame JPEG cine; text at the top left, a dotted depth ruler and text on the right, a tool
    bar along the bottom; the sector's apex near the top centre. The DICOM region box is in the coordinates of
    the original 640x480 screen (the file was downsized), so it must be ignored, not used."""
    cine, m = _real("examples_ybr_color.dcm")
    assert cine.frames.shape == (30, 240, 320, 3) and cine.fps == pytest.approx(30.0, abs=0.01)
    assert dicom.is_lossy(cine.info)
    region = dicom.detect_dicom_region(cine)
    assert region.kind == "phased" and region.cm_per_px is None and "ignored" in region.message
    assert not m[:25, :45].any() and not m[222:].any()
    gray = cv2.cvtColor(cine.frames[0], cv2.COLOR_BGR2GRAY)
    right = np.zeros_like(m)
    right[:, 290:] = gray[:, 290:] > 50  # 'Crd P21 MI TIS' text, the dotted depth ruler, '19'
    assert right.sum() > 100 and not (right & m).any()
    assert m[30, 170] and m[120, 165] and m[180, 100] and m[180, 240]
    bright = (cine.frames.max(axis=0).max(axis=2) >= 20) & ~overlay_mask(cine.frames[0])
    band = np.zeros_like(m)
    band[10:215, 30:290] = True
    assert np.count_nonzero(bright & band & m) > 0.99 * np.count_nonzero(bright & band)


BUNDLED = [
    ("CT_small.dcm", "Explicit VR Little Endian", (128, 128)),
    ("MR_small_implicit.dcm", "Implicit VR Little Endian", (64, 64)),
    ("MR_small_bigendian.dcm", "Explicit VR Big Endian", (64, 64)),
    ("ExplVR_BigEnd.dcm", "Explicit VR Big Endian", (60, 80)),
    ("image_dfl.dcm", "Deflated Explicit VR Little Endian", (512, 512)),
    ("SC_rgb_jpeg_dcmtk.dcm", "JPEG Baseline (Process 1)", (100, 100)),
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", "JPEG Baseline (Process 1)", (100, 100)),
    ("JPGExtended.dcm", "JPEG Extended (Process 2 and 4)", (1024, 256)),
    ("SC_rgb_jpeg_gdcm.dcm", "JPEG Lossless, Non-Hierarchical, First-Order Prediction", (100, 100)),
    ("MR_small_jpeg_ls_lossless.dcm", "JPEG-LS Lossless Image Compression", (64, 64)),
    ("SC_rgb_jls_lossy_sample.dcm", "JPEG-LS Lossy (Near-Lossless) Image Compression", (100, 100)),
    ("MR_small_jp2klossless.dcm", "JPEG 2000 Image Compression (Lossless Only)", (64, 64)),
    ("SC_rgb_gdcm_KY.dcm", "JPEG 2000 Image Compression", (100, 100)),
    ("SC_rgb_rle_16bit_2frame.dcm", "RLE Lossless", (100, 100)),
    ("SC_rgb_rle_32bit.dcm", "RLE Lossless", (100, 100)),
    ("SC_ybr_full_422_uncompressed.dcm", "Explicit VR Little Endian", (100, 100)),
]


@pytest.mark.parametrize("name,syntax,size", BUNDLED)
def test_bundled_transfer_syntaxes_decode_to_bgr(name: str, syntax: str, size: tuple[int, int]) -> None:
    cine = dicom.read_dicom(get_testdata_file(name))
    assert cine.transfer_syntax.startswith(syntax)
    assert cine.frames.dtype == np.uint8 and cine.frames.shape[1:] == (*size, 3)
    assert cine.frames.std() > 1.0  # an image, not a blank


def test_colour_conversions_agree_across_encodings() -> None:
    """The dcmtk/gdcm 'SC_rgb' family encodes the same RGB test card: every encoding decodes to the same
    BGR (up to codec loss), so RGB/YBR/16-bit/32-bit conversion and channel order are right."""
    ref = dicom.read_dicom(get_testdata_file("SC_rgb_rle.dcm")).frames[0].astype(int)
    assert tuple(ref[5, 50]) == (0, 0, 255)  # the test card's top band is red: BGR order
    for name, tol in [
        ("SC_rgb_rle_16bit.dcm", 0),
        ("SC_rgb_rle_32bit.dcm", 0),
        ("SC_rgb_jpeg_gdcm.dcm", 0),
        ("SC_rgb_dcmtk_+eb+cy+np.dcm", 12),
        ("SC_rgb_jpeg_dcmtk.dcm", 12),
        ("SC_rgb_gdcm_KY.dcm", 12),
    ]:
        other = dicom.read_dicom(get_testdata_file(name)).frames[0].astype(int)
        assert np.abs(other - ref).mean() <= max(tol, 0.5), name


def _write(ds: object, path: Path) -> Path:
    save_deidentified(ds, path)
    return path


@pytest.fixture(scope="module")
def us_cine() -> tuple[object, np.ndarray]:
    """The SonoSite cine's first 8 frames as an uncompressed RGB dataset (and those RGB frames)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
        rgb = src.pixel_array[:8]
    ds = copy.deepcopy(src)
    ds.set_pixel_data(rgb, "RGB", 8)
    ds.NumberOfFrames = len(rgb)
    return ds, rgb


def _roundtrip_region_iou(path: Path, reference: np.ndarray) -> float:
    return iou(dicom.detect_dicom_region(dicom.read_dicom(path)).mask, reference)


def test_transcoded_ultrasound_cines_decode_and_give_the_same_region(us_cine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds, rgb = us_cine
    bgr = rgb[..., ::-1]
    plain = _write(ds, tmp_path / "plain.dcm")
    ref = dicom.detect_dicom_region(dicom.read_dicom(plain, max_frames=8)).mask
    for uid in (RLELossless, JPEG2000Lossless):  # pydicom's own RLE encoder; openjpeg through pylibjpeg
        d = copy.deepcopy(ds)
        d.compress(uid)
        out = _write(d, tmp_path / f"{uid.name[:8]}.dcm")
        cine = dicom.read_dicom(out)
        assert cine.transfer_syntax == uid.name
        np.testing.assert_array_equal(cine.frames, bgr)  # lossless
        assert _roundtrip_region_iou(out, ref) > 0.99
    frames = []
    for f in rgb:  # JPEG baseline 4:2:2 frames from Pillow, encapsulated
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format="JPEG", quality=92, subsampling=1)
        frames.append(buf.getvalue())
    d = copy.deepcopy(ds)
    d.PixelData = encapsulate(frames)
    d["PixelData"].VR = "OB"
    d.PhotometricInterpretation = "YBR_FULL_422"
    d.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    out = _write(d, tmp_path / "jpeg.dcm")
    cine = dicom.read_dicom(out)
    assert np.abs(cine.frames.astype(int) - bgr.astype(int)).mean() < 2.0
    assert _roundtrip_region_iou(out, ref) > 0.95  # lossy: the region is inset by a pixel against ringing


def test_monochrome1_16bit_and_palette_conversions(us_cine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds, rgb = us_cine
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[0]), cv2.COLOR_RGB2GRAY)
    d = copy.deepcopy(ds)
    d.set_pixel_data(255 - gray, "MONOCHROME1", 8)
    d.NumberOfFrames = 1
    mono1 = dicom.read_dicom(_write(d, tmp_path / "m1.dcm")).frames[0]
    np.testing.assert_array_equal(mono1[..., 0], gray)  # 0 is white in MONOCHROME1: inverted back
    d = copy.deepcopy(ds)
    d.set_pixel_data(gray.astype(np.uint16) * 257, "MONOCHROME2", 16)
    d.NumberOfFrames = 1
    d.WindowCenter, d.WindowWidth = 32767.5, 65535
    deep = dicom.read_dicom(_write(d, tmp_path / "m16w.dcm")).frames[0]
    assert np.abs(deep[..., 0].astype(int) - gray.astype(int)).max() <= 1  # the VOI window maps to 0..255
    del d.WindowCenter, d.WindowWidth
    deep = dicom.read_dicom(_write(d, tmp_path / "m16.dcm")).frames[0][..., 0].astype(float)
    lo, hi = float(gray.min()), float(gray.max())
    assert np.abs(deep - (gray - lo) * 255.0 / (hi - lo)).max() <= 1.0  # no window: the data range
    palette = dicom.read_dicom(get_testdata_file("examples_palette.dcm")).frames[0]
    hdr = palette[10, 400].astype(int)  # the header banner is dark blue: B > R
    assert hdr[0] > hdr[2] + 20


def test_lazy_frames_match_eager_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    path = get_testdata_file("examples_ybr_color.dcm")
    eager = dicom.read_dicom(path).frames
    monkeypatch.setattr(dicom, "STREAM_BYTES", 0)  # force frame-by-frame decoding from disk
    it = dicom.iter_dicom_frames(path)
    first = next(it)
    np.testing.assert_array_equal(first, eager[0])
    rest = list(it)
    assert len(rest) == 29
    np.testing.assert_array_equal(np.stack(rest), eager[1:])


def test_a_consistent_region_box_gives_cm_per_pixel_and_clips(us_cine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds, _ = us_cine
    d = copy.deepcopy(ds)
    item = d.SequenceOfUltrasoundRegions[0]  # written for 640x480: rescale it to this 320x240 copy
    for key in ("RegionLocationMinX0", "RegionLocationMinY0", "RegionLocationMaxX1", "RegionLocationMaxY1"):
        setattr(item, key, int(getattr(item, key)) // 2)
    item.PhysicalDeltaX = float(item.PhysicalDeltaX) * 2
    item.PhysicalDeltaY = float(item.PhysicalDeltaY) * 2
    cine = dicom.read_dicom(_write(d, tmp_path / "regions.dcm"))
    region = dicom.detect_dicom_region(cine)
    assert region.cm_per_px == pytest.approx((0.1020994, 0.1020994), rel=1e-4)
    x0, y0, x1, y1 = cine.regions[0].box
    ys, xs = np.nonzero(region.mask)
    assert xs.min() >= x0 and ys.min() >= y0 and xs.max() <= x1 and ys.max() <= y1


def test_deidentify_removes_names_ids_dates_and_private_tags(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
    assert str(ds.PatientName) and ds.StudyDate and not is_deidentified(ds)
    ds.add_new((0x0009, 0x0010), "LO", "ACME")  # a private creator with an identifier behind it
    ds.add_new((0x0009, 0x1001), "LO", "MRN 12345")
    clean = deidentify(ds)
    assert str(ds.PatientName)  # the input is untouched
    assert is_deidentified(clean) and clean.PatientIdentityRemoved == "YES"
    assert clean.StudyInstanceUID != ds.StudyInstanceUID
    out = tmp_path / "deid.dcm"
    save_deidentified(ds, out)
    back = pydicom.dcmread(out)
    assert is_deidentified(back) and back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    text = out.read_bytes()
    assert b"MRN 12345" not in text and str(ds.PatientName).encode() not in text
    assert np.array_equal(back.pixel_array, ds.pixel_array)


def test_corrupt_and_non_image_files_raise_data_error_naming_the_file(tmp_path: Path) -> None:
    good = Path(get_testdata_file("examples_rgb_color.dcm")).read_bytes()
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.dcm"
    garbage.write_bytes(bytes(range(256)) * 40)
    cases = [
        truncated,
        garbage,
        Path(get_testdata_file("rtplan.dcm")),
        Path(get_testdata_file("MR_truncated.dcm")),
        Path(get_testdata_file("waveform_ecg.dcm")),
    ]
    for path in cases:
        with pytest.raises(DataError) as info:
            dicom.read_dicom(path)
        assert str(path) in str(info.value)
