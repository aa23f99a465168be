"""The runtime end to end with a real LiteRT interpreter: integrity, mailbox, pipeline, gating, CLI signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from runtime_fixtures import pubkey_args, tiny_model_path, trusted

from liveredge.edge.errors import VerificationError
from liveredge.edge.events import UNCERTAIN, ExamSummary, FrameResult, Quality
from liveredge.edge.runtime import FrameProcessor, LatestMailbox, Pipeline, PipelineConfig, load_model
from liveredge.edge.runtime.bench import BenchConfig, Collector, run_bench
from liveredge.edge.runtime.bridge import BridgeSink, wire_exam_id, wire_quality
from liveredge.edge.sinks import JsonlSink
from liveredge.edge.sources import PrerenderedClip

SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=1&size=240x320"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_path(tmp_path_factory.mktemp("runtime"))


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return list(PrerenderedClip.from_sim(SIM, 24, progress=False).frames)


def test_tampered_model_is_refused(model_path: Path, tmp_path: Path) -> None:
    bad = model_path.parent / "m.tflite"
    data = bytearray(model_path.read_bytes())
    bad.write_bytes(bytes(data))
    for suffix in (".sha256", ".statement.json"):
        Path(str(bad) + suffix).write_bytes(Path(str(model_path) + suffix).read_bytes())
    assert load_model(bad, trusted(model_path)).verified  # same bytes: verifies
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    for allow in (False, True):  # a mismatch is refused even with allow_unverified
        with pytest.raises(VerificationError, match="does not match"):
            load_model(bad, trusted(model_path, allow_unverified=allow))
    Path(str(bad) + ".sha256").unlink()  # without the transport sidecar the signed statement still refuses it
    with pytest.raises(VerificationError, match="statement is for other bytes"):
        load_model(bad, trusted(model_path, allow_unverified=True))


def test_unverifiable_model_needs_opt_in_and_is_flagged(
    model_path: Path, tmp_path: Path, frames: list[np.ndarray]
) -> None:
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(model_path.read_bytes())
    with pytest.raises(VerificationError, match="no signed statement"):
        load_model(bare, trusted(model_path))
    model = load_model(bare, trusted(model_path, allow_unverified=True))
    assert not model.verified
    clip = PrerenderedClip(frames[:6], rate="max")
    sink = Collector()
    Pipeline(clip, FrameProcessor(model), [sink], PipelineConfig(backpressure=True)).run()
    assert len(sink.results) == 6 and all(r.quality & Quality.UNVERIFIED_MODEL for r in sink.results)


def test_mailbox_keeps_latest_and_counts_drops() -> None:
    box: LatestMailbox[int] = LatestMailbox()
    for i in range(5):
        assert box.put(i)
    assert box.get(0.01) == 4 and box.dropped == 4
    assert box.get(0.01) is None
    box.put(7)
    done: list[bool] = []
    t = threading.Thread(target=lambda: done.append(box.put(8, block=True, timeout_s=5.0)))
    t.start()
    time.sleep(0.05)
    assert t.is_alive() and not done  # back-pressure: waits for the slot instead of replacing 7
    assert box.get(1.0) == 7
    t.join(2.0)
    assert done == [True] and box.get(0.1) == 8 and box.dropped == 4
    box.close()
    assert not box.put(9) and box.drained


def test_pipeline_end_to_end_jsonl(model_path: Path, frames: list[np.ndarray], tmp_path: Path) -> None:
    model = load_model(model_path, trusted(model_path, num_threads=1))
    out = tmp_path / "events.jsonl"
    sink = JsonlSink(out)
    pipe = Pipeline(
        PrerenderedClip(frames, rate="max"), FrameProcessor(model), [sink], PipelineConfig(backpressure=True)
    )
    pipe.start_exam("EX1")
    stats = pipe.run()
    pipe.finish()
    sink.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    results = [d for d in lines if d["type"] == "result"]
    assert stats.end == "end" and stats.dropped == 0 and len(results) == len(frames)
    assert [d["seq"] for d in results] == list(range(len(frames)))
    for d in results:
        assert set(d["stage_ms"]) == {"wait", "preprocess", "invoke", "post"} and d["latency_ms"] > 0
        assert abs(sum(d["probs"]) - 1) < 0.03 and d["exam_id"] == "EX1"
        assert d["label"] in (*model.meta.labels, UNCERTAIN)
    summary = [d for d in lines if d["type"] == "exam_summary"]
    assert len(summary) == 1 and summary[0]["frames_total"] == len(frames)
    assert lines[0]["type"] == "header" and "SIMULATED" in lines[0]["notice"]


def test_frozen_dark_and_geometry_change(model_path: Path, frames: list[np.ndarray]) -> None:
    model = load_model(model_path, trusted(model_path))
    proc = FrameProcessor(model)
    small = [np.ascontiguousarray(f[:200, :280]) for f in frames[:3]]
    seq = [frames[0], frames[1], frames[1], frames[1], frames[2], *small, np.zeros_like(frames[0])]
    sink = Collector()
    Pipeline(PrerenderedClip(seq, rate="max"), proc, [sink], PipelineConfig(backpressure=True)).run()
    q = [r.quality for r in sink.results]
    assert len(q) == len(seq)
    assert not q[1] & Quality.FROZEN and q[2] & Quality.FROZEN and q[3] & Quality.FROZEN
    assert not q[4] & Quality.FROZEN
    assert all(r.label == UNCERTAIN for r in sink.results[2:4])
    assert proc.region.estimates >= 3  # first geometry, the smaller frames, the full-size black frame
    assert q[-1] & Quality.NO_REGION and q[-1] & Quality.DARK


def test_bridge_sink_sends_valid_wire_values(model_path: Path) -> None:
    from liveredge.firmware_bridge.runtime import NullBridge

    sink = BridgeSink(NullBridge())
    p = (0.1, 0.7, 0.1, 0.1)
    sink.emit(FrameResult(2**33 + 5, 12.5, 12.6, 0.0, p, p, "steatosis", 0.7, Quality.FROZEN | Quality.DARK))
    sink.emit(FrameResult(1, 1.0, 1.0, 0.0, p, p, UNCERTAIN, 1.2, Quality.UNVERIFIED_MODEL))
    sink.emit(ExamSummary("exam-A", "steatosis", 0.7, {}, 10, 8, {}, 0.0, 1.0, 0.0))
    sink.emit(ExamSummary("exam-B", "steatosis", 0.7, {}, 10, 10, {"unverified_model": 10}, 0.0, 1.0, 0.0))
    sink.close()
    assert sink.errors == 0 and sink.dropped == 0, "NullBridge validates every value: none refused"
    assert wire_quality(Quality.FROZEN | Quality.LOW_CONFIDENCE | Quality.UNVERIFIED_MODEL) == (1 << 5) | (1 << 7) | (
        1 << 8
    )
    assert wire_exam_id("42") == 42 and 0 <= wire_exam_id("exam-A") < 2**32


def test_bridge_sink_maps_classes_by_name_whatever_the_model_order() -> None:
    from liveredge.firmware_bridge.runtime import NullBridge

    class Recording(NullBridge):  # the real validating bridge, remembering what it accepted
        sent: list[int] = []

        def publish_result(self, **kw: Any) -> None:
            super().publish_result(**kw)
            self.sent.append(kw["class_index"])

    states: list[Any] = []
    sink = BridgeSink(Recording(), on_state=states.append)
    p = (0.2,) * 5  # e.g. a model listing ("not_liver", "focal_lesion", "normal", "fibrosis", "steatosis")
    for label in ("normal", "focal_lesion", "not_liver", UNCERTAIN, "some_fifth_label", "some_fifth_label"):
        sink.emit(FrameResult(1, 1.0, 1.0, 0.0, p, p, label, 0.5, Quality.OK))
    sink.close()
    assert Recording.sent == [0, 3, 4, 255, 255, 255], "wire codes come from the label NAME, unknown labels are 255"
    assert [(e.state, "some_fifth_label" in e.detail) for e in states] == [("bridge_unknown_label", True)]


def test_bridge_sink_failure_never_reaches_the_inference_thread() -> None:
    from liveredge.firmware_bridge.errors import BridgeValueError
    from liveredge.firmware_bridge.runtime import NullBridge

    class Failing(NullBridge):
        def publish_result(self, **kw: Any) -> bool:
            raise BridgeValueError("confidence does not fit")

        def poll_events(self) -> list[Any]:
            raise OSError(5, "Input/output error")

    states: list[Any] = []
    sink = BridgeSink(Failing(), on_state=states.append)
    p = (0.5, 0.5)
    for _ in range(3):
        sink.emit(FrameResult(1, 1.0, 1.0, 0.0, p, p, "normal", 0.5))  # raises on the worker, not here
    sink.poll(lambda exam: None, lambda: None)
    assert sink.flush(5.0)
    sink.close()
    assert sink.errors == 3 and [e.state for e in states] == ["bridge_error"]


def test_bench_report_has_every_number(model_path: Path, frames: list[np.ndarray]) -> None:
    model = load_model(model_path, trusted(model_path, num_threads=1))
    cfg = BenchConfig(fps=120.0, fast_fps=480.0, invoke_runs=20, baseline_frames=3, discard=2)
    report = run_bench(model, PrerenderedClip(frames), cfg, 1, None)
    for key in ("invoke_fps", "stages_fps", "pipeline_fps", "baseline_fps"):
        assert report[key] > 0
    for key, drops in (("latency_ms", "drops"), ("latency_240_ms", "drops_240")):
        assert report[key]["n"] + report[drops] == len(frames) - 2  # every frame processed or counted as dropped
        assert report[key]["p50"] <= report[key]["p99"] <= report[key]["max"]
    assert {"preprocess", "invoke"} <= set(report["stage_ms"]) and report["drops_240"] >= 0
    assert "no float32 twin" in report["baseline_model"] and "SIMULATED" in report["notice"]
    peer = report["peer"]  # the best-practice loop, alternated with the pipeline on the same clip
    assert peer["fps"] > 0 and report["rounds"] == len(report["per_round"]) == 3
    for key, drops in (("latency_ms", "drops"), ("latency_240_ms", "drops_240")):
        assert peer[key]["n"] + peer[drops] == len(frames) - 2
        assert {"preprocess", "invoke", "post"} <= set(peer[key.replace("latency", "stage")])
    assert all(v > 0 for v in report["ratios"].values())
    assert {"pipeline_ge_1.0x_peer_fps", "p99_60fps_le_1.0x_peer", "pipeline_ge_0.75x_invoke"} <= set(
        report["acceptance"]
    )
    alloc = report["allocations"]
    assert alloc["frames_measured"] > 0 and alloc["peak_transient_bytes"] < alloc["frame_bytes"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_run_ends_cleanly_on_signal(model_path: Path, tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "exam.db"
    cmd = [
        sys.executable,
        "-m",
        "liveredge.cli.main",
        "run",
        "--model",
        str(model_path),
        *pubkey_args(model_path),
        "--source",
        SIM,
        "--threads",
        "1",
        "--exam",
        "E9",
        "--jsonl",
        "-",
        "--db",
        str(db),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if '"type":"result"' in line:
                break
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    events = [json.loads(x) for x in rest.splitlines() if x.startswith("{")]
    assert proc.returncode == 0, err
    assert events[-1]["type"] == "state" and events[-1]["state"] == "stopped"
    summary = next(e for e in events if e["type"] == "exam_summary" and e["exam_id"] == "E9")
    assert "SIMULATED" in err
    assert f"exam E9: {summary['label']} (confidence {summary['confidence']:.2f}" in err  # told on the console too


def test_source_vanishing_mid_run_reconnects_and_ends_with_a_clear_status(
    model_path: Path, frames: list[np.ndarray], tmp_path: Path
) -> None:
    import shutil

    import cv2

    from liveredge.edge.sources import WatchPolicy, watched_source

    folder = tmp_path / "cine"
    folder.mkdir()
    for i in range(12):
        cv2.imwrite(str(folder / f"f{i:03d}.png"), frames[i % len(frames)])

    class RemoveAfter(Collector):
        def emit(self, event: object) -> None:
            super().emit(event)
            if len(self.results) == 3 and folder.exists():
                shutil.rmtree(folder)  # the medium disappears while the runtime reads it

    sink = RemoveAfter()
    holder: list[Pipeline] = []
    policy = WatchPolicy(timeout_s=0.5, initial_s=0.05, max_s=0.1, max_attempts=2)
    source = watched_source(
        str(folder), rate="realtime", fps=30.0, policy=policy, on_event=lambda ev: holder[0].post_state(ev)
    )
    pipe = Pipeline(source, FrameProcessor(load_model(model_path, trusted(model_path))), [sink])
    holder.append(pipe)
    stats = pipe.run()
    states = [e.state for e in sink.events if type(e).__name__ == "StateEvent"]
    assert stats.end == "error" and str(folder) in stats.detail  # a clear status naming the medium, no crash
    assert 3 <= len(sink.results) < 12
    assert "source_reconnecting" in states and states[-1] in ("source_error", "source_failed")


def test_exam_commands_on_stdin_start_and_end_exams(model_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "liveredge.cli.main",
        "run",
        "--model",
        str(model_path),
        *pubkey_args(model_path),
        "--source",
        SIM,
        "--threads",
        "1",
        "--stdin-control",
        "--max-frames",
        "45",
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        seen += '"type":"result"' in line
        if seen == 5:
            proc.stdin.write("start A1\n")
            proc.stdin.flush()
        if seen == 20:
            proc.stdin.write("start A2\nend\n")  # a second start closes A1 first
            proc.stdin.flush()
            break
    rest, err = proc.communicate(timeout=30)
    events = [json.loads(x) for x in rest.splitlines() if x.startswith("{")]
    summaries = [e for e in events if e["type"] == "exam_summary"]
    assert proc.returncode == 0, err
    assert [s["exam_id"] for s in summaries] == ["A1", "A2"]
    assert summaries[0]["frames_total"] >= 10


def test_serial_bridge_to_emulated_mcu_drives_exams_and_gets_results(
    model_path: Path, frames: list[np.ndarray], tmp_path: Path
) -> None:
    """The whole run built by ``compose`` from a RunConfig: MCU buttons over a real pty start and end the exam."""
    import cv2

    from liveredge.edge.runtime import RunConfig, compose
    from liveredge.firmware_bridge.emulator import PtyEmulator
    from liveredge.firmware_bridge.messages import ExamSummary as WireSummary
    from liveredge.firmware_bridge.messages import Result

    folder = tmp_path / "cine"
    folder.mkdir()
    for i in range(90):
        cv2.imwrite(str(folder / f"f{i:03d}.png"), frames[i % len(frames)])
    model = load_model(model_path, trusted(model_path))
    with PtyEmulator() as mcu:

        class McuScript(Collector):  # the MCU presses "exam start" at frame 10 and "exam end" at frame 60
            def emit(self, event: object) -> None:
                super().emit(event)
                n = len(self.results)
                if n == 10 and isinstance(event, FrameResult):
                    mcu.act(lambda h, t: h.exam_start(t, exam_id=77))
                if n == 60 and isinstance(event, FrameResult):
                    mcu.act(lambda h, t: h.exam_end(t, exam_id=77))

        script = McuScript()
        run = compose(RunConfig(source=str(folder), rate="max", fps=60.0, serial=mcu.path), model, extra_sinks=[script])
        assert run.pipeline.pollers, "the MCU sink is asked for exam commands"
        run.pipeline.run()
        run.pipeline.finish()
        deadline = time.monotonic() + 5.0
        received: list[object] = []
        while time.monotonic() < deadline and not any(isinstance(e, WireSummary) for e in received):
            time.sleep(0.05)
            received += mcu.take_received()
        for sink in run.owned:
            sink.close()
    summaries = [e for e in script.events if isinstance(e, ExamSummary)]
    assert len(summaries) == 1 and summaries[0].exam_id == "77" and 0 < summaries[0].frames_total <= 80
    assert sum(isinstance(e, Result) for e in received) > 30
    wire = [e for e in received if isinstance(e, WireSummary)]
    assert len(wire) == 1 and wire[0].exam_id == 77 and wire[0].frames == summaries[0].frames_total


def test_offline_replay_smooths_on_media_time(model_path: Path, frames: list[np.ndarray]) -> None:
    """At --rate max frames arrive far faster than 30 fps; smoothing must still follow the clip's own clock."""
    model = load_model(model_path, trusted(model_path))
    proc = FrameProcessor(model)
    sink = Collector()
    Pipeline(PrerenderedClip(frames[:10], fps=10.0, rate="max"), proc, [sink], PipelineConfig(backpressure=True)).run()
    tau = model.meta.operating_point.smoothing_tau_s
    r1, r2 = sink.results[1], sink.results[2]
    a = 1 - np.exp(-0.1 / tau)  # 10 fps media clock: 0.1 s between frames whatever the wall clock did
    expected = np.asarray(r1.smoothed) + a * (np.asarray(r2.probs) - np.asarray(r1.smoothed))
    assert np.allclose(r2.smoothed, expected, atol=2e-5)
