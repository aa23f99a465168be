"""``liveredge bench``: every speed number in ONE run on one pre-rendered clip (the simulator's cost paid once).

- ``invoke_fps``: bare ``invoke()`` on one ready input, back to back;
- ``stages_fps``: preprocessing (region already fitted) then ``invoke()`` per clip frame, one thread;
- ``pipeline_fps``: the threaded pipeline with the clip replayed as fast as possible (back-pressure, no drops);
- ``baseline_fps``: a naive user loop — one thread, region detected afresh on every frame, float preprocessing,
  the float32 twin of the model (the int8 model when no twin is found; ``baseline_model`` says which);
- ``latency_ms`` (p50/p95/p99/max): frame arrival (capture stamp) → result ready, clip replayed at ``fps``
  (60 by default), per-stage percentiles in ``stage_ms``; the same at 240 fps (``latency_240_ms``,
  ``drops_240`` frames replaced in the mailbox before they were processed). The first ``discard`` results of a
  latency run are not counted (thread start-up).
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liveredge.edge.events import NOTICE, FrameResult
from liveredge.edge.interpreter import ClassifierRunner, make_interpreter
from liveredge.edge.runtime.model import LoadedModel
from liveredge.edge.runtime.pipeline import Pipeline, PipelineConfig
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


def pipeline_run(processor: FrameProcessor, clip: Any, rate: str, fps: float) -> tuple[Collector, Any]:
    """The clip's frames replayed through a fresh pipeline at ``rate`` ("max" or "realtime" at ``fps``)."""
    from liveredge.edge.sources import PrerenderedClip

    clip = PrerenderedClip(clip.frames, fps=fps, rate=rate, uri=clip.uri)
    collector = Collector()
    pipe = Pipeline(clip, processor, [collector], PipelineConfig(backpressure=(rate == "max")))
    stats = pipe.run()
    return collector, stats


def latency_block(collector: Collector, discard: int) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    kept = collector.results[discard:]
    stages = sorted({k for r in kept for k in r.stage_ms})
    per_stage = {k: percentiles([r.stage_ms[k] for r in kept if k in r.stage_ms]) for k in stages}
    return percentiles([r.latency_ms for r in kept]), per_stage


def run_bench(model: LoadedModel, clip: Any, config: BenchConfig, threads: int | None,
              twin: Path | None) -> dict[str, Any]:
    """All measurements on ``clip`` (a PrerenderedClip) with ``model``; returns the JSON-able report."""
    frames = list(clip.frames)
    processor = FrameProcessor(model)
    out: dict[str, Any] = {"notice": NOTICE, "model": model.path, "model_sha256": model.sha256,
                           "site_sha256": model.site_sha256, "verified": model.verified, "device": model.device, "threads": threads,
                           "source": clip.uri, "frames": len(frames), "frame_size": list(frames[0].shape[:2])}
    out["invoke_fps"] = round(invoke_fps(processor, frames[0], config.invoke_runs), 2)
    out["stages_fps"] = round(stages_fps(processor, frames), 2)
    collector, stats = pipeline_run(processor, clip, "max", config.fps)
    out["pipeline_fps"] = round(stats.processed / stats.elapsed_s, 2)
    out["pipeline_dropped"] = stats.dropped
    out["baseline_fps"] = round(baseline_fps(model, twin, frames[: config.baseline_frames], threads), 2)
    out["baseline_model"] = str(twin) if twin is not None else f"{model.path} (no float32 twin found)"
    for key, fps in (("", config.fps), ("_240", config.fast_fps)):
        collector, stats = pipeline_run(processor, clip, "realtime", fps)
        lat, stages = latency_block(collector, config.discard)
        out[f"latency{key}_ms"], out[f"stage{key}_ms"] = lat, stages
        out[f"drops{key}"] = stats.dropped
        out[f"source_fps{key}"] = fps
    out["ratios"] = {
        "pipeline_over_stages": round(out["pipeline_fps"] / out["stages_fps"], 3),
        "pipeline_over_baseline": round(out["pipeline_fps"] / out["baseline_fps"], 3),
    }
    out["acceptance"] = acceptance(out)
    out["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                      "cpu_count": __import__("os").cpu_count(), "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    return out


def acceptance(out: dict[str, Any]) -> dict[str, bool]:
    """The issue's acceptance checks on one report."""
    p99 = out["latency_ms"].get("p99", float("inf"))
    return {
        "pipeline_ge_0.67x_stages": out["pipeline_fps"] >= 0.67 * out["stages_fps"],
        "pipeline_ge_3x_baseline": out["pipeline_fps"] >= 3 * out["baseline_fps"],
        "p99_60fps_le_15ms": p99 <= 15.0,
        "p99_240fps_le_30ms": out["latency_240_ms"].get("p99", float("inf")) <= 30.0,
        "drops_240_reported": "drops_240" in out,
    }
