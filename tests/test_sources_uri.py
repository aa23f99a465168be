"""URI parsing, sim options, pacing and the frozen-frame test: the sans-I/O parts of the sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liveredge.edge.errors import ConfigError, PreprocessError, SourceError
from liveredge.edge.sources import SourceURIError, make_source, open_source, parse_uri, sim_options
from liveredge.edge.sources.base import Pacer, as_bgr, is_frozen
from liveredge.edge.sources.stream import V4L2Source, device_identity


@pytest.mark.parametrize(
    ("uri", "kind", "target"),
    [
        ("v4l2:///dev/video0", "v4l2", "/dev/video0"),
        ("v4l2://2", "v4l2", "2"),
        ("v4l2://video1", "v4l2", "/dev/video1"),
        ("/dev/video3", "v4l2", "/dev/video3"),
        ("1", "v4l2", "1"),
        ("rtsp://10.0.0.2:554/live", "stream", "rtsp://10.0.0.2:554/live"),
        ("http://127.0.0.1:8080/video.mjpg", "stream", "http://127.0.0.1:8080/video.mjpg"),
        ("https://cam.local/x.m3u8", "stream", "https://cam.local/x.m3u8"),
        ("file://clip.mp4", "video", "clip.mp4"),
        ("file:///abs/clip.avi", "video", "/abs/clip.avi"),
        ("clip.MOV", "video", "clip.MOV"),
        ("frame.png", "image", "frame.png"),
        ("dicom://cine.dcm", "dicom", "cine.dcm"),
        ("study.dcm", "dicom", "study.dcm"),
        ("frames/", "folder", "frames/"),
    ],
)
def test_parse_uri_kinds(uri: str, kind: str, target: str) -> None:
    spec = parse_uri(uri)
    assert (spec.kind, spec.target, spec.uri) == (kind, target, uri)


def test_parse_sim_query() -> None:
    spec = parse_uri("sim://?condition=steatosis&site=S1&fps=30&seed=1&size=240x320&freeze=0.1&severity=2")
    assert spec.kind == "sim"
    options = sim_options(spec.params)
    assert options.condition == "steatosis" and options.site == "S1" and options.seed == 1
    assert options.fps == 30.0 and options.size == (240, 320) and options.freeze == 0.1 and options.severity == 2


@pytest.mark.parametrize("query", ["colour=red", "fps=fast", "size=10x10", "freeze=2", "fps=0", "fps=1&fps=2"])
def test_bad_sim_options_are_config_errors(query: str) -> None:
    with pytest.raises(ConfigError, match="sim://"):
        make_source(f"sim://?{query}")


def test_bare_paths_use_the_disk(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    assert parse_uri(str(folder)).kind == "folder"
    dicom_without_suffix = tmp_path / "IM0001"
    dicom_without_suffix.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    assert parse_uri(str(dicom_without_suffix)).kind == "dicom"
    with pytest.raises(SourceURIError, match="no such file"):
        parse_uri(str(tmp_path / "missing"))


@pytest.mark.parametrize("uri", ["", "ftp://host/x.mp4", "v4l2://camera", "file://"])
def test_bad_uris_name_the_problem(uri: str) -> None:
    with pytest.raises(SourceURIError):
        parse_uri(uri)


def test_missing_files_fail_on_open_with_the_path(tmp_path: Path) -> None:
    for name in ("gone.mp4", "gone.png", "gone.dcm"):
        with pytest.raises(SourceError, match="gone"):
            open_source(f"file://{tmp_path / name}")


def test_absent_v4l2_device_gives_a_clear_error() -> None:
    index = next(i for i in range(64, 256) if not Path(f"/dev/video{i}").exists())
    with pytest.raises(SourceError, match=rf"no video device /dev/video{index}.*plugged in"):
        open_source(f"v4l2:///dev/video{index}")
    with pytest.raises(SourceError, match="plugged in"):
        open_source(str(index))


def test_device_identity_prefers_by_id_link(tmp_path: Path) -> None:
    dev = tmp_path / "video7"
    dev.write_bytes(b"")
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-Probe_Co_US_1234-video-index0").symlink_to(dev)
    assert device_identity(str(dev), by_id) == str(by_id / "usb-Probe_Co_US_1234-video-index0")
    assert device_identity(str(tmp_path / "video9"), by_id) == str(tmp_path / "video9")
    assert V4L2Source("5").identity == device_identity("5")


def test_pacer_schedule_and_reanchor() -> None:
    pacer = Pacer(50.0, max_lag_s=0.1)
    assert pacer.wait_s(100.0) == 0.0
    pacer.advance()
    assert pacer.wait_s(100.0) == pytest.approx(0.02)
    assert pacer.wait_s(100.015) == pytest.approx(0.005)
    pacer.advance()
    assert pacer.wait_s(100.05) == 0.0  # frame 2 (due 100.04) is late ...
    pacer.advance()
    assert pacer.wait_s(100.05) == pytest.approx(0.01)  # ... but frame 3 stays on the 50 fps grid
    pacer.advance()
    assert pacer.wait_s(101.0) == 0.0  # far behind (stopped reading): re-anchored, no burst
    pacer.advance()
    assert pacer.wait_s(101.0) == pytest.approx(0.02)
    unpaced = Pacer(None)
    assert unpaced.wait_s(0.0) == 0.0 and unpaced.wait_s(1e9) == 0.0


def test_is_frozen() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    assert not is_frozen(None, a)
    assert is_frozen(a, a.copy())
    noisy = a.copy()
    noisy[:2, :2] = 255 - noisy[:2, :2]  # a blinking cursor does not hide a freeze
    assert is_frozen(a, noisy)
    moved = np.roll(a, 1, axis=1)
    assert not is_frozen(a, moved)
    assert not is_frozen(a, a[:, :64].copy())


def test_as_bgr_layouts() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert as_bgr(gray).shape == (3, 4, 3) and (as_bgr(gray)[:, :, 2] == gray).all()
    assert as_bgr(np.zeros((3, 4, 4), np.uint8)).shape == (3, 4, 3)
    with pytest.raises(PreprocessError, match="uint8"):  # inside the exception root, naming the frame
        as_bgr(np.zeros((3, 4), np.float32))


def test_watched_v4l2_reopens_by_its_first_identity() -> None:
    from liveredge.edge.sources import watched_source

    watched = watched_source("v4l2://7")
    first, again = watched._factory(), watched._factory()
    assert first.identity == device_identity("7") and again.target == first.identity
    assert again.identity == first.identity and again.uri == "v4l2://7"
