"""The watchdog on real sources: frozen frames flagged, frozen/lost streams reopened, back-off schedule."""

from __future__ import annotations

import numpy as np
import pytest

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import StateEvent
from liveredge.edge.sources import PrerenderedClip, SourceStatus, WatchedSource, WatchPolicy, watched_source

SIM = "sim://?condition=fibrosis&site=S2&seed=3&size=120x160&freeze=0.3"


def flat(level: int) -> np.ndarray:
    rng = np.random.default_rng(level)
    return rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)


def read_frames(source: WatchedSource, n: int, timeout_s: float = 1.0) -> list:
    frames = []
    for _ in range(n * 20):
        result = source.read(timeout_s)
        if result.ok:
            frames.append(result.frame)
            if len(frames) == n:
                break
        elif result.status is SourceStatus.END or source.gave_up:
            break
    return frames


def test_frozen_frames_are_flagged_and_reported() -> None:
    a, b, c = flat(1), flat(2), flat(3)
    images = [a, b, b.copy(), b.copy(), b.copy(), c, c.copy(), a]
    events: list[StateEvent] = []
    watched = WatchedSource(lambda: PrerenderedClip(images, rate="max"), on_event=events.append)
    watched.open()
    frames = read_frames(watched, len(images))
    assert [f.frozen for f in frames] == [False, False, True, True, True, False, True, False]
    assert [e.state for e in events] == ["source_opened", "source_frozen", "source_unfrozen"]
    assert "3 frames" in events[1].detail


def test_simulated_scanner_freezes_are_flagged() -> None:
    from liveredge.edge import sim
    from liveredge.edge.sources import parse_uri, sim_options

    o = sim_options(parse_uri(SIM).params)
    scanner = sim.Scanner(
        sim.make_patient(o.patient, o.condition, seed=o.seed),
        sim.get_profile(o.site),
        seed=o.seed,
        fps=o.fps,
        size=o.size,
        freeze_prob=o.freeze,
    )
    truth = [bool(scanner.frame(i).frozen) for i in range(40)]
    assert any(truth), "the simulator should freeze some frames at freeze=0.3"
    watched = watched_source(SIM, rate="max")
    watched.open()
    frames = read_frames(watched, 40)
    assert [f.source_index for f in frames] == list(range(40))
    assert [f.frozen for f in frames] == truth


def test_a_stream_frozen_too_long_is_reopened_and_resumes() -> None:
    still = [flat(5)] * 30 + [flat(6), flat(7)]
    events: list[StateEvent] = []
    policy = WatchPolicy(freeze_timeout_s=0.05, initial_s=0.01)
    watched = WatchedSource(lambda: PrerenderedClip(still, fps=200.0), policy, on_event=events.append)
    watched.open()
    frames = read_frames(watched, 40)
    states = [e.state for e in events]
    assert "source_lost" in states and "source_reconnected" in states
    lost = next(e for e in events if e.state == "source_lost")
    assert "frozen for" in lost.detail
    indexes = [f.source_index for f in frames]
    assert indexes[-2:] == [30, 31] and indexes == sorted(indexes)  # resumed where it stopped
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})


class _Clock:
    """Deterministic time for the back-off schedule (the sources themselves are real)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_lost_source_backs_off_exponentially_then_gives_up(tmp_path) -> None:
    from liveredge.edge.sources import make_source

    clock = _Clock()
    events: list[StateEvent] = []
    policy = WatchPolicy(timeout_s=1.0, initial_s=0.5, factor=2.0, max_s=3.0, max_attempts=5)
    first = iter([PrerenderedClip([flat(1), flat(2)], fps=0.01)])  # 2nd frame due in 100 s: the source goes quiet

    def factory():
        return next(first, None) or make_source(f"file://{tmp_path / 'unplugged.avi'}")

    watched = WatchedSource(factory, policy, on_event=events.append, clock=clock, sleep=clock.sleep)
    watched.open()
    assert watched.read(0.1).ok
    clock.now += 1.5  # no frame for longer than timeout_s
    assert watched.read(0.0).status is SourceStatus.TIMEOUT and events[-1].state == "source_lost"
    clock.sleeps.clear()
    results = [watched.read(10.0) for _ in range(5)]
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]  # exponential, capped at max_s
    assert [r.status for r in results] == [SourceStatus.TIMEOUT] * 4 + [SourceStatus.ERROR]
    assert watched.gave_up and "gave up after 5 attempts" in results[-1].detail
    assert "unplugged.avi: no such file" in results[-1].detail
    states = [e.state for e in events]
    assert states.count("source_reconnecting") == 5 and states.count("source_reconnect_failed") == 4
    assert states[-1] == "source_failed" and watched.read(1.0).status is SourceStatus.ERROR


def test_reconnect_after_loss_resets_the_backoff() -> None:
    clock = _Clock()
    events: list[StateEvent] = []
    policy = WatchPolicy(timeout_s=1.0, initial_s=0.5, max_attempts=None)
    watched = WatchedSource(
        lambda: PrerenderedClip([flat(1), flat(2)], fps=0.01),
        policy,
        on_event=events.append,
        clock=clock,
        sleep=clock.sleep,
    )
    watched.open()
    assert watched.read(0.1).ok
    clock.now += 1.5
    watched.read(0.0)
    assert watched.read(10.0).status is SourceStatus.TIMEOUT and events[-1].state == "source_reconnected"
    resumed = watched.read(0.1)
    assert resumed.ok and resumed.frame.source_index == 1 and resumed.frame.seq == 1
    assert watched.attempts == 0 and watched.reconnects == 1


def test_bad_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        WatchedSource(lambda: PrerenderedClip([flat(1)]), WatchPolicy(timeout_s=0))


def test_a_file_that_vanishes_before_a_reopen_is_a_failed_attempt_not_a_bad_uri(tmp_path) -> None:
    """The URI is parsed once: a suffix-less DICOM cine (recognised by its preamble) that is gone when the
    watchdog's factory (re)opens it is a ``SourceError`` of the reader, which counts as a failed attempt, never a
    ``ConfigError`` about the URI that would stop the runtime."""
    import shutil

    from pydicom import data as pydicom_data

    from liveredge.edge.errors import SourceError

    cine = tmp_path / "cine"  # no .dcm suffix: only its DICM preamble says what it is
    shutil.copy(pydicom_data.get_testdata_file("examples_ybr_color.dcm"), cine)
    watched = watched_source(str(cine), policy=WatchPolicy(initial_s=0.01, max_attempts=2))
    cine.unlink()
    with pytest.raises(SourceError, match="cine") as info:
        watched.open()
    assert not isinstance(info.value, ConfigError)
