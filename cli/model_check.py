"""``liveredge inspect`` (the per-op int8 contract table and the metadata of a .tflite) and ``liveredge verify``
(would ``run`` load this model?), each with ``--json`` for scripts. Module level: argparse and the standard library;
the contract table needs the TFLite schema shipped with ai-edge-litert (on a tflite-runtime device ``verify``
still decides trust and says the table was not checked).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from liveredge.cli.trust_args import add_trust_args, policy_from_args

NOTE = "Models trained on SIMULATED data: not for clinical use."


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``inspect`` and ``verify``."""
    p = sub.add_parser(
        "inspect", help="per-op int8 contract table and metadata summary of a .tflite (exit 3 when the contract fails)"
    )
    p.add_argument("model", help="the .tflite to inspect")
    p.add_argument("--io", choices=("int8", "uint8"), default=None, help="expected I/O dtype (default: from input)")
    p.add_argument("--json", action="store_true", help="print the table, I/O tensors and metadata as one JSON object")
    p.set_defaults(handler=_inspect)

    p = sub.add_parser(
        "verify",
        help="would 'liveredge run' load this model? Same trust policy and load checks, "
        "same options; exit 0 exactly when run would load it (nothing is recorded)",
    )
    p.add_argument("model", help="the .tflite to check (its .statement.json sidecar is read beside it)")
    add_trust_args(p)
    p.add_argument("--no-contract", action="store_true", help="do not check the int8 contract table")
    p.add_argument("--json", action="store_true", help="print the decision as one JSON object (also on refusal)")
    p.set_defaults(handler=_verify)


def _schema_available() -> bool:
    return importlib.util.find_spec("ai_edge_litert") is not None


def _inspect(args: argparse.Namespace) -> int:
    from liveredge.convert.contract import check_contract, format_table, io_tensors, read_model
    from liveredge.edge.model_meta import read_metadata

    data = read_model(args.model)
    inputs, _ = io_tensors(data)
    io = args.io or inputs[0].dtype.lower()
    report = check_contract(data, io if io in ("int8", "uint8", "int16") else "int8")
    meta = read_metadata(data)
    if args.json:
        print(
            json.dumps(
                {
                    "model": str(args.model),
                    "contract": asdict(report),
                    "metadata": None if meta is None else meta.to_dict(),
                },
                indent=2,
                default=str,
            )
        )
        return 0 if report.ok else 3
    print(format_table(report.rows))
    for t in report.inputs + report.outputs:
        print(f"io {t.name}: {t.dtype} {list(t.shape)} scale={t.scale} zero_point={t.zero_point}")
    print(f"contract: {'full-integer ' + io if report.ok else 'NOT integer: ' + '; '.join(report.problems[:5])}")
    if meta is None:
        print("metadata: none (not made by liveredge convert)")
    else:
        print(f"metadata: name={meta.name} labels={list(meta.labels)} cam_output={meta.cam_output}")
        print(f"  preprocess={json.dumps(meta.preprocess.to_dict())}")
        print(f"  input_quant={meta.input_quant} output_quant={meta.output_quant}")
        print(
            f"  provenance: source_sha256={meta.provenance.get('source_sha256', '-')[:16]} "
            f"calibration={str(meta.provenance.get('calibration_digest', '-'))[:16]} "
            f"gate={'passed' if (meta.gate or {}).get('passed') else 'n/a'}"
        )
    return 0 if report.ok else 3


def _verify(args: argparse.Namespace) -> int:
    """The decision of ``run`` (:func:`~liveredge.edge.runtime.load_model` without recording the version); the
    int8 contract is reported, not decided here (``liveredge inspect`` exits 3 when it fails)."""
    from liveredge.edge.errors import ConfigError, LiveredgeError

    if not Path(args.model).is_file():
        raise ConfigError(f"{args.model}: model file not found")
    try:
        found = _decide(args)
    except LiveredgeError as exc:
        if not args.json:
            raise
        print(json.dumps({"model": str(args.model), "loads": False, "error": str(exc)}, indent=2))
        return exc.exit_code
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    s = found["statement"]
    print(f"{args.model}: sha256 {found['sha256']}")
    print(
        "trust: UNVERIFIED (no signed statement; loads only because of --allow-unverified)"
        if s is None
        else f"trust: verified - {s['name']} v{s['version']} role={s['role']} target={s['target']} gate={s['gate']}"
    )
    print(f"contract: {found['contract']}")
    print(found["metadata"])
    print(f"run would load it (device {found['device']}). {NOTE}")
    return 0


def _decide(args: argparse.Namespace) -> dict[str, Any]:
    """run's decision and load checks on ``args.model``, and the contract/metadata checks where they can run."""
    from liveredge.edge.runtime.model import LoadOptions, build_model, decide

    options = LoadOptions(trust=policy_from_args(args), num_threads=1)
    data, trust = decide(args.model, options)  # exactly run's decision and load checks (load_model = these two)
    model = build_model(data, trust, args.model, options)
    s = model.statement
    found: dict[str, Any] = {
        "model": str(args.model),
        "loads": True,
        "sha256": model.sha256,
        "verified": model.verified,
        "device": model.device,
        "statement": None if s is None else s.to_dict(),
    }
    if not _schema_available():
        note = "not checked here (the TFLite schema comes with ai-edge-litert; check on a workstation)"
        return {**found, "contract": note, "metadata": f"metadata vs graph: {note}"}
    from liveredge.convert.contract import check_contract, check_metadata, io_tensors

    found["metadata"] = check_metadata(data, str(args.model))
    if args.no_contract:
        return {**found, "contract": "not checked (--no-contract)"}
    io = io_tensors(data)[0][0].dtype.lower()
    report = check_contract(
        data, io if io in ("int8", "uint8", "int16") else "int8", **({"activations": "int16"} if io == "int16" else {})
    )
    found["contract"] = (
        f"{report.kind}, {len(report.rows)} ops all integer"
        if report.ok
        else f"NOT full-integer ({len(report.problems)} problems; see 'liveredge inspect')"
    )
    return found
