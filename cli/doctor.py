"""``liveredge doctor`` (what this installation can do) and ``liveredge deploy-files DIR`` (the systemd unit, udev
rules and device TOML shipped in the package). Module level: argparse and the standard library only."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``doctor`` and ``deploy-files``."""
    p = sub.add_parser(
        "doctor",
        help="check this installation: versions, interpreters, shipped model, Edge TPU, "
        "serial ports (exit 1 when the shipped model cannot run here)",
        description="Read-only checks of this installation (like 'yolo checks').",
    )
    p.add_argument("--json", action="store_true", help="print the findings as one JSON object")
    p.set_defaults(handler=_doctor)
    p = sub.add_parser(
        "deploy-files",
        help="copy the systemd unit, udev rules and device TOML shipped in the package into DIR (see docs/deploy.md)",
    )
    p.add_argument("dir", metavar="DIR", help="destination folder (created)")
    p.add_argument("--force", action="store_true", help="overwrite files already in DIR")
    p.set_defaults(handler=_deploy_files)


def _doctor(args: argparse.Namespace) -> int:
    from liveredge.edge.doctor import diagnose

    report = diagnose()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        _print_report(report)
    return 0 if report.ok else 1


def _print_report(r: Any) -> None:
    print(f"liveredge {r.liveredge} on Python {r.python}, {r.platform}")
    print("packages: " + ", ".join(f"{k} {v}" for k, v in sorted(r.packages.items())))
    print("interpreters: " + ", ".join(f"{k} {v}" for k, v in r.interpreters.items()))
    m = r.shipped_model
    trust = f"VERIFIED {m.get('statement')}" if m.get("verified") else "UNVERIFIED"
    state = (
        "missing" if not m["present"] else f"loads, {trust}" if m.get("loads") else f"does not load: {m.get('error')}"
    )
    print(f"shipped model: {m['path']} ({state})")
    tpu = r.edgetpu
    print(
        f"Edge TPU: library {tpu['library'] or '-'} {'found' if tpu['library_found'] else 'not found'}; "
        f"USB {', '.join(tpu['usb']) or 'none'}; PCIe {', '.join(tpu['pci']) or 'none'}"
    )
    print("serial ports: " + (", ".join(r.serial_ports) or "none (or pyserial not installed)"))
    for problem in r.problems:
        print(f"PROBLEM: {problem}")
    print("ok" if r.ok else "NOT OK: the shipped model cannot run here")


def _deploy_files(args: argparse.Namespace) -> int:
    from liveredge.edge.shipped import copy_deploy_files

    for path in copy_deploy_files(args.dir, force=args.force):
        print(path)
    return 0
