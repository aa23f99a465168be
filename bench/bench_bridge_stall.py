"""A serial port that stops accepting writes does not change inference latency → ``bench/results/bridge_stall.json``.

The runtime pipeline (shipped int8 model, simulated probe pre-rendered once, replayed at 60 fps) sends every
result to the MCU emulator over a real pty through :class:`~liveredge.edge.runtime.bridge.BridgeSink`. Two
conditions, alternated (healthy, stalled, healthy, stalled) so machine noise hits both alike:

- ``healthy``: the emulated MCU reads its UART;
- ``stalled``: the MCU stops reading right after the handshake (:meth:`PtyEmulator.stall`): the pty's buffer
  fills, the host's serial writes block until the 0.5 s write timeout, the link drops and reconnects.

Reported: inference latency (frame arrival → result) p50/p99 per condition, the p99 ratio stalled/healthy, and
what the link did (port failures, frames the sink or the link dropped). Pass: stalled p99 ≤ max(1.5 × healthy p99,
healthy p99 + 3 ms). Images are SIMULATED; the model is trained on simulated data, not for clinical use.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "bridge_stall.json"
MODEL = ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"
SIM = "sim://?condition=steatosis&site=S1&fps=60&seed=1"


def notice() -> str:
    from liveredge.edge.events import NOTICE

    return f"SIMULATED images. {NOTICE}"


def run_condition(model: Any, frames: list[Any], stalled: bool, fps: float = 60.0, discard: int = 10) -> dict[str, Any]:
    """One pipeline run with the bridge sink on a pty to the emulator; latency percentiles and link counters."""
    from liveredge.edge.runtime import FrameProcessor, Pipeline, PipelineConfig
    from liveredge.edge.runtime.bench import Collector, percentiles
    from liveredge.edge.runtime.bridge import BridgeSink
    from liveredge.edge.sources import PrerenderedClip
    from liveredge.firmware_bridge.emulator import PtyEmulator
    from liveredge.firmware_bridge.runtime import SerialBridge

    with PtyEmulator() as mcu:
        bridge = SerialBridge.open(mcu.path, wait_s=5.0)
        if stalled:
            mcu.stall()
            fill(bridge)
        sink, collector = BridgeSink(bridge), Collector()
        clip = PrerenderedClip(frames, fps=fps, rate="realtime", uri="clip://bench")
        Pipeline(clip, FrameProcessor(model), [collector, sink], PipelineConfig()).run()
        link = bridge.link
        t0 = time.monotonic()
        sink.close()
        mcu.resume()
        return {
            "latency_ms": percentiles([r.latency_ms for r in collector.results[discard:]]),
            "port_failures": link.port_failures,
            "link_out_dropped": link.out_dropped,
            "sink_dropped": sink.dropped,
            "sink_errors": sink.errors,
            "close_s": round(time.monotonic() - t0, 3),
        }


def fill(bridge: Any, timeout_s: float = 10.0) -> None:
    """Publish results until the pty is full (a port write has been blocked for 0.2 s), then stop publishing."""
    import threading

    stop = threading.Event()

    def flood() -> None:
        i = 0
        while not stop.is_set():
            bridge.publish_result(frame_seq=i, timestamp_ns=i, class_index=0, confidence=0.5)
            i += 1

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    since, deadline = None, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        since = (since or time.monotonic()) if bridge.link.writing else None
        if since is not None and time.monotonic() - since >= 0.2:
            break
        time.sleep(0.005)
    stop.set()
    thread.join(timeout=2.0)


def main(frames_n: int = 240, rounds: int = 2) -> int:
    import logging

    from liveredge.edge.runtime import LoadOptions, load_model
    from liveredge.edge.sources import PrerenderedClip

    logging.getLogger("liveredge.firmware_bridge.link").setLevel(logging.ERROR)  # the stalled runs lose the port
    model = load_model(MODEL, LoadOptions(num_threads=1))
    frames = list(PrerenderedClip.from_sim(SIM, frames_n, fps=60.0, progress=sys.stderr.isatty()).frames)
    runs: dict[str, list[dict[str, Any]]] = {"healthy": [], "stalled": []}
    for _ in range(rounds):
        for name in ("healthy", "stalled"):
            runs[name].append(run_condition(model, frames, stalled=name == "stalled"))
            print(f"{name}: p99 {runs[name][-1]['latency_ms'].get('p99')} ms", file=sys.stderr, flush=True)
    p99 = {name: min(r["latency_ms"]["p99"] for r in rs) for name, rs in runs.items()}  # best round each
    ok = p99["stalled"] <= max(1.5 * p99["healthy"], p99["healthy"] + 3.0)
    stalled_for_real = all(r["port_failures"] > 0 or r["link_out_dropped"] > 0 for r in runs["stalled"])
    report = {
        "notice": notice(),
        "model": str(MODEL),
        "frames": frames_n,
        "fps": 60.0,
        "runs": runs,
        "p99_ms": p99,
        "p99_ratio_stalled_over_healthy": round(p99["stalled"] / p99["healthy"], 3),
        "acceptance": {"stalled_p99_unchanged": ok, "port_really_stalled": stalled_for_real},
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"bridge stall: inference p99 healthy {p99['healthy']} ms, stalled port {p99['stalled']} ms "
        f"(ratio {report['p99_ratio_stalled_over_healthy']}); {OUT}",
        file=sys.stderr,
    )
    return 0 if ok and stalled_for_real else 1


if __name__ == "__main__":
    sys.exit(main())
