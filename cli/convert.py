"""Subcommands of the int8 toolchain: ``convert``, ``keygen``, ``sign``, ``bench-formats`` (``inspect`` and
``verify``: :mod:`liveredge.cli.model_check`).

Module level imports argparse and the standard library only; handlers import the heavy parts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from liveredge.edge.events import NOTICE

if TYPE_CHECKING:
    from liveredge.convert.ingest import SpecSource

NOTE = NOTICE


def register(sub: argparse._SubParsersAction) -> None:
    """Add the toolchain's subcommands."""
    p = sub.add_parser(
        "convert",
        help="convert a float model to a verified, gated, signed int8 TFLite",
        description="Ingest MODEL (.keras, .h5, SavedModel folder, .onnx), calibrate on DATA, "
        "quantise to full-integer int8, prove the contract, gate against float (exit 3 "
        f"on failure), write OUT + report. {NOTE}",
    )
    p.add_argument("model", help="the float model: .keras, .h5, SavedModel folder or .onnx")
    p.add_argument("--calib", required=True, help="calibration data: manifest.csv, image folder, video or DICOM")
    p.add_argument("--val", required=True, help="labelled validation data (manifest.csv or class folders)")
    p.add_argument(
        "--target",
        choices=("cpu", "jetson", "edgetpu"),
        default="cpu",
        help="deployment target (jetson allows float islands for accuracy recovery; edgetpu compiles)",
    )
    p.add_argument("--out", required=True, help="output .tflite path")
    p.add_argument("--io", choices=("int8", "uint8"), default="int8", help="dtype of the model's input and output")
    p.add_argument("--budget", default=None, help="e.g. agreement=0.995,auc=0.005[,sens=0.02,spec=0.02,ece=0.01]")
    p.add_argument(
        "--key",
        default=None,
        help="Ed25519 private key (PEM) to sign the outputs (statement roles: "
        "release if the gate passes, else rejected; the float32 twin dev)",
    )
    p.add_argument(
        "--version",
        type=int,
        default=1,
        help="release version in the signed statement (monotonic "
        "per model name; devices refuse an older one) (default: %(default)s)",
    )
    _add_spec_args(p)
    p.add_argument(
        "--min-float-auc",
        type=float,
        default=0.6,
        help="stop before quantising when the FLOAT model's "
        "validation AUC is below this (wrong label order or preprocessing); 0 disables",
    )
    p.add_argument("--max-calib", type=int, default=300, help="calibration frames (stratified by class and site)")
    p.add_argument("--no-recover", action="store_true", help="one attempt only (no recovery loop)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none when stderr is not a terminal)")
    p.add_argument(
        "--require-liver-gate",
        action="store_true",
        help="refuse a model whose operating point sets no 'not a liver' gate threshold (the zoo does)",
    )
    p.set_defaults(handler=_convert)
    _register_tools(sub)


def _register_tools(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing models (keep the private key out of git)")
    p.add_argument("private", help="private key path (PEM, mode 0600)")
    p.add_argument("public", help="public key path (PEM)")
    p.add_argument("--force", action="store_true", help="overwrite existing key files")
    p.set_defaults(handler=_keygen)

    p = sub.add_parser("sign", help="write MODEL.sha256 and (with --key) the signed MODEL.statement.json")
    p.add_argument("model", nargs="+", help="the .tflite model(s) to hash and sign")
    p.add_argument("--key", default=None, help="Ed25519 private key (PEM)")
    p.add_argument(
        "--role",
        choices=("release", "rejected", "dev"),
        default=None,
        help="required with --key; release only for a gate-passed model",
    )
    p.add_argument("--version", type=int, default=None, help="required with --key: integer >= 1, monotonic per name")
    p.add_argument("--name", default=None, help="model name (default: the embedded metadata's name)")
    p.add_argument("--target", default=None, help="target (default: the embedded provenance's, else cpu)")
    p.set_defaults(handler=_sign)

    p = sub.add_parser("bench-formats", help="float32/float16/dynamic-range/int8: size, agreement, AUC, ms/frame")
    p.add_argument("model", help="the float model: .keras, .h5, SavedModel folder or .onnx")
    p.add_argument("--val", required=True, help="labelled validation data (manifest.csv or class folders)")
    p.add_argument("--calib", default=None, help="calibration data (default: the validation data)")
    p.add_argument("--out", default=None, help="JSON output (default: print only)")
    _add_spec_args(p)
    p.set_defaults(handler=_bench_formats)


def _add_spec_args(p: argparse.ArgumentParser) -> None:
    """How to read a model without a ``.liveredge.json`` sidecar: its preprocessing and its class order."""
    p.add_argument(
        "--spec",
        default=None,
        metavar="SPEC.json",
        help="PreprocessSpec JSON (optionally with 'name' and 'labels') for a model without a sidecar",
    )
    p.add_argument("--mean", type=float, default=None, help="input normalisation (x/255 - mean)/std, with --std")
    p.add_argument("--std", type=float, default=None, help="input normalisation std, with --mean")
    p.add_argument(
        "--labels",
        default=None,
        metavar="A,B,C",
        help="the model's class names in OUTPUT order (e.g. PyTorch ImageFolder: alphabetical); the "
        "validation labels are mapped to them by name (default: the sidecar's/--spec's, else "
        "normal,steatosis,fibrosis,focal_lesion)",
    )


def _spec_source(args: argparse.Namespace) -> SpecSource:
    from liveredge.convert.ingest import SpecSource
    from liveredge.edge.errors import ConfigError

    labels = None
    if args.labels is not None:
        labels = tuple(name.strip() for name in args.labels.split(","))
        if not all(labels):
            raise ConfigError(f"--labels {args.labels!r}: give comma-separated class names, e.g. a,b,c")
    return SpecSource(args.spec, args.mean, args.std, labels)


def _convert(args: argparse.Namespace) -> int:
    from liveredge.convert.gate import GateBudget
    from liveredge.convert.pipeline import ConvertRequest, convert
    from liveredge.edge.errors import GateFailed

    req = ConvertRequest(
        model=args.model,
        calib=args.calib,
        val=args.val,
        out=args.out,
        target=args.target,
        io=args.io,
        budget=GateBudget.parse(args.budget),
        key=args.key,
        version=args.version,
        spec=_spec_source(args),
        max_calib=args.max_calib,
        recover=not args.no_recover,
        require_liver_gate=args.require_liver_gate,
        min_float_auc=args.min_float_auc,
        progress=not args.quiet,
    )
    try:
        result = convert(req)
    except GateFailed:
        stem = str(Path(args.out).with_suffix(""))
        print(f"report: {stem}.report.json, {stem}.report.html", file=sys.stderr)
        raise
    print(
        f"wrote {result.model} and {result.float_model} ({result.seconds:.1f} s); "
        f"report {result.report_json}, {result.report_html}"
    )
    print(f"contract: {result.summary['contract']['kind']}; gate: PASS. {NOTE}")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from liveredge.convert.signing import generate_keypair

    kid = generate_keypair(args.private, args.public, overwrite=args.force)
    print(f"key {kid}: private {args.private} (keep it secret, never commit it), public {args.public}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from liveredge.convert.signing import SignRequest, sign_model
    from liveredge.edge.errors import ConfigError

    request = None
    if args.key is not None:
        if args.role is None or args.version is None:
            raise ConfigError("sign --key needs --role (release | rejected | dev) and --version N")
        request = SignRequest(args.role, args.version, name=args.name, target=args.target)
    for model in args.model:
        r = sign_model(model, args.key, request)
        said = f", {r.signature} (key {r.key_id}: {json.dumps(r.statement, sort_keys=True)})" if r.signature else ""
        print(f"{r.model}: {r.sidecar}{said}")
    return 0


def _bench_formats(args: argparse.Namespace) -> int:
    from liveredge.convert import data
    from liveredge.convert.formats import bench_formats, format_rows, rows_to_json
    from liveredge.convert.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="liveredge-convert-") as work:  # intermediate models, deleted after
        src = ingest(args.model, _spec_source(args), workdir=work)
        val = data.load_frames(data.discover(args.val), src.spec)
        calib = val if args.calib is None else data.load_frames(data.stratify(data.discover(args.calib), 300), src.spec)
        rows = bench_formats(src.converter, calib.x, val.x, val.labels)
    print(format_rows(rows))
    print(NOTE)
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "rows": rows_to_json(rows), "note": NOTE}, indent=1))
    return 0
