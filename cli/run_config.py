"""``liveredge run --config FILE.toml``: the run's settings in one file, with command-line overrides.

Sections and keys (all optional; a key given on the command line wins)::

    [model]      path, threads, device, pubkey (a path or a list: extra trusted keys), allow_unverified,
                 allow_dev, allow_rollback, state_dir, cpu_fallback, site (SITE.json from adapt)
    [source]     uri, rate ("realtime" | "max"), fps, loop, timeout (s), max_frames
    [decisions]  min_confidence (0..1), ood_threshold (0..1), smoothing_tau_s (s), margin (0..1), min_dwell_s (s)
    [serial]     port
    [sinks]      jsonl ("-" = stdout), db, record, display
    [exam]       id

The effective configuration (file + overrides + the model's own operating point) is emitted as a ``config``
state event at start and again with every exam start, so JSONL logs, the SQLite exam log and recordings carry it.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

# (section, key) -> argparse dest
KEYS: dict[tuple[str, str], str] = {
    ("model", "path"): "model", ("model", "threads"): "threads", ("model", "device"): "device",
    ("model", "pubkey"): "pubkey", ("model", "allow_unverified"): "allow_unverified",
    ("model", "cpu_fallback"): "cpu_fallback", ("model", "allow_dev"): "allow_dev",
    ("model", "allow_rollback"): "allow_rollback", ("model", "state_dir"): "state_dir", ("model", "site"): "site",
    ("source", "uri"): "source", ("source", "rate"): "rate", ("source", "fps"): "fps", ("source", "loop"): "loop",
    ("source", "timeout"): "timeout", ("source", "max_frames"): "max_frames",
    ("decisions", "min_confidence"): "min_confidence", ("decisions", "ood_threshold"): "ood_threshold",
    ("decisions", "smoothing_tau_s"): "smoothing_tau_s", ("decisions", "margin"): "margin",
    ("decisions", "min_dwell_s"): "min_dwell_s",
    ("serial", "port"): "serial",
    ("sinks", "jsonl"): "jsonl", ("sinks", "db"): "db", ("sinks", "record"): "record", ("sinks", "display"): "display",
    ("exam", "id"): "exam",
}



def add_decision_args(p: argparse.ArgumentParser) -> None:
    """CLI overrides of the model's operating point and the hysteresis."""
    p.add_argument("--config", default=None, metavar="FILE.toml", help="settings file (see docs/configuration.md)")
    p.add_argument("--min-confidence", type=float, default=None, help="override the model's min_confidence (0..1)")
    p.add_argument("--ood-threshold", type=float, default=None, help="override the model's OOD entropy threshold")
    p.add_argument("--smoothing-tau-s", type=float, default=None, help="override the EMA time constant (s)")
    p.add_argument("--margin", type=float, default=None, help="hysteresis margin before the class changes (0..1)")
    p.add_argument("--min-dwell-s", type=float, default=None, help="minimum dwell before the class changes (s)")


def read_config(path: str | Path) -> dict[str, Any]:
    """{dest: value} from a TOML file; unknown sections or keys are an error naming them."""
    from liveredge.edge.errors import ConfigError

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from exc
    out: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"--config {path}: '{section}' must be a [section]; sections: {_sections()}")
        for key, value in table.items():
            dest = KEYS.get((section, key))
            if dest is None:
                raise ConfigError(f"--config {path}: unknown key [{section}] {key}; known: {_known(section)}")
            out[dest] = value
    return out


def apply_config(args: argparse.Namespace, defaults: dict[str, Any]) -> dict[str, Any]:
    """Fill ``args`` from ``--config`` where the command line kept the default; return the effective settings."""
    if getattr(args, "config", None):
        for dest, value in read_config(args.config).items():
            if getattr(args, dest, None) == defaults.get(dest):
                setattr(args, dest, value)
    return {dest: getattr(args, dest, None) for dest in sorted(set(KEYS.values()))}


def _sections() -> str:
    return ", ".join(sorted({s for s, _ in KEYS}))


def _known(section: str) -> str:
    keys = sorted(k for s, k in KEYS if s == section)
    return ", ".join(keys) if keys else f"(no such section; sections: {_sections()})"
