"""Runtime benchmark → ``bench/results/runtime.json``: exactly ``liveredge bench`` with its defaults.

Reference int8 model ``models/zoo/liver_cnn_int8.tflite`` (its float32 twin beside it is the baseline's model),
the simulated probe pre-rendered once (300 frames, 640x480), latency at 60 and 240 fps. Override with
``LIVEREDGE_BENCH_MODEL`` / ``LIVEREDGE_BENCH_THREADS``. Results are from SIMULATED data, not for clinical use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "runtime.json"


def main() -> int:
    from liveredge.cli.main import main as cli

    model = os.environ.get("LIVEREDGE_BENCH_MODEL", str(ROOT / "models" / "zoo" / "liver_cnn_int8.tflite"))
    if not Path(model).is_file():
        print(
            f"bench_runtime: {model} does not exist yet; build the reference model with 'liveredge convert' "
            "(or set LIVEREDGE_BENCH_MODEL)",
            file=sys.stderr,
        )
        return 1
    argv = ["bench", "--model", model, "--frames", "300", "--json", str(OUT)]
    if os.environ.get("LIVEREDGE_BENCH_THREADS"):
        argv += ["--threads", os.environ["LIVEREDGE_BENCH_THREADS"]]
    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
