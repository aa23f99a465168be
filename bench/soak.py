"""10-minute soak of the runtime pipeline (outside ``make test``): RSS growth must stay <= 5 %.

Replays a pre-rendered simulated clip in a loop at 60 fps through the full pipeline (decisions, exam
aggregation, JSONL sink to /dev/null) and samples the process RSS every ``--sample`` seconds. Growth is measured
from the first sample after ``--warmup`` seconds (allocators and caches settle) to the last one. Writes
``bench/results/soak.json``. Usage: ``python bench/soak.py [--minutes 10] [--model M]``. SIMULATED data only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc; ru_maxrss elsewhere, an upper bound)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class CountingSink:
    """Counts results without keeping them (a soak must not grow its own memory)."""

    def __init__(self) -> None:
        self.results = 0

    def emit(self, event: object) -> None:
        self.results += type(event).__name__ == "FrameResult"

    def close(self) -> None:
        """Nothing to release."""


def sample(pipe: object, stop: threading.Event, every_s: float, samples: list[tuple[float, float]]) -> None:
    t0 = time.monotonic()
    while not stop.wait(every_s):
        samples.append((round(time.monotonic() - t0, 1), round(rss_mib(), 2)))


def main() -> int:
    from tqdm import tqdm

    from liveredge.edge.runtime import FrameProcessor, LoadOptions, Pipeline, TrustPolicy, load_model
    from liveredge.edge.runtime.bench import DEFAULT_SIM
    from liveredge.edge.sinks import JsonlSink
    from liveredge.edge.sources import PrerenderedClip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--model", default=str(ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"))
    ap.add_argument("--allow-unverified", action="store_true")
    ap.add_argument("--sample", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=30.0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = ap.parse_args()
    model = load_model(args.model, LoadOptions(trust=TrustPolicy(allow_unverified=args.allow_unverified)))
    clip = PrerenderedClip.from_sim(DEFAULT_SIM, 120, fps=60.0, loop=True)
    counter = CountingSink()
    jsonl = JsonlSink(os.devnull)
    pipe = Pipeline(clip, FrameProcessor(model), [counter, jsonl])
    pipe.start_exam("soak")
    samples: list[tuple[float, float]] = [(0.0, round(rss_mib(), 2))]
    stop = threading.Event()
    threading.Thread(target=sample, args=(pipe, stop, args.sample, samples), daemon=True).start()
    threading.Timer(args.minutes * 60.0, pipe.stop).start()
    runner = threading.Thread(target=pipe.run, daemon=True)
    runner.start()
    with tqdm(total=round(args.minutes * 60), desc="soak", unit="s", file=sys.stderr) as bar:
        while runner.is_alive():
            runner.join(1.0)
            bar.update(1)
    stop.set()
    pipe.finish()
    jsonl.close()
    return report(args, samples, counter.results, pipe.mailbox.dropped)


def report(args: argparse.Namespace, samples: list[tuple[float, float]], results: int, dropped: int) -> int:
    settled = [s for s in samples if s[0] >= args.warmup] or samples
    start, end = settled[0][1], samples[-1][1]
    growth = 100.0 * (end - start) / start
    out = {
        "notice": "SIMULATED data; not for clinical use",
        "minutes": args.minutes,
        "model": args.model,
        "results": results,
        "dropped": dropped,
        "rss_start_mib": start,
        "rss_end_mib": end,
        "rss_growth_pct": round(growth, 3),
        "rss_growth_ok": growth <= 5.0,
        "samples": samples,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(
        f"soak: {results} results, {dropped} dropped, RSS {start:.1f} → {end:.1f} MiB ({growth:+.2f} %)",
        file=sys.stderr,
    )
    return 0 if growth <= 5.0 else 1


if __name__ == "__main__":
    sys.exit(main())
