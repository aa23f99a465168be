"""Benchmark preprocessing on ONE core: per-frame application cost vs detecting every frame.

Writes bench/results/preprocess.json. Frames: simulated 640x480 screens (every named site profile, with
overlays; SIMULATED data). Measured per frame, median over repeats, OpenCV pinned to one thread:

- ``apply_128_ms`` / ``apply_224_ms``: ``Preprocessor.apply`` (crop, grey, mask, resize, normalise → float32)
  into 128x128x1 (the reference input) and 224x224x1; ``apply_int8_128_ms``: the int8 path exactly as the
  runtime runs it (``FrameProcessor.prepare`` → ``Preprocessor.apply_table(frame, lut, reuse=True)``: reused
  buffers, ``cv2.LUT``);
- ``detect_ms``: ``detect_region`` on one frame; ``detect_video_ms_per_frame``: the warm-up detector over
  30 frames, divided by 30;
- ``naive_ms``: the baseline, detecting the region on every frame then applying it (what "estimate once"
  replaces); ``speedup`` = naive / apply at 128x128. Target: apply <= 1 ms at 640x480 → 128x128.
Each number is the best of several repeats (mean per call within a repeat): the machine is shared.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from liveredge.edge.preprocess import Preprocessor, PreprocessSpec, detect_region, detect_region_video  # noqa: E402
from liveredge.edge.sim import CLASSES, Scanner, get_profile, list_profiles, make_patient  # noqa: E402

TARGET_MS = 1.0
OUT = Path(__file__).resolve().parent / "results" / "preprocess.json"


def _ms_per_call(fn: Callable[[int], object], n: int, repeats: int = 5) -> float:
    """Best (minimum) over ``repeats`` of the mean time of ``n`` calls, in ms: the least disturbed run on a shared machine."""
    fn(0)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        runs.append((time.perf_counter() - start) / n * 1000.0)
    return float(min(runs))


def _site(site: str, k: int) -> dict[str, float]:
    scanner = Scanner(
        make_patient(f"bench{k}", CLASSES[k % 4], view="subcostal"), get_profile(site), size=(480, 640), seed=k
    )
    frames = [scanner.frame(i).image for i in range(30)]
    region = detect_region(frames[0])
    pre128 = Preprocessor.from_region(PreprocessSpec(), region)
    pre224 = Preprocessor.from_region(PreprocessSpec(input_size=(224, 224)), region)
    pick = lambda i: frames[i % len(frames)]  # noqa: E731
    int8 = PreprocessSpec().lut(1 / 255, -128, "int8")  # the shipped int8 models' input quantisation
    apply128 = _ms_per_call(lambda i: pre128.apply(pick(i)), 300)
    return {
        "apply_128_ms": apply128,
        "apply_224_ms": _ms_per_call(lambda i: pre224.apply(pick(i)), 300),
        "apply_int8_128_ms": _ms_per_call(lambda i: pre128.apply_table(pick(i), int8, reuse=True), 300),
        "detect_ms": _ms_per_call(lambda i: detect_region(pick(i)), 10, repeats=3),
        "detect_video_ms_per_frame": _ms_per_call(lambda i: detect_region_video(frames), 1, repeats=3) / len(frames),
        "naive_ms": _ms_per_call(
            lambda i: Preprocessor.from_region(PreprocessSpec(), detect_region(pick(i))).apply(pick(i)), 10, repeats=3
        ),
    }


def main() -> int:
    cv2.setNumThreads(1)
    per_site = {
        site: _site(site, k) for k, site in enumerate(tqdm(list_profiles(), desc="preprocess bench", file=sys.stderr))
    }
    keys = next(iter(per_site.values())).keys()
    summary = {key: round(float(np.median([s[key] for s in per_site.values()])), 4) for key in keys}
    worst_apply = max(s["apply_128_ms"] for s in per_site.values())
    result = {
        "benchmark": "preprocess",
        "note": "simulated 640x480 screens (SIMULATED data, not for clinical use); one core; medians over sites",
        "frame_size": [480, 640],
        "threads": 1,
        "median_over_sites": summary,
        "worst_site_apply_128_ms": round(worst_apply, 4),
        "speedup_vs_detect_every_frame": round(summary["naive_ms"] / summary["apply_128_ms"], 1),
        "target_apply_128_ms": TARGET_MS,
        "meets_target": bool(worst_apply <= TARGET_MS),
        "per_site": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in per_site.items()},
        "python": platform.python_version(),
        "opencv": cv2.__version__,
        "machine": platform.machine(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "median_over_sites",
                    "worst_site_apply_128_ms",
                    "speedup_vs_detect_every_frame",
                    "meets_target",
                )
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
