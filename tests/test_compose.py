"""The composition root: a typed RunConfig (validated) in, a wired run out; unexpected failures end a run loudly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import pytest
from runtime_fixtures import tiny_model_path, trusted

from liveredge.edge.decisions.engine import DecisionConfig
from liveredge.edge.errors import ConfigError, SourceError
from liveredge.edge.events import ExamSummary, StateEvent
from liveredge.edge.runtime import RunConfig, compose, load_model
from liveredge.edge.runtime.bench import Collector
from liveredge.edge.runtime.session import run_session
from liveredge.edge.sinks import ExamLog, JsonlSink, read_exams

SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=1&size=240x320"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tiny_model_path(tmp_path_factory.mktemp("compose"))
    return load_model(path, trusted(path))


@pytest.fixture(scope="module")
def cine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from liveredge.edge.sources import PrerenderedClip

    folder = tmp_path_factory.mktemp("cine")
    for i, frame in enumerate(PrerenderedClip.from_sim(SIM, 12, progress=False).frames):
        cv2.imwrite(str(folder / f"f{i:03d}.png"), frame)
    return folder


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"rate": "fast"}, "rate"),
        ({"fps": 0.0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"timeout_s": -1.0}, "timeout_s"),
        ({"max_frames": 0}, "max_frames"),
        ({"max_frames": True}, "max_frames"),
        ({"exam": "a\x1b[2Jb"}, "exam"),
        ({"source": ""}, "source"),
        ({"db": ""}, "db"),
        ({"decisions": DecisionConfig(margin=2.0)}, "margin"),
    ],
)
def test_run_config_refuses_bad_values_naming_them(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        RunConfig(**{"source": SIM, **change})


def test_run_config_is_frozen() -> None:
    cfg = RunConfig(source=SIM)
    with pytest.raises(AttributeError):
        cfg.rate = "max"  # type: ignore[misc]


def test_compose_wires_storage_exam_and_notes(model: Any, cine: Path, tmp_path: Path) -> None:
    db, jsonl = tmp_path / "e.db", tmp_path / "e.jsonl"
    notes = json.dumps({"source": str(cine)})
    collector = Collector()
    run = compose(
        RunConfig(source=str(cine), rate="max", fps=30.0, exam="C1", jsonl=str(jsonl), db=str(db), notes=notes),
        model,
        extra_sinks=[collector],
    )
    assert [type(s) for s in run.owned][1:] == [JsonlSink, ExamLog] and run.sinks[0] is collector
    end = run_session(run.pipeline, run.sinks)
    assert end.stats.end == "end" and end.stats.processed == 12 and end.closed.not_stored == 0
    summary = next(e for e in collector.events if isinstance(e, ExamSummary))
    assert summary.exam_id == "C1" and summary.frames_total == 12
    states = [e.state for e in collector.events if isinstance(e, StateEvent)]
    assert states[:2] == ["config", "model_loaded"] and states.count("config") == 2  # again with the exam start
    assert [e["exam_id"] for e in read_exams(db)] == ["C1"]
    assert '"exam_id":"C1"' in jsonl.read_text()


def test_a_missing_source_fails_clearly_after_the_sinks_close(model: Any, tmp_path: Path) -> None:
    run = compose(RunConfig(source=str(tmp_path / "nothing.mp4")), model)
    with pytest.raises(SourceError, match="nothing.mp4"):
        run_session(run.pipeline, run.sinks)


def test_an_unexpected_exception_ends_the_run_as_an_error_with_the_exam_summarised(model: Any, cine: Path) -> None:
    collector = Collector()
    run = compose(RunConfig(source=str(cine), rate="max", fps=30.0, exam="X1"), model, extra_sinks=[collector])
    processor = run.pipeline.processor
    real = processor.finish  # every frame's last step, in every pipeline mode (serial, direct, staged)
    calls: list[int] = []

    def flaky(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 6:
            raise ZeroDivisionError("a bug in the middle of an exam")
        return real(*args)

    processor.finish = flaky  # type: ignore[method-assign]  # a real processor with one injected bug
    end = run_session(run.pipeline, run.sinks)
    assert end.stats.end == "error" and "unexpected ZeroDivisionError: a bug in the middle" in end.stats.detail
    summary = next(e for e in collector.events if isinstance(e, ExamSummary))
    assert summary.exam_id == "X1" and summary.frames_total == 5
    stopped = [e for e in collector.events if isinstance(e, StateEvent) and e.state == "stopped"]
    assert stopped and "ZeroDivisionError" in stopped[-1].detail


def test_a_bug_in_the_capture_thread_is_an_error_not_a_clean_end(model: Any, cine: Path) -> None:
    run = compose(RunConfig(source=str(cine), rate="max", fps=30.0), model)
    source = run.pipeline.source
    real = source.read
    reads: list[int] = []

    def failing(timeout_s: float) -> Any:
        reads.append(1)
        if len(reads) == 3:
            raise KeyError("decoder state")
        return real(timeout_s)

    source.read = failing  # type: ignore[method-assign]
    end = run_session(run.pipeline, run.sinks)
    assert end.stats.end == "error" and "unexpected KeyError" in end.stats.detail


def test_unknown_fps_is_ok_and_decisions_reach_the_processor(model: Any) -> None:
    run = compose(RunConfig(source=SIM, decisions=DecisionConfig(margin=0.2, min_dwell_s=1.5)), model)
    hysteresis = run.pipeline.processor.engine.hysteresis
    assert (hysteresis.margin, hysteresis.min_dwell_s) == (0.2, 1.5)
    assert len(run.owned) == 1  # console alerts only: no output was asked for


def test_state_relay_keeps_early_events_in_order() -> None:
    from liveredge.edge.runtime import StateRelay

    relay, got = StateRelay(), []
    early = [StateEvent(f"s{i}", "", 0.0, 0.0) for i in range(3)]
    relay.post(early[0])
    relay.post(early[1])
    relay.connect(got.append)
    relay.post(early[2])
    assert got == early


def _drive_mcu(model: Any, cine: Path) -> tuple[Any, Collector, dict[int, int]]:
    """Run the 12-frame clip through ``compose()`` into a pty MCU emulator: (the session's end, what the sinks
    saw, {frame seq: class code} of every RESULT the MCU received). The wait for the RESULTs is bounded (5 s)."""
    import time

    from liveredge.firmware_bridge.emulator import PtyEmulator
    from liveredge.firmware_bridge.messages import Result
    from liveredge.firmware_bridge.runtime import SerialBridge

    collector = Collector()
    with PtyEmulator() as mcu:
        bridge = SerialBridge.open(mcu.path, wait_s=5.0)
        run = compose(RunConfig(source=str(cine), rate="max", fps=30.0), model, extra_sinks=[collector], bridge=bridge)
        end = run_session(run.pipeline, run.sinks)
        deadline, received = time.monotonic() + 5.0, []
        while time.monotonic() < deadline and len([m for m in received if isinstance(m, Result)]) < 12:
            time.sleep(0.02)
            received += mcu.take_received()
        bridge.close()
    return end, collector, {m.frame_seq: m.class_index for m in received if isinstance(m, Result)}


@pytest.mark.parametrize(
    "labels",
    [
        ("normal", "fibrosis", "focal_lesion", "steatosis"),  # another order
        ("normal", "steatosis", "fibrosis", "cirrhosis"),
    ],
)  # a label the wire lacks
def test_labels_in_another_order_and_an_unknown_label_drive_the_mcu_by_name(
    model: Any, cine: Path, labels: tuple[str, ...]
) -> None:
    """The model lists its labels in another order, or one the wire does not know: every RESULT carries the wire's
    code for the reported NAME (255 for the unknown one, told once), the run goes on. (The tiny model's top class
    on this clip is its 4th output, so the 4th label is the one reported once the dwell has passed.)"""
    import dataclasses

    from liveredge.edge.events import FrameResult
    from liveredge.firmware_bridge.messages import CLASS_CODES

    odd = dataclasses.replace(model, meta=dataclasses.replace(model.meta, labels=labels))
    end, collector, sent = _drive_mcu(odd, cine)
    assert end.stats.end == "end" and end.stats.processed == 12
    results = {r.seq: r.label for r in collector.events if isinstance(r, FrameResult)}
    assert len(sent) == 12 and sent == {seq: CLASS_CODES.get(label, 255) for seq, label in results.items()}
    assert labels[3] in results.values(), "the test needs the 4th label reported"
    assert sent[max(results)] == CLASS_CODES.get(labels[3], 255) != 3  # not the model's output index
    shown = [e for e in collector.events if isinstance(e, StateEvent) and e.state == "bridge_unknown_label"]
    assert len(shown) == (labels[3] not in CLASS_CODES) and all("cirrhosis" in e.detail for e in shown)


def test_a_real_five_output_model_drives_the_mcu_by_name_and_the_run_goes_on(cine: Path, tmp_path: Path) -> None:
    """Not relabelled metadata: a real int8 model with FIVE outputs, its 4th ("cirrhosis", unknown to the wire)
    winning on every frame. Every RESULT the emulated MCU receives carries 255 for it, the alert is told once,
    the run processes every frame and ends normally."""
    from liveredge.edge.events import FrameResult
    from liveredge.firmware_bridge.messages import CLASS_CODES

    labels = ("normal", "steatosis", "fibrosis", "cirrhosis", "focal_lesion")
    path = tiny_model_path(tmp_path / "five", labels=labels, favour=3)
    five = load_model(path, trusted(path))
    assert five.meta.labels == labels
    end, collector, sent = _drive_mcu(five, cine)
    assert end.stats.end == "end" and end.stats.processed == 12
    results = [r for r in collector.events if isinstance(r, FrameResult)]
    assert all(len(r.probs) == 5 for r in results)
    assert sent == {r.seq: CLASS_CODES.get(r.label, 255) for r in results}
    assert "cirrhosis" in {r.label for r in results} and 255 in sent.values()
    shown = [e for e in collector.events if isinstance(e, StateEvent) and e.state == "bridge_unknown_label"]
    assert len(shown) == 1 and "cirrhosis" in shown[0].detail
