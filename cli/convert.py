"""Subcommands of the int8 toolchain: ``convert``, ``inspect``, ``verify``, ``keygen``, ``sign``, ``bench-formats``.

Module level imports argparse and the standard library only; handlers import the heavy parts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NOTE = "Models trained on SIMULATED data: not for clinical use."


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    p.add_argument("--key", default=None, help="Ed25519 private key (PEM) to sign the outputs")
    p.add_argument("--spec", default=None, help="PreprocessSpec JSON for a model without a sidecar")
    p.add_argument("--mean", type=float, default=None)
    p.add_argument("--std", type=float, default=None)
    p.add_argument("--max-calib", type=int, default=300, help="calibration frames (stratified by class and site)")
    p.add_argument("--no-recover", action="store_true", help="one attempt only (no recovery loop)")
    p.set_defaults(handler=_convert)
    _register_tools(sub)


def _register_tools(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("inspect", help="per-op int8 contract table and metadata summary of a .tflite")
    p.add_argument("model")
    p.add_argument("--io", choices=("int8", "uint8"), default=None, help="expected I/O dtype (default: from input)")
    p.set_defaults(handler=_inspect)

    p = sub.add_parser("verify", help="check a model's sha256 sidecar, signature and int8 contract (exit != 0 on failure)")
    p.add_argument("model")
    p.add_argument("--pubkey", default=None, help="Ed25519 public key (PEM); makes the signature mandatory")
    p.add_argument("--no-contract", action="store_true", help="skip the int8 contract (e.g. the float32 twin)")
    p.set_defaults(handler=_verify)

    p = sub.add_parser("keygen", help="make an Ed25519 key pair for signing models (keep the private key out of git)")
    p.add_argument("private", help="private key path (PEM, mode 0600)")
    p.add_argument("public", help="public key path (PEM)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_keygen)

    p = sub.add_parser("sign", help="write MODEL.sha256 and (with --key) MODEL.sig")
    p.add_argument("model", nargs="+")
    p.add_argument("--key", default=None)
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
    from liveredge.convert.gate import GateBudget, format_gate
    from liveredge.convert.pipeline import ConvertRequest, convert
    from liveredge.edge.errors import GateFailed

    req = ConvertRequest(model=args.model, calib=args.calib, val=args.val, out=args.out, target=args.target,
                         io=args.io, budget=GateBudget.parse(args.budget), key=args.key,
                         spec=_spec_source(args), max_calib=args.max_calib, recover=not args.no_recover)  # type: ignore[arg-type]
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
    from liveredge.convert.contract import check_metadata, read_model, require
    from liveredge.edge.integrity import verify_model

    result = verify_model(args.model, args.pubkey)
    print(f"sha256 {result.sha256}: ok ({result.sidecar}); signature: {result.signature}"
          + (f" (key {result.key_id})" if result.key_id else ""))
    data = read_model(args.model)
    if not args.no_contract:
        from liveredge.convert.contract import io_tensors

        io = io_tensors(data)[0][0].dtype.lower()
        if io == "int16":  # a 16x8 model (int16 activations, int8 weights) is proven as such
            report = require(data, "int16", activations="int16")
        else:
            report = require(data, io if io in ("int8", "uint8") else "int8")
        print(f"contract: {report.kind}, {len(report.rows)} ops all integer")
    print(check_metadata(data, str(args.model)))
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from liveredge.convert.signing import generate_keypair

    kid = generate_keypair(args.private, args.public, overwrite=args.force)
    print(f"key {kid}: private {args.private} (keep it secret, never commit it), public {args.public}")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from liveredge.convert.signing import sign_model

    for model in args.model:
        result = sign_model(model, args.key)
        print(f"{result.model}: {result.sidecar}" + (f", {result.signature} (key {result.key_id})" if result.signature else ""))
    return 0


def _bench_formats(args: argparse.Namespace) -> int:
    from liveredge.convert import data
    from liveredge.convert.formats import bench_formats, format_rows, rows_to_json
    from liveredge.convert.ingest import ingest

    src = ingest(args.model, _spec_source(args))  # type: ignore[arg-type]
    val = data.load_frames(data.discover(args.val), src.spec)
    calib = val if args.calib is None else data.load_frames(data.stratify(data.discover(args.calib), 300), src.spec)
    rows = bench_formats(src.converter, calib.x, val.x, val.labels)
    print(format_rows(rows))
    print(NOTE)
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "rows": rows_to_json(rows), "note": NOTE}, indent=1))
    return 0
