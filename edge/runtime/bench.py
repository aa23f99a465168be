"""``liveredge bench``: every speed number in ONE run on one pre-rendered clip (the simulator's cost paid once).

- ``invoke_fps``: bare ``invoke()`` on one ready input, back to back (the model's own limit on this machine);
- ``stages_fps``: preprocessing (region already fitted) then ``invoke()`` per clip frame, one thread;
- ``pipeline_fps``: the threaded pipeline with the clip replayed as fast as possible (back-pressure, no drops),
  in the mode chosen for this machine (``pipeline_mode``); ``pipeline_mode_fps`` the same pipeline in each of
  the three modes (``PipelineConfig(mode=...)``: serial, direct, staged), so the default is checked by measurement;
- ``peer``: the best-practice loop of :mod:`liveredge.edge.runtime.peer` on the same clip and model: its
  ``fps``, latency and per-stage percentiles at ``fps`` and ``fast_fps``;
- ``baseline_fps``: a naive user loop — one thread, region detected afresh on every frame, float preprocessing,
  the float32 twin of the model (the int8 model when no twin is found; ``baseline_model`` says which);
- ``latency_ms`` (p50/p95/p99/max): frame arrival (capture stamp) → result ready, clip replayed at ``fps``
  (60 by default), per-stage percentiles in ``stage_ms``; the same at 240 fps (``latency_240_ms``,
  ``drops_240`` frames replaced in the mailbox before they were processed). The first ``discard`` results of a
  latency run are not counted (thread start-up);
- ``allocations``: tracemalloc over a steady-state pipeline run: growth per frame and the largest transient
  allocation above the steady state (a frame-sized temporary would show here).

The machine is shared and noisy, so invoke / pipeline / peer are measured in ``rounds`` (3) ALTERNATED rounds
(peer first in even rounds, pipeline first in odd ones); fps are medians over rounds, ``ratios`` are medians of
the per-round ratios, and the latency blocks are those of the round with the median p99. The load average
before and after is in ``machine``. Results are from SIMULATED data and not for clinical use.
"""

from __future__ import annotations

import hashlib
import os
import platform
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.errors import ModelError
from liveredge.edge.events import NOTICE, FrameResult
from liveredge.edge.interpreter import ClassifierRunner, make_interpreter
from liveredge.edge.runtime.model import LoadedModel
from liveredge.edge.runtime.peer import PeerLoop, PeerRun
from liveredge.edge.runtime.pipeline import MODES, Pipeline, PipelineConfig
from liveredge.edge.runtime.processor import FrameProcessor

DEFAULT_SIM = "sim://?condition=steatosis&site=S1&fps=60&seed=1"


@dataclass(frozen=True)
class BenchConfig:
    """Frame counts and rates of one bench run (fps = frames per second of the replayed clip)."""

    fps: float = 60.0
    fast_fps: float = 240.0
    invoke_runs: int = 500
    baseline_frames: int = 40
    discard: int = 10
    rounds: int = 3
    alloc_frames: int = 120


class Collector:
    """A sink that keeps the frame results (bench and tests)."""

    def __init__(self) -> None:
        self.results: list[FrameResult] = []
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)
        if isinstance(event, FrameResult):
            self.results.append(event)

    def close(self) -> None:
        """Nothing to release."""


def percentiles(values: list[float] | np.ndarray) -> dict[str, float]:
    """p50/p95/p99/max/mean (and n) of a list of milliseconds, rounded to µs."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    p = np.percentile(v, [50, 95, 99])
    out = {"p50": p[0], "p95": p[1], "p99": p[2], "max": float(v.max()), "mean": float(v.mean())}
    return {k: round(float(x), 3) for k, x in out.items()} | {"n": int(v.size)}


def find_float_twin(model_path: str | Path) -> Path | None:
    """The float32 twin shipped beside an int8 model: NAME.float32.tflite / NAME_float32 / NAME_fp32."""
    path = Path(model_path)
    stem = path.name.removesuffix(".tflite")
    for base in {stem, stem.removesuffix("_int8"), stem.removesuffix(".int8")}:
        for name in (f"{base}.float32.tflite", f"{base}_float32.tflite", f"{base}_fp32.tflite"):
            candidate = path.with_name(name)
            if candidate.is_file() and candidate != path:
                return candidate
    return None


def invoke_fps(processor: FrameProcessor, frame: np.ndarray, runs: int) -> float:
    x, _ = processor.prepare(frame)
    runner = processor.model.runner
    runner.set_input(x)
    for _ in range(min(runs, 20)):  # warm up (first invokes are slow)
        runner.invoke()
    t0 = time.perf_counter()
    for _ in range(runs):
        runner.invoke()
    return runs / (time.perf_counter() - t0)


def stages_fps(processor: FrameProcessor, frames: list[np.ndarray]) -> float:
    processor.prepare(frames[0])
    for f in frames[: processor.region.warmup_frames + 1]:
        processor.prepare(f)  # the region fit over the warm-up window happens here, before timing
    t0 = time.perf_counter()
    for f in frames:
        processor.infer(processor.prepare(f)[0])
    return len(frames) / (time.perf_counter() - t0)


def baseline_fps(model: LoadedModel, twin: Path | None, frames: list[np.ndarray], threads: int | None) -> float:
    """The naive loop: detect the region on every frame, float preprocessing, float model when available."""
    from liveredge.edge.preprocess import Preprocessor, detect_region

    data = twin.read_bytes() if twin is not None else Path(model.path).read_bytes()
    runner = ClassifierRunner(make_interpreter(data, num_threads=threads)[0], len(model.meta.labels))
    spec = model.meta.preprocess
    t0 = time.perf_counter()
    for f in frames:
        region = detect_region(f)
        mask = region.mask if region.ok else np.full(f.shape[:2], 255, np.uint8)
        x = Preprocessor(spec, mask).apply(f)
        if runner.input_quant is not None:  # no float twin: quantise the float input as a user would
            q = runner.input_quant
            x = spec.quantize_array((x[..., 0] * 255).round().astype(np.uint8), q.scale, q.zero_point, q.dtype)
        runner.set_input(x.astype(runner.input_dtype, copy=False))
        runner.invoke()
        runner.probs()
    return len(frames) / (time.perf_counter() - t0)


def pipeline_run(
    processor: FrameProcessor, clip: Any, rate: str, fps: float, sink: Any = None, mode: str | None = None
) -> tuple[Any, Any]:
    """The clip's frames replayed through a fresh pipeline at ``rate`` ("max" or "realtime" at ``fps``);
    ``mode`` as in :class:`PipelineConfig` (None: the default for this machine)."""
    from liveredge.edge.sources import PrerenderedClip

    clip = PrerenderedClip(clip.frames, fps=fps, rate=rate, uri=clip.uri)
    collector = Collector() if sink is None else sink
    pipe = Pipeline(clip, processor, [collector], PipelineConfig(backpressure=(rate == "max"), mode=mode))
    stats = pipe.run()
    return collector, stats


def peer_run(peer: PeerLoop, clip: Any, rate: str, fps: float) -> PeerRun:
    """The clip replayed through the best-practice peer loop, exactly as :func:`pipeline_run` replays it."""
    from liveredge.edge.sources import PrerenderedClip

    return peer.run(PrerenderedClip(clip.frames, fps=fps, rate=rate, uri=clip.uri), backpressure=(rate == "max"))


def latency_block(collector: Collector, discard: int) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    kept = collector.results[discard:]
    stages = sorted({k for r in kept for k in r.stage_ms})
    per_stage = {k: percentiles([r.stage_ms[k] for r in kept if k in r.stage_ms]) for k in stages}
    return percentiles([r.latency_ms for r in kept]), per_stage


def peer_block(run: PeerRun, discard: int) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    return percentiles(run.latency_ms[discard:]), {k: percentiles(v[discard:]) for k, v in run.stage_ms.items()}


def one_round(
    processor: FrameProcessor, peer: PeerLoop, clip: Any, config: BenchConfig, peer_first: bool
) -> dict[str, Any]:
    """One alternated round: bare invoke, then peer and pipeline (in the given order) at max rate, at ``fps``
    and at ``fast_fps``."""
    out: dict[str, Any] = {"invoke_fps": invoke_fps(processor, clip.frames[0], config.invoke_runs)}
    for mode in MODES:  # the same pipeline in every mode, at max rate
        _, stats = pipeline_run(processor, clip, "max", config.fps, mode=mode)
        out[f"pipeline_{mode}_fps"] = stats.processed / stats.elapsed_s
    for key, rate, fps in (
        ("max", "max", config.fps),
        ("", "realtime", config.fps),
        ("_240", "realtime", config.fast_fps),
    ):
        for who in ("peer", "pipeline") if peer_first else ("pipeline", "peer"):
            if who == "peer":
                run = peer_run(peer, clip, rate, fps)
                lat, stages, drops, fps_done = (
                    *peer_block(run, config.discard),
                    run.dropped,
                    run.processed / run.elapsed_s,
                )
            else:
                collector, stats = pipeline_run(processor, clip, rate, fps)
                lat, stages = latency_block(collector, config.discard)
                drops, fps_done = stats.dropped, stats.processed / stats.elapsed_s
            if key == "max":
                out[f"{who}_fps"] = fps_done
            else:
                out[f"{who}{key}"] = {"latency_ms": lat, "stage_ms": stages, "drops": drops}
    return out


def _median_round(rounds: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The block ``key`` of the round whose p99 latency is the median."""
    ordered = sorted(rounds, key=lambda r: r[key]["latency_ms"].get("p99", float("inf")))
    return ordered[len(ordered) // 2][key]


class AllocProbe:
    """A sink that reads tracemalloc at frame ``warm`` (and resets the peak) and at every later frame."""

    def __init__(self, warm: int) -> None:
        self.warm, self.frames, self.base, self.last, self.peak = warm, 0, 0, 0, 0

    def emit(self, event: Any) -> None:
        if not isinstance(event, FrameResult):
            return
        self.frames += 1
        current, peak = tracemalloc.get_traced_memory()
        if self.frames == self.warm:
            self.base = current
            tracemalloc.reset_peak()
        elif self.frames > self.warm:
            self.last, self.peak = current, max(self.peak, peak)

    def close(self) -> None:
        """Nothing to release."""


def allocation_block(processor: FrameProcessor, clip: Any, config: BenchConfig) -> dict[str, Any]:
    """tracemalloc over a max-rate pipeline run of ``alloc_frames`` frames (the first third is the warm-up)."""
    frames = [clip.frames[i % len(clip.frames)] for i in range(config.alloc_frames)]
    probe = AllocProbe(max(2, config.alloc_frames // 3))
    tracemalloc.start()
    try:
        pipeline_run(processor, type(clip)(frames, fps=config.fps, rate="max", uri=clip.uri), "max", config.fps, probe)
    finally:
        tracemalloc.stop()
    span = max(1, probe.frames - probe.warm)
    return {
        "frames_measured": span,
        "growth_bytes_per_frame": round((probe.last - probe.base) / span, 1),
        "peak_transient_bytes": probe.peak - probe.base,
        "frame_bytes": int(frames[0].nbytes),
    }


def run_bench(
    model: LoadedModel, clip: Any, config: BenchConfig, threads: int | None, twin: Path | None
) -> dict[str, Any]:
    """All measurements on ``clip`` (a PrerenderedClip) with ``model``; returns the JSON-able report."""
    frames = list(clip.frames)
    processor = FrameProcessor(model)
    out: dict[str, Any] = {
        "notice": NOTICE,
        "model": model.path,
        "model_sha256": model.sha256,
        "site_sha256": model.site_sha256,
        "verified": model.verified,
        "device": model.device,
        "threads": model.threads,
        "source": clip.uri,
        "frames": len(frames),
        "frame_size": list(frames[0].shape[:2]),
        "rounds": config.rounds,
    }
    load_start = os.getloadavg()
    out["stages_fps"] = round(stages_fps(processor, frames), 2)
    peer = PeerLoop(_same_model_bytes(model), model.meta.preprocess, model.threads)
    rounds = [one_round(processor, peer, clip, config, peer_first=(r % 2 == 0)) for r in range(config.rounds)]
    for key in ("invoke_fps", "pipeline_fps", "peer_fps"):
        out[key] = round(statistics.median(r[key] for r in rounds), 2)
    out["pipeline_mode"] = Pipeline(clip, processor, []).mode
    out["pipeline_mode_fps"] = {m: round(statistics.median(r[f"pipeline_{m}_fps"] for r in rounds), 2) for m in MODES}
    out["pipeline_dropped"] = 0  # max-rate replay uses back-pressure: nothing is dropped by design
    out["baseline_fps"] = round(baseline_fps(model, twin, frames[: config.baseline_frames], threads), 2)
    out["baseline_model"] = str(twin) if twin is not None else f"{model.path} (no float32 twin found)"
    out["peer"] = {"fps": out["peer_fps"]}
    for key, fps in (("", config.fps), ("_240", config.fast_fps)):
        mine, theirs = _median_round(rounds, f"pipeline{key}"), _median_round(rounds, f"peer{key}")
        out[f"latency{key}_ms"], out[f"stage{key}_ms"], out[f"drops{key}"] = (
            mine["latency_ms"],
            mine["stage_ms"],
            mine["drops"],
        )
        out["peer"][f"latency{key}_ms"], out["peer"][f"stage{key}_ms"], out["peer"][f"drops{key}"] = (
            theirs["latency_ms"],
            theirs["stage_ms"],
            theirs["drops"],
        )
        out[f"source_fps{key}"] = fps
    out["allocations"] = allocation_block(processor, clip, config)
    out["ratios"] = ratios(out, rounds)
    out["per_round"] = [_round_summary(r) for r in rounds]
    out["acceptance"] = acceptance(out)
    out["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "loadavg_1m_start": round(load_start[0], 2),
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }
    return out


def _same_model_bytes(model: LoadedModel) -> bytes:
    """The model file's bytes for the peer, refused unless they are the bytes the runtime verified and loaded."""
    data = Path(model.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != model.sha256:
        raise ModelError(f"{model.path} changed since it was loaded; the peer loop must run the same model")
    return data


def _p99(block: dict[str, Any]) -> float:
    return float(block["latency_ms"].get("p99", float("inf")))


def _round_summary(r: dict[str, Any]) -> dict[str, float]:
    return {
        "invoke_fps": round(r["invoke_fps"], 1),
        "pipeline_fps": round(r["pipeline_fps"], 1),
        "peer_fps": round(r["peer_fps"], 1),
        **{f"pipeline_{m}_fps": round(r[f"pipeline_{m}_fps"], 1) for m in MODES},
        "pipeline_p99_ms": _p99(r["pipeline"]),
        "peer_p99_ms": _p99(r["peer"]),
        "pipeline_p99_240_ms": _p99(r["pipeline_240"]),
        "peer_p99_240_ms": _p99(r["peer_240"]),
    }


def ratios(out: dict[str, Any], rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Medians of the per-round ratios (each round's pair ran back to back) and the single-run ratios."""
    med = lambda f: round(statistics.median(f(r) for r in rounds), 3)  # noqa: E731
    return {
        "pipeline_over_peer_fps": med(lambda r: r["pipeline_fps"] / r["peer_fps"]),
        "p99_60_pipeline_over_peer": med(lambda r: _p99(r["pipeline"]) / _p99(r["peer"])),
        "p99_240_pipeline_over_peer": med(lambda r: _p99(r["pipeline_240"]) / _p99(r["peer_240"])),
        "pipeline_over_invoke": med(lambda r: r["pipeline_fps"] / r["invoke_fps"]),
        "peer_over_invoke": med(lambda r: r["peer_fps"] / r["invoke_fps"]),
        "staged_over_serial_pipeline": med(lambda r: r["pipeline_staged_fps"] / r["pipeline_serial_fps"]),
        "direct_over_serial_pipeline": med(lambda r: r["pipeline_direct_fps"] / r["pipeline_serial_fps"]),
        "pipeline_over_stages": round(out["pipeline_fps"] / out["stages_fps"], 3),
        "pipeline_over_baseline": round(out["pipeline_fps"] / out["baseline_fps"], 3),
    }


def acceptance(out: dict[str, Any]) -> dict[str, bool]:
    """The acceptance checks on one report (issue 20's peer and invoke ratios, and the earlier targets)."""
    r = out["ratios"]
    p99 = out["latency_ms"].get("p99", float("inf"))
    return {
        "pipeline_ge_1.0x_peer_fps": r["pipeline_over_peer_fps"] >= 1.0,
        "p99_60fps_le_1.0x_peer": r["p99_60_pipeline_over_peer"] <= 1.0,
        "p99_240fps_le_1.0x_peer": r["p99_240_pipeline_over_peer"] <= 1.0,
        "pipeline_ge_0.75x_invoke": r["pipeline_over_invoke"] >= 0.75,
        "no_drops_at_60fps": out["drops"] == 0,
        "pipeline_ge_0.67x_stages": out["pipeline_fps"] >= 0.67 * out["stages_fps"],
        "pipeline_ge_3x_baseline": out["pipeline_fps"] >= 3 * out["baseline_fps"],
        "p99_60fps_le_15ms": p99 <= 15.0,
        "p99_240fps_le_30ms": out["latency_240_ms"].get("p99", float("inf")) <= 30.0,
        "drops_240_reported": "drops_240" in out,
    }
