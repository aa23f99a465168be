"""The shared parser factory of the ``liveredge`` command: one help style for every subcommand and the exit-code
table (one home; docs/cli.md repeats it and tests/test_cli_conventions.py checks they agree). Standard library only.
"""

from __future__ import annotations

import argparse
from typing import Any

# (code, meaning): what every subcommand returns. LiveredgeError subclasses carry 1, 2 or 3 (liveredge.edge.errors).
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "success"),
    (1, "failure at run time (source, model, serial link, storage; doctor: the shipped model cannot run here)"),
    (2, "bad input or usage: an option, file, configuration or dataset is unusable (the message names it)"),
    (3, "int8 gate or contract failed (convert, inspect): the model must not be deployed"),
    (130, "interrupted (Ctrl-C)"),
    (141, "the output pipe closed (e.g. '| head')"),
)


def exit_code_table() -> str:
    """The exit codes as aligned text lines (for ``liveredge --help``)."""
    return "exit codes:\n" + "\n".join(f"  {code:<4d} {meaning}" for code, meaning in EXIT_CODES)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """ArgumentDefaultsHelpFormatter that leaves out defaults that say nothing (None, False), that the help already
    states, or that stand for "not given" (``hide_in_help``, see cli.run_config)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        quiet = action.default in (None, False, argparse.SUPPRESS) or getattr(action.default, "hide_in_help", False)
        if quiet or "%(default)" in text or "default:" in text:
            return text
        return super()._get_help_string(action)


class TopFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The top-level help: keeps the epilog's line breaks (the exit-code table)."""


class LiveredgeParser(argparse.ArgumentParser):
    """ArgumentParser with :class:`HelpFormatter` by default; subparsers made from it are the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
