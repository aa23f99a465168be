"""Errors of the serial bridge; all derive from :class:`liveredge.edge.errors.BridgeError`.

::

    BridgeError (liveredge.edge.errors)
    ├── PortError          the serial port cannot be opened / used (names the port)
    ├── BridgeValueError   a caller passed a value the wire cannot carry (names the field)
    └── ScriptError        an emulator script line cannot be parsed (names the line); also an InputError

The decoder and the session never raise on received bytes: damage is counted, not raised.
"""

from __future__ import annotations

from liveredge.edge.errors import BridgeError, InputError


class PortError(BridgeError):
    """A serial port could not be opened or used."""


class BridgeValueError(BridgeError):
    """A value given to the bridge does not fit its wire field."""


class ScriptError(BridgeError, InputError):
    """An emulator script is malformed (exit code 2)."""

    exit_code = 2
