"""File sources on real media: videos written with cv2.VideoWriter, PNG folders, truncation and removal."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from liveredge.edge.errors import SourceError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources import (
    PrerenderedClip,
    SourceStatus,
    WatchPolicy,
    make_source,
    open_source,
    watched_source,
)

SIZE = (96, 128)  # (H, W)


def level_frame(i: int) -> np.ndarray:
    """A frame whose flat grey level encodes ``i`` (robust to MJPEG compression)."""
    return np.full((*SIZE, 3), 10 + 9 * (i % 26), np.uint8)


def level_of(image: np.ndarray) -> int:
    return int(round((float(image.mean()) - 10) / 9))


def write_video(path: Path, n: int, fps: float = 30.0, fourcc: str = "MJPG") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (SIZE[1], SIZE[0]))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} here"
    for i in range(n):
        writer.write(level_frame(i))
    writer.release()
    return path


def truncate(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    out = path.with_name("cut_" + path.name)
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def drain(source, limit: int = 1000, timeout_s: float = 2.0) -> tuple[list, object]:
    frames, result = [], None
    for _ in range(limit):
        result = source.read(timeout_s)
        if result.status is SourceStatus.OK:
            frames.append(result.frame)
        elif result.status is SourceStatus.ERROR and not getattr(source, "gave_up", True):
            continue  # a watched source is reconnecting
        elif result.status is not SourceStatus.TIMEOUT:
            break
    return frames, result


def test_video_max_rate_delivers_every_frame_in_order(tmp_path: Path) -> None:
    source = open_source(str(write_video(tmp_path / "clip.avi", 40)), rate="max")
    frames, last = drain(source)
    source.close()
    assert last.status is SourceStatus.END and "40 frames" in last.detail
    assert [f.seq for f in frames] == list(range(40)) == [f.source_index for f in frames]
    assert [level_of(f.image) for f in frames] == [i % 26 for i in range(40)]
    assert all(f.image.shape == (*SIZE, 3) and f.image.dtype == np.uint8 for f in frames)
    stamps = [f.t_capture for f in frames]
    assert stamps == sorted(stamps) and source.nominal_fps == pytest.approx(30.0)


def test_video_realtime_is_paced_and_loops(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", 5, fps=50.0)
    source = open_source(f"file://{path}", loop=True)
    frames, _ = drain(source, limit=12)
    source.close()
    assert [f.source_index for f in frames] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    span = frames[-1].t_capture - frames[0].t_capture
    assert 11 / 50.0 * 0.9 <= span <= 11 / 50.0 + 0.25  # 50 fps schedule, not as fast as possible


def test_truncated_avi_reports_truncation_not_end(tmp_path: Path) -> None:
    cut = truncate(write_video(tmp_path / "clip.avi", 30), 0.5)
    source = open_source(str(cut), rate="max")
    frames, last = drain(source)
    source.close()
    assert 0 < len(frames) < 30
    assert last.status is SourceStatus.ERROR and "truncated" in last.detail and "of 30 frames" in last.detail


def test_truncated_mp4_cannot_open_and_the_watchdog_gives_up_cleanly(tmp_path: Path) -> None:
    cut = truncate(write_video(tmp_path / "clip.mp4", 30, fourcc="mp4v"), 0.6)
    with pytest.raises(SourceError, match="cannot be decoded"):
        open_source(str(cut))
    events: list[StateEvent] = []
    watched = watched_source(
        str(cut),
        rate="max",
        on_event=events.append,
        policy=WatchPolicy(timeout_s=0.5, initial_s=0.01, max_s=0.02, max_attempts=3),
    )
    with pytest.raises(SourceError):
        watched.open()  # a file that cannot be opened at all fails at once, naming it


def test_truncated_video_under_watchdog_ends_in_reconnect_attempts(tmp_path: Path) -> None:
    cut = truncate(write_video(tmp_path / "clip.avi", 30), 0.5)
    events: list[StateEvent] = []
    watched = watched_source(
        str(cut),
        rate="max",
        on_event=events.append,
        policy=WatchPolicy(timeout_s=0.5, initial_s=0.01, max_s=0.02, max_attempts=3),
    )
    watched.open()
    frames, last = drain(watched)
    watched.close()
    states = [e.state for e in events]
    assert states[0] == "source_opened" and "source_error" in states
    assert states.count("source_reconnecting") == 3 and states[-1] == "source_failed"
    assert last.status is SourceStatus.ERROR and watched.gave_up and "truncated" in last.detail
    seqs = [f.seq for f in frames]
    assert seqs == sorted(set(seqs))  # renumbered, never repeating across reopen attempts


def test_video_removed_mid_run_reconnects_then_reports(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.avi", 60)
    events: list[StateEvent] = []
    watched = watched_source(
        str(path),
        rate="max",
        on_event=events.append,
        policy=WatchPolicy(timeout_s=0.5, initial_s=0.01, max_s=0.05, max_attempts=2),
    )
    watched.open()
    first, _ = drain(watched, limit=10)
    os.remove(path)
    rest, last = drain(watched)
    watched.close()
    assert len(first) == 10 and not rest  # the open handle is not trusted once the file is gone
    states = [e.state for e in events]
    assert "source_error" in states and "source_reconnect_failed" in states and states[-1] == "source_failed"
    error = next(e for e in events if e.state == "source_error")
    assert "removed while reading" in error.detail
    assert last.status is SourceStatus.ERROR and "no such file" in last.detail


def test_reopen_resumes_after_the_last_frame(tmp_path: Path) -> None:
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i in range(8):
        cv2.imwrite(str(frames_dir / f"{i:04d}.png"), level_frame(i))
    (frames_dir / "0004.png").write_bytes(b"not a png")  # a corrupt frame in the middle
    events: list[StateEvent] = []
    watched = watched_source(
        str(frames_dir), rate="max", on_event=events.append, policy=WatchPolicy(initial_s=0.01, max_attempts=2)
    )
    watched.open()
    frames, last = drain(watched)
    assert last.status is SourceStatus.END
    assert [level_of(f.image) for f in frames] == [0, 1, 2, 3, 5, 6, 7]
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})
    assert [e.state for e in events] == [
        "source_opened",
        "source_error",
        "source_reconnecting",
        "source_reconnected",
        "source_ended",
    ]  # resumed after the bad frame
    assert "0004.png cannot be decoded" in events[1].detail


def test_image_source_single_and_looped(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), level_frame(3))
    once, last = drain(open_source(str(path), rate="max"))
    assert len(once) == 1 and level_of(once[0].image) == 3 and last.status is SourceStatus.END
    looped = open_source(str(path), fps=200.0, loop=True)
    frames, _ = drain(looped, limit=5)
    assert [f.seq for f in frames] == [0, 1, 2, 3, 4]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    with pytest.raises(SourceError, match="cannot be decoded"):
        open_source(str(bad))


def test_prerendered_clip_rates() -> None:
    clip = PrerenderedClip([level_frame(i) for i in range(6)], fps=100.0)
    clip.open()
    t0 = time.monotonic()
    frames, last = drain(clip)
    assert len(frames) == 6 and last.status is SourceStatus.END
    assert time.monotonic() - t0 >= 5 / 100.0 * 0.9
    assert frames[2].image is clip.frames[2]  # no copy on the hot path
    fast = PrerenderedClip(clip.frames, fps=1.0, rate="max")
    fast.open()
    t0 = time.monotonic()
    assert len(drain(fast)[0]) == 6 and time.monotonic() - t0 < 1.0
    slow = PrerenderedClip(clip.frames, fps=2.0)
    slow.open()
    assert slow.read(0.1).ok and slow.read(0.05).status is SourceStatus.TIMEOUT and slow.read(1.0).ok


def test_read_before_open_is_an_error_not_a_crash(tmp_path: Path) -> None:
    source = make_source(str(write_video(tmp_path / "clip.avi", 3)))
    result = source.read(0.1)
    assert result.status is SourceStatus.ERROR and "before open" in result.detail
