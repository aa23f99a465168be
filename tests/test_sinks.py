"""Sinks: JSONL lines, recordings that replay, the overlay, headless display, and never blocking the caller."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.edge.events import ExamSummary, FrameResult, Quality, StateEvent
from liveredge.edge.sinks import NOTICE, DisplaySink, DisplayUnavailable, JsonlSink, Recorder, draw_overlay
from liveredge.edge.sinks.base import Worker
from liveredge.edge.sources import SourceStatus, open_source
from liveredge.edge.sources.base import Frame

LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion")


def result(seq: int, label: str = "steatosis", probs=(0.1, 0.7, 0.1, 0.1), quality=Quality.OK) -> FrameResult:
    return FrameResult(
        seq=seq,
        t_capture=10.0 + seq,
        t_result=10.004 + seq,
        wall_time=1.7e9 + seq,
        probs=probs,
        smoothed=probs,
        label=label,
        confidence=max(probs),
        quality=quality,
        exam_id="E1",
        stage_ms={"invoke": 1.5},
    )


def frame(seq: int) -> Frame:
    rng = np.random.default_rng(seq)
    return Frame(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), seq, 10.0 + seq, seq)


def test_jsonl_writes_a_notice_then_one_parseable_line_per_event(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path)
    sink.emit(StateEvent("running", "sim://", 1.7e9, 1.0))
    sink.emit(result(0, quality=Quality.FROZEN | Quality.LOW_CONFIDENCE))
    sink.emit(ExamSummary("E1", "steatosis", 0.8, {"steatosis": 0.8}, 10, 7, {"frozen": 3}, 1.0, 2.0, 1.7e9))
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["header", "state", "result", "exam_summary"]
    assert lines[0]["notice"] == NOTICE and "not for clinical use" in NOTICE
    assert lines[2]["quality_flags"] == ["frozen", "low_confidence"] and lines[2]["latency_ms"] == pytest.approx(4.0)
    assert lines[2]["probs"] == [0.1, 0.7, 0.1, 0.1] and lines[3]["frames_used"] == 7


class _StuckStream(io.StringIO):
    """A text stream whose writes block until released (a stalled pipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        if '"type":"header"' not in text:
            self.release.wait(10)
        return super().write(text)


def test_a_stalled_output_drops_events_instead_of_blocking() -> None:
    stream = _StuckStream()
    sink = JsonlSink(stream, maxsize=8)
    t0 = time.perf_counter()
    for i in range(100):
        sink.emit(result(i))
    elapsed = time.perf_counter() - t0
    assert elapsed < 0.5 and sink.dropped >= 100 - 8 - 1
    stream.release.set()
    assert sink.flush(5.0)
    written = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert 1 + 8 <= len(written) <= 1 + 9 and written[1]["seq"] == 0
    sink.close()


def test_worker_survives_a_failing_handler() -> None:
    seen: list[int] = []

    def handle(item: int) -> None:
        if item == 2:
            raise OSError("disk full")
        seen.append(item)

    worker: Worker[int] = Worker("t", handle)
    for i in range(5):
        worker.submit(i)
    assert worker.flush(5.0)
    worker.close()
    assert seen == [0, 1, 3, 4] and worker.errors == 1 and "disk full" in worker.last_error
    assert not worker.submit(9) and worker.dropped == 1 and not worker.alive


def test_recorder_saves_lossless_frames_that_replay_as_a_folder(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "rec")
    frames = [frame(i) for i in range(5)]
    for f in frames:
        rec.submit(f, result(f.seq))
    rec.emit(StateEvent("source_lost", "gone", 1.7e9, 20.0))
    rec.close()
    assert rec.frames_written == 5 and rec.dropped == 0 and rec.errors == 0
    manifest = json.loads((tmp_path / "rec" / "manifest.json").read_text())
    assert manifest["notice"] == NOTICE
    lines = [json.loads(line) for line in (tmp_path / "rec" / "results.jsonl").read_text().splitlines()]
    assert [line.get("frame") for line in lines] == [f"frames/{i:08d}.png" for i in range(5)] + [None]
    replay = open_source(str(tmp_path / "rec" / "frames"), rate="max")
    replayed = [replay.read(1.0) for _ in range(6)]
    assert [r.status for r in replayed] == [SourceStatus.OK] * 5 + [SourceStatus.END]
    for original, again in zip(frames, replayed, strict=False):
        assert np.array_equal(original.image, again.frame.image)


def test_recorder_every_n_and_drops_when_the_disk_is_slow(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "rec", every=2, maxsize=4)
    big = Frame(np.random.default_rng(0).integers(0, 256, (720, 960, 3), dtype=np.uint8), 0, 0.0, 0)
    t0 = time.perf_counter()
    for seq in range(60):
        rec.submit(Frame(big.image, seq, 0.0, seq), result(seq))
    submit_s = time.perf_counter() - t0
    rec.close()
    assert submit_s < 0.5  # 60 submits of 2 MB frames return at once
    saved = sorted(p.name for p in (tmp_path / "rec" / "frames").iterdir())
    assert saved and all(int(name[:8]) % 2 == 0 for name in saved)
    assert rec.dropped > 0 and rec.dropped + len((tmp_path / "rec" / "results.jsonl").read_text().splitlines()) == 60


def test_overlay_bars_follow_the_probabilities() -> None:
    image = np.zeros((200, 320, 3), np.uint8)
    out = draw_overlay(image, result(0, probs=(0.0, 1.0, 0.25, 0.5)), LABELS, bar_width=100)
    assert out.shape == image.shape and out is not image and image.max() == 0
    green = (out[:, :, 1] == 200) & (out[:, :, 0] == 0) & (out[:, :, 2] == 0)
    grey = (out[:, :, 0] == 200) & (out[:, :, 1] == 200) & (out[:, :, 2] == 200)

    def bar_len(row: int, mask: np.ndarray) -> int:
        return int(mask[8 + row * 18 + 6, 8:110].sum())

    assert bar_len(1, green) == 100  # reported class, probability 1.0
    assert bar_len(2, grey) == 25 and bar_len(3, grey) == 50 and bar_len(0, grey) == 0
    banner = out[-20:, :, 2] > 150
    assert banner.any()  # the simulated-data notice is drawn


def test_overlay_blends_a_heatmap() -> None:
    image = np.full((300, 300, 3), 128, np.uint8)
    heat = np.zeros((10, 10), np.float32)
    heat[:, 5:] = 1.0
    out = draw_overlay(image, result(0), LABELS, heatmap=heat)
    left, right = out[150:250, 20:120].astype(int), out[150:250, 180:280].astype(int)  # clear of the text
    assert right[:, :, 2].mean() > left[:, :, 2].mean() + 30  # hot = red in JET
    assert left[:, :, 0].mean() > right[:, :, 0].mean() + 30  # cold = blue


def test_display_without_a_screen_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DisplayUnavailable, match="headless is the default"):
        DisplaySink(LABELS)
    monkeypatch.setenv("DISPLAY", ":99")
    if "NONE" in next(line for line in cv2.getBuildInformation().splitlines() if "GUI:" in line).upper():
        with pytest.raises(DisplayUnavailable, match="no GUI"):
            DisplaySink(LABELS)


def test_worker_close_is_bounded_when_the_handler_hangs_and_the_queue_is_full() -> None:
    release = threading.Event()
    worker: Worker[int] = Worker("hung", lambda _item: release.wait(30), maxsize=4)
    for i in range(10):
        worker.submit(i)  # one in hand, four queued, five dropped
    t0 = time.monotonic()
    assert worker.close(timeout_s=0.3) is False  # the handler still hangs: close gives up instead of waiting
    assert time.monotonic() - t0 < 5.0
    release.set()  # the handler returns: what was queued is dropped (counted), the thread ends
    assert _until(lambda: not worker.alive)
    assert worker.dropped == 9 and worker.handled == 1 and worker.flush(0.1)


def _until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
