"""The trust-policy options shared by ``run``, ``bench`` and ``verify`` (so ``verify`` decides exactly as ``run``).

Module level imports argparse and the standard library only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_trust_args(p: argparse.ArgumentParser) -> None:
    """``--pubkey`` (repeatable), ``--allow-unverified``, ``--allow-dev``, ``--allow-rollback``, ``--state-dir``."""
    p.add_argument(
        "--pubkey",
        action="append",
        default=None,
        metavar="KEY",
        help="an extra trusted Ed25519 public key (fleet key), repeatable; the release key shipped in "
        "the package is always trusted",
    )
    p.add_argument(
        "--allow-unverified",
        action="store_true",
        help="run a model that has NO signed statement (every record then says unverified_model, "
        "also on the serial link); a statement that does not hold is refused regardless",
    )
    p.add_argument("--allow-dev", action="store_true", help="also run models signed with role 'dev'")
    p.add_argument(
        "--allow-rollback", action="store_true", help="run a release older than the newest this device has accepted"
    )
    p.add_argument(
        "--state-dir",
        default=None,
        metavar="DIR",
        help="anti-rollback state folder (default: $XDG_STATE_HOME/liveredge or ~/.local/state/liveredge)",
    )


def policy_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~liveredge.edge.trust.TrustPolicy` these options describe (``pubkey`` may come from a TOML
    config as one path or a list of paths)."""
    from liveredge.edge.errors import ConfigError
    from liveredge.edge.trust import TrustPolicy

    keys = args.pubkey or []
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConfigError(f"pubkey must be a path or a list of paths, got {keys!r}")
    for key in keys:
        if not Path(key).is_file():
            raise ConfigError(f"--pubkey {key}: file not found")
    flags = {name: getattr(args, name, False) for name in ("allow_unverified", "allow_dev", "allow_rollback")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
    state = getattr(args, "state_dir", None)
    if state is not None and not isinstance(state, str):
        raise ConfigError(f"state_dir must be a folder path (a string), got {state!r}")
    return TrustPolicy(
        extra_keys=tuple(keys),
        allow_unverified=flags["allow_unverified"],
        allow_dev=flags["allow_dev"],
        allow_rollback=flags["allow_rollback"],
        state_dir=Path(state) if state else None,
    )
