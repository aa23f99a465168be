"""Subcommands of the int8 toolchain: ``convert``, ``inspect``, ``verify``, ``keygen``, ``sign``, ``bench-formats``.

Module level imports argparse and the standard library only; handlers import the heavy parts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from liveredge.cli.trust_args import add_trust_args, policy_from_args
from liveredge.edge.events import NOTICE

NOTE = NOTICE


def register(sub: argparse._SubParsersAction) -> None:
    """Add the toolchain's subcommands."""
    p = sub.add_parser("convert", help="convert a float model to a verified, gated, signed int8 TFLite",
                       description="Ingest MODEL (.keras, .h5, SavedModel folder, .onnx), calibrate on DATA, "
                                   "quantise to full-integer int8, prove the contract, gate against float (exit 3 "
                                   f"on failure), write OUT + report. {NOTE}")
    p.add_argument("model")
    p.add_argument("--calib", required=True, help="calibration data: manifest.csv, image folder, video or DICOM")
    p.add_argument("--val", required=True, help="labelled validation data (manifest.csv or class folders)")
    p.add_argument("--target", choices=("cpu", "jetson", "edgetpu"), default="cpu")
    p.add_argument("--out", required=True, help="output .tflite path")
    p.add_argument("--io", choices=("int8", "uint8"), default="int8")
    p.add_argument("--budget", default=None, help="e.g. agreement=0.995,auc=0.005[,sens=0.02,spec=0.02,ece=0.01]")
    p.add_argument("--key", default=None, help="Ed25519 private key (PEM) to sign the outputs (statement roles: "
                   "release if the gate passes, else rejected; the float32 twin dev)")
    p.add_argument("--version", type=int, default=1, help="release version in the signed statement (monotonic "
                   "per model name; devices refuse an older one) (default: %(default)s)")
    p.add_argument("--spec", default=None, help="PreprocessSpec JSON for a model without a sidecar")
    p.add_argument("--mean", type=float, default=None)
    p.add_argument("--std", type=float, default=None)
    p.add_argument("--max-calib", type=int, default=300, help="calibration frames (stratified by class and site)")
    p.add_argument("--no-recover", action="store_true", help="one attempt only (no recovery loop)")
    p.add_argument("--require-liver-gate", action="store_true",
                   help="refuse a model whose operating point sets no 'not a liver' gate threshold (the zoo does)")
    p.set_defaults(handler=_convert)
    _register_tools(sub)


def _register_tools(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="per-op int8 contract table and metadata summary of a .tflite")
    p.add_argument("model")
    p.add_argument("--io", choices=("int8", "uint8"), default=None, help="expected I/O dtype (default: from input)")
    p.set_defaults(handler=_inspect)

    p = sub.add_parser("verify", help="would 'liveredge run' load this model? Same trust policy and load checks, "
                       "same options; exit 0 exactly when run would load it (nothing is recorded)")
    p.add_argument("model")
    add_trust_args(p)
    p.add_argument("--no-contract", action="store_true", help="do not print the int8 contract table summary")
    p.set_defaults(handler=_verify)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing models (keep the private key out of git)")
    p.add_argument("private", help="private key path (PEM, mode 0600)")
    p.add_argument("public", help="public key path (PEM)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_keygen)

    p = sub.add_parser("sign", help="write MODEL.sha256 and (with --key) the signed MODEL.statement.json")
    p.add_argument("model", nargs="+")
    p.add_argument("--key", default=None, help="Ed25519 private key (PEM)")
    p.add_argument("--role", choices=("release", "rejected", "dev"), default=None,
                   help="required with --key; release only for a gate-passed model")
    p.add_argument("--version", type=int, default=None, help="required with --key: integer >= 1, monotonic per name")
    p.add_argument("--name", default=None, help="model name (default: the embedded metadata's name)")
    p.add_argument("--target", default=None, help="target (default: the embedded provenance's, else cpu)")
    p.set_defaults(handler=_sign)

    p = sub.add_parser("bench-formats", help="float32/float16/dynamic-range/int8: size, agreement, AUC, ms/frame")
    p.add_argument("model")
    p.add_argument("--val", required=True)
    p.add_argument("--calib", default=None, help="calibration data (default: the validation data)")
    p.add_argument("--out", default=None, help="JSON output (default: print only)")
    p.add_argument("--spec", default=None)
    p.add_argument("--mean", type=float, default=None)
    p.add_argument("--std", type=float, default=None)
    p.set_defaults(handler=_bench_formats)


def _spec_source(args: argparse.Namespace) -> object:
    from liveredge.convert.ingest import SpecSource

    return SpecSource(args.spec, args.mean, args.std)


def _convert(args: argparse.Namespace) -> int:
    from liveredge.convert.gate import GateBudget
    from liveredge.convert.pipeline import ConvertRequest, convert
    from liveredge.edge.errors import GateFailed

    req = ConvertRequest(model=args.model, calib=args.calib, val=args.val, out=args.out, target=args.target,
                         io=args.io, budget=GateBudget.parse(args.budget), key=args.key, version=args.version,
                         spec=_spec_source(args), max_calib=args.max_calib, recover=not args.no_recover,
                         require_liver_gate=args.require_liver_gate)
    try:
        result = convert(req)
    except GateFailed:
        stem = str(Path(args.out).with_suffix(""))
        print(f"report: {stem}.report.json, {stem}.report.html", file=sys.stderr)
        raise
    print(f"wrote {result.model} and {result.float_model} ({result.seconds:.1f} s); "
          f"report {result.report_json}, {result.report_html}")
    print(f"contract: {result.summary['contract']['kind']}; gate: PASS. {NOTE}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from liveredge.convert.contract import check_contract, format_table, io_tensors, read_model
    from liveredge.edge.model_meta import read_metadata

    data = read_model(args.model)
    inputs, _ = io_tensors(data)
    io = args.io or inputs[0].dtype.lower()
    report = check_contract(data, io if io in ("int8", "uint8", "int16") else "int8")
    print(format_table(report.rows))
    for t in report.inputs + report.outputs:
        print(f"io {t.name}: {t.dtype} {list(t.shape)} scale={t.scale} zero_point={t.zero_point}")
    print(f"contract: {'full-integer ' + io if report.ok else 'NOT integer: ' + '; '.join(report.problems[:5])}")
    meta = read_metadata(data)
    if meta is None:
        print("metadata: none (not made by liveredge convert)")
    else:
        print(f"metadata: name={meta.name} labels={list(meta.labels)} cam_output={meta.cam_output}")
        print(f"  preprocess={json.dumps(meta.preprocess.to_dict())}")
        print(f"  input_quant={meta.input_quant} output_quant={meta.output_quant}")
        print(f"  provenance: source_sha256={meta.provenance.get('source_sha256', '-')[:16]} "
              f"calibration={str(meta.provenance.get('calibration_digest', '-'))[:16]} "
              f"gate={'passed' if (meta.gate or {}).get('passed') else 'n/a'}")
    return 0 if report.ok else 3


def _verify(args: argparse.Namespace) -> int:
    """The decision of ``run`` (:func:`~liveredge.edge.runtime.load_model` without recording the version); the
    int8 contract is reported, not decided here (``liveredge inspect`` exits 3 when it fails)."""
    from liveredge.convert.contract import check_contract, check_metadata, io_tensors
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.runtime.model import LoadOptions, build_model, decide

    if not Path(args.model).is_file():
        raise ConfigError(f"{args.model}: model file not found")
    options = LoadOptions(trust=policy_from_args(args), num_threads=1)
    data, trust = decide(args.model, options)  # exactly run's decision and load checks (load_model = these two)
    model = build_model(data, trust, args.model, options)
    s = model.statement
    print(f"{args.model}: sha256 {model.sha256}")
    print("trust: UNVERIFIED (no signed statement; loads only because of --allow-unverified)" if s is None else
          f"trust: verified - {s.name} v{s.version} role={s.role} target={s.target} gate={s.gate}")
    if not args.no_contract:
        io = io_tensors(data)[0][0].dtype.lower()
        report = check_contract(data, io if io in ("int8", "uint8", "int16") else "int8",
                                **({"activations": "int16"} if io == "int16" else {}))
        print(f"contract: {report.kind}, {len(report.rows)} ops all integer" if report.ok else
              f"contract: NOT full-integer ({len(report.problems)} problems; see 'liveredge inspect')")
    print(check_metadata(data, str(args.model)))
    print(f"run would load it (device {model.device}). {NOTE}")
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

    src = ingest(args.model, _spec_source(args))
    val = data.load_frames(data.discover(args.val), src.spec)
    calib = val if args.calib is None else data.load_frames(data.stratify(data.discover(args.calib), 300), src.spec)
    rows = bench_formats(src.converter, calib.x, val.x, val.labels)
    print(format_rows(rows))
    print(NOTE)
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "rows": rows_to_json(rows), "note": NOTE}, indent=1))
    return 0
