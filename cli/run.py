"""``liveredge run`` (real-time classification of a probe/video/DICOM source) and ``liveredge bench``.

Module level imports: argparse and the standard library only; handlers import the runtime when they run, so
these commands work on a device without TensorFlow. Results come from models trained on SIMULATED data and are
not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from liveredge.cli.adapt import with_site
from liveredge.cli.run_config import add_decision_args, apply_config, cli_defaults
from liveredge.cli.trust_args import add_trust_args, policy_from_args
from liveredge.edge.events import NOTICE
from liveredge.edge.shipped import default_model, missing_model_hint

DEFAULT_MODEL = default_model()  # the shipped, signed reference model (package data)
DEFAULT_SOURCE = "sim://?condition=steatosis&site=S1&fps=30&seed=1"


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", default=str(DEFAULT_MODEL), help="int8 .tflite with liveredge metadata (default: %(default)s)"
    )
    p.add_argument("--threads", type=int, default=None, help="interpreter threads (default: the interpreter's)")
    p.add_argument("--device", default="cpu", help="cpu | edgetpu | edgetpu:usb:0 | edgetpu:pci:0")
    p.add_argument("--cpu-fallback", action="store_true", help="run on the CPU when the Edge TPU cannot be used")
    add_trust_args(p)
    p.add_argument("--site", default=None, metavar="SITE.json", help="scanner harmonisation from 'liveredge adapt'")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``run`` and ``bench``."""
    run = sub.add_parser(
        "run",
        help="classify a live source in real time (JSONL/SQLite/recording/display)",
        description="Real-time liver ultrasound classification. " + NOTICE,
    )
    _model_args(run)
    run.add_argument(
        "--source",
        default=DEFAULT_SOURCE,
        help="sim://..., file://clip.mp4 or a path, dicom://..., "
        "v4l2:///dev/videoN or an index, rtsp://, http:// (default: %(default)s)",
    )
    run.add_argument(
        "--rate",
        choices=("realtime", "max"),
        default="realtime",
        help="file sources: replay in real time, or 'max' = every frame as fast as possible",
    )
    run.add_argument("--fps", type=float, default=None, help="replay rate for stored media (frames per second)")
    run.add_argument("--loop", action="store_true", help="replay stored media forever")
    run.add_argument("--timeout", type=float, default=2.0, help="seconds without a frame before reconnecting")
    run.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    run.add_argument("--exam", default=None, metavar="ID", help="record the whole run as exam ID (summary at the end)")
    run.add_argument(
        "--stdin-control",
        action="store_true",
        help="read 'start [ID]' / 'end' lines on stdin to start and end exams (a key on a terminal)",
    )
    run.add_argument(
        "--jsonl",
        default=None,
        metavar="F",
        help="JSONL events to F ('-' = stdout, the default when no other output is given)",
    )
    run.add_argument("--db", default=None, metavar="F", help="SQLite exam log (WAL)")
    run.add_argument("--record", default=None, metavar="DIR", help="record raw frames with their results")
    run.add_argument("--display", action="store_true", help="show a window with the overlay (headless by default)")
    run.add_argument("--serial", default=None, metavar="PORT", help="send results to the MCU on PORT")
    add_decision_args(run)
    run.set_defaults(handler=_run, parser_defaults=cli_defaults(run))
    bench = sub.add_parser(
        "bench",
        help="measure invoke/stages/pipeline/baseline fps and latency in one run",
        description="Runtime benchmark on a clip pre-rendered once. " + NOTICE,
    )
    _model_args(bench)
    bench.add_argument("--source", default=None, help="URI to pre-render (default: the simulated probe at 60 fps)")
    bench.add_argument("--frames", type=int, default=300, help="frames in the pre-rendered clip")
    bench.add_argument("--fps", type=float, default=60.0, help="replay rate of the latency run")
    bench.add_argument("--float-model", default=None, help="float32 twin for the baseline (default: found beside)")
    bench.add_argument("--json", default=None, metavar="OUT", help="write the report here (default: stdout)")
    bench.set_defaults(handler=_bench)


def _load(args: argparse.Namespace) -> Any:
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.interpreter import parse_device
    from liveredge.edge.runtime import LoadOptions, load_model

    if not Path(args.model).is_file():
        raise ConfigError(missing_model_hint(args.model))
    options = LoadOptions(
        trust=policy_from_args(args),
        num_threads=args.threads,
        device=parse_device(args.device),
        cpu_fallback=args.cpu_fallback,
    )
    model = load_model(
        args.model, options, on_fallback=lambda why: print(f"warning: {why}; using the CPU", file=sys.stderr)
    )
    if not model.verified:
        print(
            f"warning: {args.model} is UNVERIFIED (no signed statement; --allow-unverified): every record, the "
            "display and the serial link say so",
            file=sys.stderr,
        )
    return model


class _ConsoleSummary:
    """Prints each exam summary on stderr as it is made, so the person at the device sees the outcome."""

    def emit(self, event: Any) -> None:
        from liveredge.edge.bounds import console_safe
        from liveredge.edge.events import ExamSummary

        if isinstance(event, ExamSummary):
            exam = console_safe(event.exam_id)
            unverified = " - UNVERIFIED MODEL" if event.quality_counts.get("unverified_model") else ""
            print(
                f"liveredge run: exam {exam}: {event.label} (confidence {event.confidence:.2f}, "
                f"{event.frames_used}/{event.frames_total} frames used){unverified}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        return None


def run_config(args: argparse.Namespace, effective: dict[str, Any]) -> Any:
    """The typed, validated :class:`~liveredge.edge.runtime.RunConfig` of ``liveredge run``'s effective settings.
    JSONL goes to stdout when no other output is asked for."""
    from liveredge.edge.decisions.engine import DecisionConfig
    from liveredge.edge.runtime import RunConfig

    base = DecisionConfig()
    decisions = DecisionConfig(
        margin=base.margin if args.margin is None else float(args.margin),
        min_dwell_s=base.min_dwell_s if args.min_dwell_s is None else float(args.min_dwell_s),
    )
    no_other_output = not (args.db or args.record or args.display or args.serial)
    return RunConfig(
        source=args.source,
        rate=args.rate,
        fps=args.fps,
        loop=args.loop,
        timeout_s=args.timeout,
        max_frames=args.max_frames,
        exam=args.exam,
        jsonl=args.jsonl if args.jsonl is not None or not no_other_output else "-",
        db=args.db,
        record=args.record,
        display=args.display,
        serial=args.serial,
        decisions=decisions,
        notes=json.dumps(effective, sort_keys=True, default=str),
    )


def _run(args: argparse.Namespace) -> int:
    from liveredge.edge.runtime import compose

    effective = apply_config(args, args.parser_defaults)
    model = with_site(_with_overrides(_load(args), args), args.site)
    effective["operating_point"] = vars(model.meta.operating_point)
    run = compose(run_config(args, effective), model, extra_sinks=[_ConsoleSummary()])
    if args.stdin_control:
        threading.Thread(target=_stdin_control, args=(run.pipeline,), name="liveredge-stdin", daemon=True).start()
    return _run_pipeline(run.pipeline, list(run.sinks))


def _with_overrides(model: Any, args: argparse.Namespace) -> Any:
    """The loaded model with its operating point overridden by --config / CLI decision settings (their ranges
    were checked against the settings schema by ``apply_config``)."""
    import dataclasses

    op = model.meta.operating_point
    changes = {
        k: float(getattr(args, k))
        for k in ("min_confidence", "ood_threshold", "smoothing_tau_s")
        if getattr(args, k, None) is not None
    }
    if not changes:
        return model
    meta = dataclasses.replace(model.meta, operating_point=dataclasses.replace(op, **changes))
    return dataclasses.replace(model, meta=meta)


def _stdin_control(pipe: Any) -> None:
    """'start [ID]' starts an exam (ID defaults to a timestamp), 'end' ends it; other lines are ignored."""
    import time

    for line in sys.stdin:
        words = line.split()
        if words and words[0].lower() in ("start", "s"):
            pipe.start_exam(words[1] if len(words) > 1 else time.strftime("exam-%Y%m%d-%H%M%S"))
        elif words and words[0].lower() in ("end", "e"):
            pipe.end_exam()


def _run_pipeline(pipe: Any, sinks: list[Any]) -> int:
    from liveredge.edge.runtime.session import hard_exit, run_session

    end = run_session(pipe, sinks)  # SIGINT/SIGTERM stop it within a second, exam summarised, sinks closed
    stats = end.stats
    unverified = " UNVERIFIED MODEL (--allow-unverified)." if pipe.processor.model.base_quality else ""
    print(
        f"liveredge run: {stats.end} ({stats.detail}); {stats.processed} frames processed, {stats.dropped} "
        f"dropped in {stats.elapsed_s:.1f} s.{unverified} {NOTICE}",
        file=sys.stderr,
    )
    for line in [r.line() for r in end.closed.reports] + [f"warning: {e}" for e in end.closed.errors]:
        print(f"liveredge run: {line}", file=sys.stderr)
    code = 0
    if end.closed.not_stored:
        print(f"liveredge run: error: {end.closed.not_stored} records could not be stored (see above)", file=sys.stderr)
        code = 1
    elif stats.end == "error":
        what = "the run failed" if stats.detail.startswith("unexpected ") else "the source failed"
        print(f"liveredge run: error: {what}: {stats.detail}", file=sys.stderr)
        code = 1
    if end.abandoned:  # a frame is still inside OpenCV/LiteRT on another thread: leave without C++ destructors
        hard_exit(code)
    return code


def _bench(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.runtime.bench import DEFAULT_SIM, BenchConfig, find_float_twin, run_bench
    from liveredge.edge.sources import PrerenderedClip, make_source

    if args.frames < 30 or args.fps <= 0:
        raise ConfigError("--frames must be >= 30 and --fps > 0")
    model = with_site(_load(args), args.site)
    if args.source is None:
        clip = PrerenderedClip.from_sim(DEFAULT_SIM, args.frames, fps=args.fps)
    else:
        clip = PrerenderedClip.from_source(make_source(args.source, rate="max"), args.frames, fps=args.fps)
    twin = Path(args.float_model) if args.float_model else find_float_twin(args.model)
    report = run_bench(model, clip, BenchConfig(fps=args.fps), args.threads, twin)
    text = json.dumps(report, indent=2, sort_keys=False)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    lat = report["latency_ms"]
    print(
        f"liveredge bench: invoke {report['invoke_fps']} fps, stages {report['stages_fps']} fps, pipeline "
        f"{report['pipeline_fps']} fps, baseline {report['baseline_fps']} fps; latency p50/p99 {lat.get('p50')}/"
        f"{lat.get('p99')} ms at {args.fps:g} fps; 240 fps p99 {report['latency_240_ms'].get('p99')} ms, drops "
        f"{report['drops_240']}. {NOTICE}",
        file=sys.stderr,
    )
    return 0
