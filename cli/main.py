"""Entry point of the ``liveredge`` console script.

Each part contributes subcommands through a small module exposing
``register(subparsers) -> None``. Those modules import only argparse and the
standard library at module level; a handler imports heavy dependencies when it
runs, so ``liveredge run`` works on a device without TensorFlow.

A handler returns an exit code. A :class:`LiveredgeError` becomes a one-line
message on stderr and its ``exit_code``; a missing optional dependency becomes
a message saying which extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from liveredge.cli.parsing import LiveredgeParser, TopFormatter, exit_code_table
from liveredge.edge.bounds import console_safe
from liveredge.edge.errors import LiveredgeError
from liveredge.edge.version import __version__

# Modules that register subcommands, in help order. A module missing from the
# installation (a part not yet built) is skipped so the rest still works.
COMMAND_MODULES: tuple[str, ...] = (
    "liveredge.cli.simulate",
    "liveredge.cli.crop",
    "liveredge.cli.train",
    "liveredge.cli.federate",
    "liveredge.cli.benchmark",
    "liveredge.cli.convert",
    "liveredge.cli.model_check",
    "liveredge.cli.run",
    "liveredge.cli.adapt",
    "liveredge.cli.bridge",
    "liveredge.cli.demo",
    "liveredge.cli.doctor",
)

# Optional dependency -> the extra that provides it.
_EXTRAS: dict[str, str] = {
    "tensorflow": "convert",
    "tf_keras": "convert",
    "keras": "convert",
    "onnx": "convert",
    "onnx2tf": "convert",
    "matplotlib": "convert",
    "serial": "edge",
    "pydicom": "edge",
    "cryptography": "edge",
    "flatbuffers": "edge",
    "ai_edge_litert": "edge",
    "flwr": "federated",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand."""
    parser = LiveredgeParser(
        prog="liveredge",
        description=(
            "Liver ultrasound classification on edge devices. Shipped models are trained on "
            "SIMULATED data and are not for clinical use."
        ),
        epilog=exit_code_table(),
        formatter_class=TopFormatter,
    )
    parser.add_argument("--version", action="version", version=f"liveredge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except LiveredgeError as exc:
        print(f"liveredge {args.command}: error: {console_safe(str(exc), multiline=True)}", file=sys.stderr)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        extra = _EXTRAS.get(top)
        if extra is None:
            raise
        print(
            f"liveredge {args.command}: error: this command needs '{top}', which is not installed; "
            f"install it with: pip install 'liveredge[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"liveredge {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `liveredge ... | head`: the reader left; say nothing more, like other Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
