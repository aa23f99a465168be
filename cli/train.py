"""``liveredge train`` and ``liveredge evaluate`` (workstation: need the ``train`` extra, TensorFlow).

Models trained on the simulator's output learn SIMULATED data: not for clinical use.
"""

from __future__ import annotations

import argparse
import sys


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected HxW like 128x128, got {text!r}") from exc
    return h, w


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``evaluate`` subcommands."""
    t = sub.add_parser(
        "train",
        help="train a liver classifier on a manifest dataset (simulated data: not for clinical use)",
        description="Train an int8-friendly liver classifier with patient-level splits. Writes "
        "RUN_DIR/<name>.keras, a SavedModel, <name>.liveredge.json, splits.json, metrics.json.",
    )
    t.add_argument("dataset", help="folder with manifest.csv (path, label, patient_id, site_id[, mask_path, split])")
    t.add_argument("--arch", choices=("cnn", "hybrid"), default="cnn", help="reference CNN or conv+transformer hybrid")
    t.add_argument("--out", required=True, help="run folder (re-running the same command resumes it)")
    t.add_argument("--holdout-site", default=None, help="site id kept out of training as an external test")
    t.add_argument("--name", default=None, help="model name (default liver_<arch>)")
    t.add_argument("--width", type=float, default=1.0, help="channel multiplier")
    t.add_argument(
        "--head",
        type=int,
        default=160,
        help="channels of the last 1x1 conv before the classifier (times --width); MobileNetV2 uses 1280",
    )
    t.add_argument(
        "--last-stage", type=int, default=80, help="CNN: channels of the last inverted-residual stage (times --width)"
    )
    t.add_argument("--input-size", type=_size, default=(128, 128), metavar="HxW", help="model input size")
    t.add_argument("--epochs", type=int, default=30, help="training epochs (early stopping may end sooner)")
    t.add_argument("--batch-size", type=int, default=32, help="frames per training step")
    t.add_argument("--lr", type=float, default=2e-3, help="initial learning rate")
    t.add_argument("--patience", type=int, default=8, help="early stopping: epochs without val-loss improvement")
    t.add_argument("--val-frac", type=float, default=0.2, help="fraction of (non-held-out) patients for validation")
    t.add_argument("--test-frac", type=float, default=0.0, help="fraction of patients for an in-site test split")
    t.add_argument(
        "--region",
        choices=("detect", "mask"),
        default="detect",
        help="detect the fan like the runtime (default) or use the manifest's mask_path",
    )
    t.add_argument("--seed", type=int, default=0, help="seed of the split, augmentation and initialisation")
    t.add_argument(
        "--threads",
        type=int,
        default=2,
        help="CPU threads: TensorFlow intra-op, preprocessing processes, augmentation (half of them)",
    )
    t.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="MINUTES",
        help="stop before training would pass this wall time, keeping the best epoch so far",
    )
    t.add_argument("--no-cam", action="store_true", help="export without the class-activation-map output")
    t.add_argument("--fresh", action="store_true", help="ignore checkpoints in --out and start over")
    t.add_argument(
        "--labels",
        default=None,
        help="comma-separated class names in output order (default normal,steatosis,fibrosis,focal_lesion; "
        "add not_liver to train the 'not a liver' class on non-liver scenes)",
    )
    t.set_defaults(handler=_train)

    _register_calibrate(sub)
    _register_evaluate(sub)


def _register_calibrate(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "calibrate",
        help="choose temperature and 'not a liver' gate thresholds on validation data",
        description="Runs MODEL.keras on the validation split of DATA, writes operating_point "
        "(temperature, not_liver_threshold, energy_threshold) into its .liveredge.json sidecar "
        "(liveredge convert copies it into the .tflite) and calibration.json beside it.",
    )
    c.add_argument("model", help=".keras file written by liveredge train (with its sidecar and splits.json)")
    c.add_argument("dataset", help="folder with manifest.csv")
    c.add_argument("--split", default="val", choices=("val",), help="validation only: it chooses thresholds")
    c.add_argument(
        "--region",
        choices=("detect", "mask"),
        default="detect",
        help="detect the fan like the runtime or use the manifest's mask_path",
    )
    c.set_defaults(handler=_calibrate)


def _register_evaluate(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "evaluate",
        help="evaluate a .keras / SavedModel / .tflite model on a manifest dataset",
        description="Writes REPORT_DIR/report.json and report.html (ROC, confusion, reliability, per site).",
    )
    e.add_argument("model", help=".keras file, SavedModel folder, or .tflite (float or int8)")
    e.add_argument("dataset", help="folder with manifest.csv")
    e.add_argument("--out", required=True, help="report folder")
    e.add_argument("--sites", default="", help="comma-separated site ids to evaluate (default all)")
    e.add_argument("--splits", default=None, help="a run's splits.json, with --split")
    e.add_argument(
        "--split",
        default=None,
        choices=("train", "val", "test", "holdout"),
        help="evaluate this split of --splits only (default: every frame of DATA)",
    )
    e.add_argument(
        "--region",
        choices=("detect", "mask"),
        default="detect",
        help="detect the fan like the runtime or use the manifest's mask_path",
    )
    e.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples for the 95%% CIs")
    e.add_argument(
        "--site",
        default=None,
        metavar="SITE.json",
        help="scanner harmonisation from 'liveredge adapt' (must be fitted for this model file)",
    )
    e.set_defaults(handler=_evaluate)


def _calibrate(args: argparse.Namespace) -> int:
    from liveredge.models.calibrate import calibrate

    result = calibrate(args.model, args.dataset, args.split, args.region)
    g = result.gate
    print(
        f"{args.model}: temperature {result.temperature} (ECE {result.ece_before} -> {result.ece_after} on "
        f"{result.frames} {result.split} frames); gate: not_liver >= {g.not_liver_threshold}, energy > "
        f"{g.energy_threshold}: flags {g.liver_flagged:.1%} of liver frames, catches "
        f"{'-' if g.not_liver_caught is None else f'{g.not_liver_caught:.1%}'} of non-liver ones (SIMULATED data)"
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    import shutil
    from dataclasses import replace
    from pathlib import Path

    from liveredge.edge.preprocess.spec import PreprocessSpec
    from liveredge.models.evaluate import headline
    from liveredge.models.train import TrainConfig, train

    cfg = TrainConfig(
        arch=args.arch,
        name=args.name,
        width=args.width,
        head=args.head,
        last_stage=args.last_stage,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
        val_frac=args.val_frac,
        test_frac=args.test_frac,
        holdout_site=args.holdout_site,
        region=args.region,
        threads=args.threads,
        cam=not args.no_cam,
        time_budget_s=args.time_budget * 60 if args.time_budget else None,
        spec=PreprocessSpec(input_size=args.input_size),
    )
    if args.labels:
        cfg = replace(cfg, labels=tuple(v.strip() for v in args.labels.split(",") if v.strip()))
    if args.fresh and Path(args.out, "checkpoints").exists():
        shutil.rmtree(Path(args.out, "checkpoints"))
    result = train(args.dataset, args.out, cfg)
    print(f"trained {cfg.model_name}: {result.epochs_run} epochs (best {result.best_epoch}) in {result.wall_s:.0f} s")
    for split in ("val", "test", "holdout"):
        if split in result.metrics:
            print(f"  {split:8s} {headline(result.metrics[split])}")
    print(
        f"  wrote {result.paths['keras']} (+ sidecar{', SavedModel' if 'savedmodel' in result.paths else ''}). SIMULATED data: not for clinical use."
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from liveredge.models.evaluate import EvalConfig, evaluate, headline

    sites = tuple(s.strip() for s in args.sites.split(",") if s.strip())
    cfg = EvalConfig(
        sites=sites,
        split=args.split,
        splits_path=Path(args.splits) if args.splits else None,
        region=args.region,
        n_boot=args.n_boot,
        site=Path(args.site) if args.site else None,
    )
    report = evaluate(args.model, args.dataset, args.out, cfg)
    print(headline(report))
    print(
        f"wrote {Path(args.out) / 'report.json'} and report.html. SIMULATED data: not for clinical use.",
        file=sys.stdout,
    )
    return 0
