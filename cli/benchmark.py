"""``liveredge benchmark MODEL --out DIR``: the fixed generalization suite on the phantom simulator.

Scores a ``.keras`` file, a SavedModel folder or a ``.tflite`` (float or int8; an int8 file is also compared
with its ``X.float32.tflite`` twin) on scanner profiles and patients from the BENCHMARK seed range, plus lesion
size/position, gain/TGC and view sweeps. Report only: never use its numbers to choose anything. SIMULATED data,
not for clinical use.
"""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from liveredge.cli.simulate import parse_size
    from liveredge.edge.errors import InputError
    from liveredge.models.benchmark.run import run_benchmark
    from liveredge.models.benchmark.suite import SuiteConfig

    if not Path(args.model).exists():
        raise InputError(f"{args.model}: no such model file or folder (give a .keras, SavedModel folder or .tflite)")
    cfg = SuiteConfig(
        profiles=args.profiles,
        patients=args.patients,
        frames=args.frames,
        size=parse_size(args.size),
        sweep_profiles=args.sweep_profiles,
        sweep_patients=args.sweep_patients,
        lesion_patients=args.lesion_patients,
        position_patients=args.position_patients,
        sweeps=not args.no_sweeps,
    )
    r = run_benchmark(args.model, args.out, cfg, progress=True if args.quiet else None)
    w = r["worst_profile"]
    fmt = lambda v: "n/a" if v is None or v != v else f"{v:.3f}"  # noqa: E731 - a local formatter
    print(
        f"suite v{r['suite_version']}: worst profile {w['profile']} balanced accuracy {fmt(w['balanced_accuracy'])}, "
        f"median {fmt(r['median_balanced_accuracy'])} over {len(r['per_profile'])} profiles ({r['wall_s']} s)"
    )
    if r["int8_agreement"] is not None:
        print(
            f"int8 vs float twin agreement: worst profile {fmt(r['int8_agreement']['worst'])}, "
            f"median {fmt(r['int8_agreement']['median'])}"
        )
    print(
        f"wrote {Path(args.out) / 'benchmark.json'} and benchmark.html. SIMULATED data: not for clinical use; "
        "report only, never use these numbers to choose anything."
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``benchmark`` subcommand."""
    b = sub.add_parser(
        "benchmark",
        help="generalization benchmark on held-out simulated scanners (report only; "
        "simulated data: not for clinical use)",
        description="Score MODEL on the fixed, versioned benchmark suite (scanner profiles and "
        "patients from the benchmark seed range, lesion/gain/TGC/view sweeps). Writes "
        "DIR/benchmark.json and DIR/benchmark.html. See docs/benchmark.md.",
    )
    b.add_argument("model", help=".keras file, SavedModel folder, or .tflite (float or int8)")
    b.add_argument("--out", required=True, help="output folder (created; benchmark.* files are overwritten)")
    b.add_argument("--profiles", type=int, default=24, help="scanner profiles from the benchmark range (default 24)")
    b.add_argument("--patients", type=int, default=6, help="patients per class and profile (default 6)")
    b.add_argument("--frames", type=int, default=2, help="cine frames per patient (default 2)")
    b.add_argument("--size", default="256x256", help="screen HEIGHTxWIDTH in px (default 256x256)")
    b.add_argument("--sweep-profiles", type=int, default=8, help="profiles of the gain/TGC/view sweeps")
    b.add_argument("--sweep-patients", type=int, default=2, help="patients per class in those sweeps")
    b.add_argument("--lesion-patients", type=int, default=24, help="lesions per size point")
    b.add_argument("--position-patients", type=int, default=16, help="lesions per position point")
    b.add_argument("--no-sweeps", action="store_true", help="per-profile suite only")
    b.add_argument("--quiet", action="store_true", help="no progress bars (they only show on a terminal anyway)")
    b.set_defaults(handler=_run)
