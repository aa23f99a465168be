"""Network streams against a real MJPEG-over-HTTP server on 127.0.0.1 (stopped and restarted mid-run)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from mjpeg_server import MjpegServer

from liveredge.edge.errors import SourceError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources import SourceStatus, WatchPolicy, open_source, watched_source

pytestmark = pytest.mark.timeout(60)


def test_stream_keeps_only_the_newest_frame_for_a_slow_consumer() -> None:
    server = MjpegServer(fps=60.0)
    try:
        source = open_source(server.url)
        first = source.read(5.0)
        assert first.ok and first.frame.image.shape == (120, 160, 3)
        seqs = [first.frame.seq]
        for _ in range(4):
            dropped = source.dropped
            # a consumer much slower than the stream: wait (on the source's own count, not a clock) until two
            # frames it did not read were replaced by newer ones
            assert _until(lambda d=dropped: source.dropped >= d + 2, 10.0)
            result = source.read(2.0)
            assert result.ok
            seqs.append(result.frame.seq)
            assert result.frame.seq >= seqs[-2] + 3  # the newest frame, not the next one queued after the last read
        source.close()
    finally:
        server.stop()
    gaps = [b - a for a, b in zip(seqs, seqs[1:], strict=False)]
    assert min(gaps) >= 3 and source.dropped >= sum(g - 1 for g in gaps) - 1


def _until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_server_stopped_mid_run_reconnects_when_it_returns() -> None:
    server = MjpegServer(fps=30.0)
    port = server.port
    events: list[StateEvent] = []
    policy = WatchPolicy(timeout_s=1.0, initial_s=0.05, max_s=0.2)
    watched = watched_source(server.url, policy=policy, on_event=events.append)
    watched.open()
    before = [watched.read(2.0) for _ in range(5)]
    assert all(r.ok for r in before)
    server.stop()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and sum(e.state == "source_reconnect_failed" for e in events) < 2:
        result = watched.read(0.5)
        assert result.status in (SourceStatus.ERROR, SourceStatus.TIMEOUT, SourceStatus.OK)
    states = [e.state for e in events]
    assert states.count("source_reconnect_failed") >= 2 and not watched.gave_up
    assert any(e.state in ("source_error", "source_lost") for e in events)
    revived = MjpegServer(fps=30.0, port=port)
    try:
        after = []
        while time.monotonic() < deadline + 10 and len(after) < 5:
            result = watched.read(0.5)
            if result.ok:
                after.append(result.frame)
    finally:
        watched.close()
        revived.stop()
    assert len(after) == 5 and "source_reconnected" in [e.state for e in events]
    assert after[0].seq > before[-1].frame.seq  # sequence numbers keep increasing across the outage


def test_stalled_stream_is_declared_lost_after_the_timeout() -> None:
    server = MjpegServer(fps=30.0)
    events: list[tuple[float, StateEvent]] = []
    watched = watched_source(
        server.url,
        policy=WatchPolicy(timeout_s=0.5, initial_s=0.05),
        on_event=lambda e: events.append((time.monotonic(), e)),
    )
    try:
        watched.open()
        assert all(watched.read(2.0).ok for _ in range(3))
        server.stalled.set()
        stalled_at = time.monotonic()
        while time.monotonic() - stalled_at < 5 and not any(e.state == "source_lost" for _, e in events):
            started = time.monotonic()
            result = watched.read(0.2)
            assert result.status is not SourceStatus.END
            assert time.monotonic() - started < 0.2 + 0.5 + 1.0  # read timeout + capture-thread join + slack
    finally:
        watched.close()
        server.stop()
    t_lost, lost = next((t, e) for t, e in events if e.state == "source_lost")
    assert "no frame for" in lost.detail and t_lost - stalled_at < 0.5 + 1.5


def test_unreachable_stream_fails_with_the_url() -> None:
    server = MjpegServer()
    url = server.url
    server.stop()
    with pytest.raises(SourceError, match="cannot open"):
        open_source(url)
