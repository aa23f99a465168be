"""Hostile input ends in a clear refusal: resource bombs (PNG/JPEG headers, deflated and oversized DICOM, big
frames), endless config files, over-long paths, '#' in the DB path, control characters in exam ids, and SIGTERM
with a slow frame in flight. CLI probes run under a 2 GiB address-space limit. SIMULATED/synthetic data only."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_inputs import big_bmp, deflated_dicom_bomb, jpeg_header_bomb, png_bomb
from runtime_fixtures import pubkey_args, signed_fixture_model, trusted

from liveredge.edge import bounds
from liveredge.edge.bounds import Limits, check_path, console_safe, image_size, read_bounded
from liveredge.edge.errors import ConfigError, DataError, SourceError

ROOT = Path(__file__).resolve().parents[1]
MODEL = signed_fixture_model()  # signed by a test key: run needs a trusted statement
AS_LIMIT = 2 << 30
SIM = "sim://?condition=normal&site=S2&fps=60&seed=3&size=240x320"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``liveredge ARGS`` in a child limited to 2 GiB of address space."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    trust = pubkey_args(MODEL) if args[:1] == ("run",) else []
    return subprocess.run(
        [sys.executable, "-m", "liveredge.cli.main", *args, *trust],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        preexec_fn=_limit_memory,
        stdin=subprocess.DEVNULL,
    )


def refused(proc: subprocess.CompletedProcess[str], *words: str, code: int | None = None) -> None:
    assert proc.returncode != 0 and (code is None or proc.returncode == code), proc.stderr[-1500:]
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-1500:]
    for word in words:
        assert word in proc.stderr, proc.stderr[-1500:]


@pytest.fixture()
def small_limits() -> Iterator[None]:
    bounds.configure(Limits(max_frame_pixels=50_000, max_decoded_bytes=8 << 20))
    yield
    bounds.configure(bounds.DEFAULT_LIMITS)


def test_headers_give_the_size_before_decoding(tmp_path: Path) -> None:
    assert image_size(png_bomb(tmp_path / "b.png", 30000, 20000).read_bytes()[:64]) == (30000, 20000)
    assert image_size(jpeg_header_bomb(tmp_path / "b.jpg", 30000, 30000).read_bytes()) == (30000, 30000)
    assert image_size(b"not an image") is None


@pytest.mark.parametrize("make", [png_bomb, jpeg_header_bomb])
def test_image_bombs_are_refused_by_run_and_crop(tmp_path: Path, make: object) -> None:
    bomb = make(tmp_path / ("bomb.png" if make is png_bomb else "bomb.jpg"))  # type: ignore[operator]
    refused(cli("crop", str(bomb), "--out", str(tmp_path / "out")), str(bomb), "30000x30000", "16777216", code=2)
    refused(
        cli("run", "--model", str(MODEL), "--source", str(bomb), "--max-frames", "1"),
        str(bomb),
        "max_frame_pixels",
        code=1,
    )


def test_deflated_dicom_bomb_is_refused_before_inflating(tmp_path: Path, small_limits: None) -> None:
    from liveredge.edge.preprocess.dicom import read_dicom, read_info

    bomb = deflated_dicom_bomb(tmp_path / "bomb.dcm", 16)  # 17 KB on disk, 16 MiB inflated
    assert bomb.stat().st_size < 64 << 10
    for reader in (read_info, read_dicom):
        with pytest.raises(DataError, match=r"inflates to more than the limit of 8 MiB"):
            reader(bomb)
    bounds.configure(bounds.DEFAULT_LIMITS)
    info, _ = read_info(bomb)  # under the default limit the same file is fine: the cap refused it
    assert info.n_frames == 16
    refused(
        cli("run", "--model", str(MODEL), "--source", f"dicom://{bomb}", "--max-dicom-mib", "8", "--max-frames", "2"),
        str(bomb),
        "8 MiB",
        code=1,
    )


def test_dicom_frames_are_bounded_from_the_header(tmp_path: Path, small_limits: None) -> None:
    import pydicom
    from pydicom.data import get_testdata_file

    from liveredge.edge.preprocess.dicom import read_dicom, read_info

    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))  # 240x320 US cine, JPEG
    with pytest.raises(DataError, match="exceeds the limit of 50000 pixels"):
        read_info(get_testdata_file("examples_ybr_color.dcm"))
    bounds.configure(Limits(max_decoded_bytes=64 << 20))
    ds.NumberOfFrames = 5000  # 5000 x 320 x 240 x 3 = 1.1 GiB if decoded together
    path = tmp_path / "many_frames.dcm"
    ds.save_as(path)
    t0 = time.monotonic()
    with pytest.raises(DataError, match=r"5000 frames of 320x240x3 would decode to \d+ MiB"):
        read_dicom(path)
    assert time.monotonic() - t0 < 5.0  # refused from the header, nothing decoded


def test_video_and_stream_frames_are_bounded(tmp_path: Path, small_limits: None) -> None:
    import cv2
    import numpy as np

    from liveredge.edge.sources import open_source

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
    for _ in range(3):
        writer.write(np.zeros((480, 640, 3), np.uint8))
    writer.release()
    with pytest.raises(SourceError, match="640x480 = 307200 pixels exceeds the limit of 50000"):
        open_source(str(path), rate="max")
    # a live stream's frames are checked again before preprocessing: the run ends with an error naming the limit
    refused(
        cli("run", "--model", str(MODEL), "--source", SIM, "--max-frame-pixels", "1000", "--max-frames", "3"),
        "320x240 = 76800 pixels exceeds the limit of 1000",
        code=1,
    )


def test_endless_or_huge_settings_files_fail_fast(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        read_bounded("/dev/zero", "--config")
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than the 1048576-byte limit"):
        read_bounded(big, "--config")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_bounded(fifo, "--config")  # a FIFO with no writer must not block
    t0 = time.monotonic()
    refused(cli("run", "--model", str(MODEL), "--config", "/dev/zero", "--max-frames", "1"), "/dev/zero", code=2)
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("flag", ["--db", "--jsonl", "--record", "--model", "--source", "--config", "--pubkey"])
def test_over_long_path_components_are_usage_errors(tmp_path: Path, flag: str) -> None:
    long = str(tmp_path / ("x" * 300 + ".png"))
    with pytest.raises(ConfigError, match="is 304 bytes; at most 255"):
        check_path(long, flag)
    refused(cli("run", "--model", str(MODEL), flag, long, "--max-frames", "1"), flag.lstrip("-"), "at most 255", code=2)


def test_hash_and_question_mark_in_the_db_path_open_exactly_that_file(tmp_path: Path) -> None:
    from liveredge.edge.events import StateEvent
    from liveredge.edge.sinks import ExamLog, read_records

    path = tmp_path / "exams#1?x=2%41.db"
    log = ExamLog(path)
    log.emit(StateEvent("exam_started", "E#1", 0.0, 0.0))
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exams#1?x=2%41.db"]  # no "exams" file beside it
    assert [r["exam_id"] for r in read_records(path)] == ["E#1"]


def test_exam_ids_with_control_characters_are_refused_and_escaped(tmp_path: Path) -> None:
    from liveredge.edge.runtime import FrameProcessor, Pipeline, load_model
    from liveredge.edge.sources import make_source

    proc = cli("run", "--model", str(MODEL), "--exam", "A\x1b[2J\x07", "--max-frames", "1")
    refused(proc, "--exam", "A\\x1b[2J\\x07", code=2)
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert console_safe("ok\u202egnp.exe\r") == "ok\\u202egnp.exe\\x0d"
    events: list[object] = []

    class Collect:
        def emit(self, event: object) -> None:
            events.append(event)

        def close(self) -> None:
            return None

    model = load_model(MODEL, trusted(MODEL, num_threads=1))
    pipe = Pipeline(make_source(SIM, rate="max"), FrameProcessor(model), [Collect()])
    pipe.start_exam("bad\x1b]0;owned\x07")  # e.g. a 'start ID' line on stdin
    pipe.finish()
    refusals = [e for e in events if getattr(e, "state", "") == "exam_refused"]
    assert len(refusals) == 1 and "\x1b" not in refusals[0].detail and not pipe.processor.exam.active


def test_sigterm_with_a_slow_frame_in_flight_ends_within_a_second(tmp_path: Path) -> None:
    image = big_bmp(tmp_path / "big.bmp", 4000, 4000)  # seconds per frame on a small CPU
    db = tmp_path / "exams.db"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liveredge.cli.main",
            "run",
            "--model",
            str(MODEL),
            "--source",
            str(image),
            "--loop",
            "--max-frame-pixels",
            "20000000",
            "--exam",
            "SLOW",
            "--db",
            str(db),
            "--jsonl",
            "-",
            *pubkey_args(MODEL),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert child.stdout is not None
    for line in child.stdout:
        if '"running"' in line:
            break
    time.sleep(1.5)  # the first 4000x4000 frame is in preprocessing now
    t0 = time.monotonic()
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    took = time.monotonic() - t0
    assert took < 1.5, (took, err[-800:])  # 1 s plus the interpreter's own exit on a loaded 2-core machine
    assert child.returncode == 0 and "Traceback" not in err and "SIGTERM" in err
    states = [json.loads(x).get("state") for x in out.splitlines() if x.startswith("{")]
    assert "stopped" in states
    with sqlite3.connect(db) as conn:  # the exam was summarised and the exam log closed cleanly
        assert conn.execute("SELECT status FROM exams WHERE exam_id='SLOW'").fetchone() == ("closed",)
