"""Soak at a 240 fps source (run as its own process so its RSS is the runtime's alone).

A pre-rendered simulated clip (120 frames, 240x320) is replayed in a loop at 240 fps through the real
:class:`Pipeline` with the real model and the JSONL + SQLite exam log sinks (both into a temporary folder) for
``--seconds``. RSS (/proc/self/status VmRSS, MiB) is sampled every ``--sample`` s; end-to-end latency
(``t_result - t_capture``, ms) is bucketed per ``--bucket`` s and only each bucket's p99 kept (bounded memory).
Prints one JSON object on stdout. SIMULATED data only, not for clinical use.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pick_model, rss_mib

SIM = "sim://?condition=steatosis&site=S1&fps=30&seed=1&size=240x320"


class LatencyBuckets:
    """Sink: per-bucket p99 of result latency in ms; keeps only the current bucket's values."""

    def __init__(self, bucket_s: float) -> None:
        self.bucket_s, self.t0 = bucket_s, time.monotonic()
        self.current: list[float] = []
        self.p99: list[float] = []
        self.results = 0

    def emit(self, event: object) -> None:
        if type(event).__name__ != "FrameResult":
            return
        self.results += 1
        now = time.monotonic()
        if now - self.t0 >= self.bucket_s * (len(self.p99) + 1):
            self.close_bucket()
        self.current.append((event.t_result - event.t_capture) * 1000.0)  # type: ignore[attr-defined]

    def close_bucket(self) -> None:
        if self.current:
            self.p99.append(round(float(np.percentile(self.current, 99)), 3))
        self.current = []

    def close(self) -> None:
        """Nothing to release."""


def window_median(samples: list[tuple[float, float]], lo: float, hi: float) -> float:
    values = [rss for t, rss in samples if lo <= t < hi] or [samples[-1][1]]
    return float(median(values))


def main() -> int:
    from liveredge.edge.runtime import FrameProcessor, LoadOptions, Pipeline, TrustPolicy, load_model
    from liveredge.edge.sinks import ExamLog, JsonlSink
    from liveredge.edge.sources import PrerenderedClip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--sample", type=float, default=10.0)
    ap.add_argument("--bucket", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=60.0)
    args = ap.parse_args()
    path, flags, _ = pick_model()
    trust = TrustPolicy(allow_unverified="--allow-unverified" in flags)
    model = load_model(path, LoadOptions(trust=trust, num_threads=1), commit=False)
    clip = PrerenderedClip.from_sim(SIM, 120, fps=240.0, loop=True, progress=False)
    with tempfile.TemporaryDirectory(prefix="liveredge-soak-") as tmp:
        lat = LatencyBuckets(args.bucket)
        jsonl, log = JsonlSink(Path(tmp) / "soak.jsonl"), ExamLog(Path(tmp) / "soak.db")
        pipe = Pipeline(clip, FrameProcessor(model), [lat, jsonl, log])
        pipe.start_exam("soak240")
        samples: list[tuple[float, float]] = [(0.0, rss_mib())]
        stop = threading.Event()
        t0 = time.monotonic()

        def sample() -> None:
            while not stop.wait(args.sample):
                samples.append((round(time.monotonic() - t0, 2), round(rss_mib(), 2)))

        threading.Thread(target=sample, daemon=True).start()
        timer = threading.Timer(args.seconds, pipe.stop)
        timer.start()
        stats = pipe.run()
        stop.set()
        pipe.finish()
        lat.close_bucket()
        jsonl.close()
        log.close()
        log_dropped, log_errors = log.dropped, log.errors
    end = samples[-1][0]
    first = window_median(samples, args.warmup, args.warmup + args.bucket)
    last = window_median(samples, end - args.bucket, end + 1)
    out = {
        "seconds": round(stats.elapsed_s, 1),
        "source_fps": 240.0,
        "processed": stats.processed,
        "dropped": stats.dropped,
        "results": lat.results,
        "examlog_dropped": log_dropped,
        "examlog_errors": log_errors,
        "rss_first_mib": round(first, 2),
        "rss_last_mib": round(last, 2),
        "rss_growth_pct": round(100.0 * (last - first) / first, 3),
        "bucket_s": args.bucket,
        "p99_ms_over_time": lat.p99,
        "rss_samples": samples,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
