"""Emulator scripts: one action per line, ``<delay_s> <action> [value]``; ``#`` starts a comment.

Actions: ``freeze``, ``unfreeze``, ``depth MM``, ``gain DB``, ``preset N``, ``button N``, ``exam_start [ID]``,
``exam_end [ID]``, ``reset``, ``wait_link`` (wait until a host has completed the handshake). ``delay_s`` is
seconds after the previous line. Example::

    0 wait_link
    0.5 exam_start
    0.2 freeze
    1.0 unfreeze
    0.1 depth 120
    2.0 exam_end
"""

from __future__ import annotations

from dataclasses import dataclass

from liveredge.firmware_bridge.errors import ScriptError

_VALUED = {"depth", "gain", "preset", "button"}
_OPTIONAL = {"exam_start", "exam_end"}
_BARE = {"freeze", "unfreeze", "reset", "wait_link"}
ACTIONS = frozenset(_VALUED | _OPTIONAL | _BARE)
SCRIPT_HELP = (
    "--script FILE: one action per line, '<delay_s> <action> [value]' ('#' starts a comment; delay_s is seconds "
    "after the previous line). Actions: "
    + ", ".join(f"{a} N" for a in sorted(_VALUED))
    + ", "
    + ", ".join(f"{a} [ID]" for a in sorted(_OPTIONAL))
    + ", "
    + ", ".join(sorted(_BARE))
    + " (wait_link: wait until a host has completed the handshake). Example: '0 wait_link', '0.5 exam_start', "
    "'2.0 exam_end'. SIGTERM or Ctrl-C stop the emulator and remove its --link."
)


@dataclass(frozen=True)
class Step:
    """One script line: wait ``delay_s`` seconds, then do ``action`` (with ``value`` where it takes one)."""

    delay_s: float
    action: str
    value: int | None = None


def parse_script(text: str, source: str = "<script>") -> list[Step]:
    """Parse a script; :class:`ScriptError` names the line and what is wrong."""
    steps = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            steps.append(_parse_line(line, f"{source}:{number}"))
    return steps


def _parse_line(line: str, where: str) -> Step:
    parts = line.split()
    try:
        delay = float(parts[0])
    except ValueError:
        raise ScriptError(f"{where}: {parts[0]!r} is not a delay in seconds (expected '<delay_s> <action>')") from None
    if delay < 0 or len(parts) < 2 or parts[1] not in ACTIONS:
        raise ScriptError(
            f"{where}: expected '<delay_s ≥ 0> <action> [value]' with action one of "
            f"{', '.join(sorted(ACTIONS))}; got {line!r}"
        )
    action, rest = parts[1], parts[2:]
    if (action in _BARE and rest) or (action in _VALUED and len(rest) != 1) or len(rest) > 1:
        raise ScriptError(f"{where}: wrong number of values for {action!r} in {line!r}")
    value = None
    if rest:
        try:
            value = int(rest[0], 0)
        except ValueError:
            raise ScriptError(f"{where}: {rest[0]!r} is not an integer") from None
    return Step(delay, action, value)
