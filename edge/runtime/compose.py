"""The runtime's composition root: one typed :class:`RunConfig` in, one wired :class:`Run` out.

:func:`compose` builds, from a validated :class:`RunConfig` and a loaded model, the watched source (with its
reconnect policy: stored media give up after 3 failed reopen attempts unless looped, live sources retry forever),
the frame processor and its decision settings, the sinks (console alerts, JSONL, SQLite exam log, recording,
display) and the MCU bridge sink, and the :class:`~liveredge.edge.runtime.pipeline.Pipeline` joining them; state
events of the source and of the sinks (storage failures, MCU link alerts) reach the pipeline through one
:class:`StateRelay`. ``liveredge run``, ``liveredge demo``, benchmarks and tests all call it, so the wiring is
written once. Results come from models trained on SIMULATED data and are not for clinical use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from liveredge.edge.bounds import check_exam_id
from liveredge.edge.decisions.engine import DecisionConfig
from liveredge.edge.errors import ConfigError
from liveredge.edge.events import StateEvent
from liveredge.edge.runtime.bridge import BridgeSink

if TYPE_CHECKING:
    from liveredge.firmware_bridge.runtime import RuntimeBridge as McuBridge
from liveredge.edge.runtime.model import LoadedModel
from liveredge.edge.runtime.pipeline import ExamPoller, Pipeline, PipelineConfig, state
from liveredge.edge.runtime.processor import FrameProcessor, ProcessorConfig
from liveredge.edge.sinks import NOTICE, Sink

RATES = ("realtime", "max")
MAX_FPS = 1000.0
"""Largest replay rate (frames per second) a run accepts."""
MAX_TIMEOUT_S = 3600.0
"""Longest "no frame" timeout before the watchdog reconnects, seconds."""
MAX_DWELL_S = 60.0
"""Longest minimum dwell of the reported class, seconds (also the longest smoothing time constant)."""


def _positive(name: str, value: float, high: float) -> None:
    if not (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 < value <= high
    ):
        raise ConfigError(f"run config: {name} = {value!r}: expected a number > 0 and <= {high:g}")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run is built from (validated on construction; a wrong value is a ConfigError naming it).

    ``source``: a source URI (see :func:`liveredge.edge.sources.parse_uri`); ``rate`` "realtime" or "max" (stored
    media: every frame as fast as possible, with back-pressure); ``fps`` replay rate of stored media; ``loop``;
    ``timeout_s`` without a frame before the watchdog reconnects; ``max_frames``; ``exam``: record the run as this
    exam. Outputs: ``jsonl`` (a path or "-" for stdout), ``db`` (SQLite exam log), ``record`` (folder),
    ``display``, ``serial`` (the MCU's port). ``decisions``: hysteresis settings; ``heatmap``: compute the
    class-activation map (always on with ``display``); ``notes``: the effective configuration, logged at start
    and with every exam start.
    """

    source: str
    rate: str = "realtime"
    fps: float | None = None
    loop: bool = False
    timeout_s: float = 2.0
    max_frames: int | None = None
    exam: str | None = None
    jsonl: str | None = None
    db: str | None = None
    record: str | None = None
    display: bool = False
    serial: str | None = None
    decisions: DecisionConfig = field(default_factory=DecisionConfig)
    heatmap: bool = False
    notes: str | None = None

    def __post_init__(self) -> None:
        texts = {
            "source": self.source,
            "jsonl": self.jsonl,
            "db": self.db,
            "record": self.record,
            "serial": self.serial,
        }
        for name, value in texts.items():
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"run config: {name} = {value!r}: expected a non-empty string")
        if self.rate not in RATES:
            raise ConfigError(f"run config: rate = {self.rate!r}: expected one of {', '.join(RATES)}")
        if self.fps is not None:
            _positive("fps", self.fps, MAX_FPS)
        _positive("timeout_s", self.timeout_s, MAX_TIMEOUT_S)
        if self.max_frames is not None and (
            isinstance(self.max_frames, bool) or not isinstance(self.max_frames, int) or self.max_frames < 1
        ):
            raise ConfigError(f"run config: max_frames = {self.max_frames!r}: expected an integer >= 1")
        if self.exam is not None:
            check_exam_id(self.exam, "run config: exam")
        d = self.decisions
        if not (0 <= d.margin <= 1 and 0 <= d.min_dwell_s <= MAX_DWELL_S):
            raise ConfigError(
                f"run config: decisions margin = {d.margin!r} (expected 0..1), min_dwell_s = "
                f"{d.min_dwell_s!r} (expected 0..{MAX_DWELL_S:g} s)"
            )


class StateRelay:
    """Forwards state events to the pipeline once it exists; events before that wait (in order) for it."""

    def __init__(self) -> None:
        self._target: Callable[[StateEvent], None] | None = None
        self._early: list[StateEvent] = []

    def post(self, event: StateEvent) -> None:
        target = self._target
        if target is None:
            self._early.append(event)
        else:
            target(event)

    def connect(self, target: Callable[[StateEvent], None]) -> None:
        self._target = target
        early, self._early = self._early, []
        for event in early:
            target(event)


@dataclass(frozen=True)
class Run:
    """A wired run: the pipeline, every sink in delivery order (close these at the end, e.g. with
    :func:`liveredge.edge.runtime.session.run_session`), the sinks :func:`compose` made itself, and the config."""

    pipeline: Pipeline
    sinks: tuple[Sink, ...]
    owned: tuple[Sink, ...]
    config: RunConfig


SinkFactory = Callable[[FrameProcessor], Sequence[Sink]]


def compose(
    config: RunConfig,
    model: LoadedModel,
    *,
    extra_sinks: Sequence[Sink] = (),
    sink_factory: SinkFactory | None = None,
    bridge: McuBridge | None = None,
) -> Run:
    """Build the run ``config`` describes for ``model`` (see the module docstring).

    ``extra_sinks``, then the sinks ``sink_factory(processor)`` returns, come first, before the built sinks; the
    caller closes them. ``bridge``: an MCU link the caller owns (kept open when the run closes) instead of
    opening ``config.serial``. The pipeline emits ``config`` (when ``notes`` are given) and ``model_loaded``
    before it runs, and starts ``config.exam``.
    """
    from liveredge.edge.sources import FINITE_KINDS, WatchPolicy, parse_uri, watched_source

    relay = StateRelay()
    finite = parse_uri(config.source).kind in FINITE_KINDS
    policy = WatchPolicy(timeout_s=config.timeout_s, max_attempts=3 if finite and not config.loop else None)
    source = watched_source(
        config.source, rate=config.rate, fps=config.fps, loop=config.loop, policy=policy, on_event=relay.post
    )
    processor = FrameProcessor(
        model, ProcessorConfig(decisions=config.decisions), heatmap=config.heatmap or config.display
    )
    extra = (*extra_sinks, *(sink_factory(processor) if sink_factory is not None else ()))
    owned, mcu = _sinks(config, model, relay, bridge)
    pollers: tuple[ExamPoller, ...] = () if mcu is None else (mcu,)
    pipe = Pipeline(
        source,
        processor,
        (*extra, *owned),
        PipelineConfig(backpressure=config.rate == "max", max_frames=config.max_frames),
        pollers=pollers,
        exam_notes=config.notes,
    )
    relay.connect(pipe.post_state)
    if config.notes is not None:
        pipe.emit(state("config", config.notes))
    pipe.emit(state("model_loaded", model_note(model)))
    if config.exam:
        pipe.start_exam(config.exam)
    return Run(pipe, (*extra, *owned), owned, config)


def model_note(model: LoadedModel) -> str:
    """The ``model_loaded`` state detail: path, digest, device, verification and the signed statement."""
    s = model.statement
    signed = "UNVERIFIED_MODEL" if s is None else f"name={s.name} version={s.version} role={s.role}"
    return f"{model.path} sha256={model.sha256[:16]} device={model.device} verified={model.verified} {signed}; {NOTICE}"


def _sinks(
    config: RunConfig, model: LoadedModel, relay: StateRelay, bridge: McuBridge | None
) -> tuple[tuple[Sink, ...], BridgeSink | None]:
    """The sinks ``config`` asks for, and the MCU sink among them; the storage sinks and the bridge report their
    failures to ``relay``."""
    from liveredge.edge import sinks as s

    out: list[Sink] = [s.ConsoleAlerts()]
    mcu: BridgeSink | None = None
    try:
        if config.jsonl is not None:
            jsonl = s.JsonlSink(config.jsonl)
            jsonl.on_state = relay.post
            out.append(jsonl)
        if config.db:
            log = s.ExamLog(config.db)
            log.on_state = relay.post
            out.append(log)
        if config.record:
            out.append(s.Recorder(config.record, on_state=relay.post))
        if config.display:
            out.append(s.DisplaySink(model.meta.labels))
        if bridge is not None:
            mcu = BridgeSink(bridge, on_state=relay.post, close_bridge=False)
        elif config.serial:
            from liveredge.firmware_bridge.runtime import SerialBridge

            mcu = BridgeSink(SerialBridge.open(config.serial), on_state=relay.post)
    except BaseException:
        s.close_sinks(out)  # a later sink failed to open: release the ones already open
        raise
    return (*out, *([mcu] if mcu is not None else [])), mcu
