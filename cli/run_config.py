"""``liveredge run --config FILE.toml``: the run's settings in one file, with command-line overrides.

:data:`SCHEMA` is the one home of every key: section, key, the argparse dest it fills, its type and range, and a
line of documentation (docs/configuration.md's table is checked against it by a test). Sections::

    [model]      path, threads, device, pubkey (a path or a list: extra trusted keys), allow_unverified,
                 allow_dev, allow_rollback, state_dir, cpu_fallback, site (SITE.json from adapt)
    [source]     uri, rate ("realtime" | "max"), fps, loop, timeout (s), max_frames
    [decisions]  min_confidence (0..1), ood_threshold (0..1), smoothing_tau_s (s), margin (0..1), min_dwell_s (s)
    [serial]     port
    [sinks]      jsonl ("-" = stdout), db, record, display
    [exam]       id
    [limits]     max_frame_pixels, max_dicom_mib

Every value is checked for its type (a string "false" is not a boolean, 1 is not ``true``), finiteness and range,
from the file and from the command line alike; a wrong one is a :class:`ConfigError` (exit 2) naming the key and
the expected type. A flag given on the command line always wins over the file, even when it repeats the default:
:func:`cli_defaults` replaces the parser's defaults by a sentinel so :func:`apply_config` can tell "given" from
"defaulted". The file is read with a size cap (``--config /dev/zero`` fails at once).

The effective configuration (file + overrides + the model's own operating point) is emitted as a ``config``
state event at start and again with every exam start, so JSONL logs, the SQLite exam log and recordings carry it.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveredge.edge.bounds import DEFAULT_LIMITS, check_exam_id, check_path, read_bounded
from liveredge.edge.errors import ConfigError
from liveredge.edge.runtime.compose import MAX_DWELL_S, MAX_FPS, MAX_TIMEOUT_S, RATES
from liveredge.edge.runtime.cores import MAX_THREADS


@dataclass(frozen=True)
class Key:
    """One setting: where it lives, the argparse dest, its type ("str", "path", "paths" (one path or a list of
    them), "bool", "int", "float", "choice"),
    inclusive/exclusive bounds, choices, and the documentation line."""

    section: str
    key: str
    dest: str
    type: str
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        """The expected type and range in words (used by errors and the docs table)."""
        if self.type == "choice":
            return " or ".join(f'"{c}"' for c in self.choices)
        words = {
            "str": "string",
            "path": "path string",
            "paths": "path string or list of them",
            "bool": "true/false",
            "int": "integer",
            "float": "number",
        }[self.type]
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        hi = "" if self.high is None else f"<= {self.high:g}"
        rng = ", ".join(x for x in (lo, hi) if x)
        return f"{words} {rng}".strip()


SCHEMA: tuple[Key, ...] = (
    Key("model", "path", "model", "path", "int8 `.tflite` with liveredge metadata"),
    Key(
        "model",
        "pubkey",
        "pubkey",
        "paths",
        "extra trusted Ed25519 public key(s) (fleet keys) beside the packaged release key",
    ),
    Key(
        "model",
        "allow_unverified",
        "allow_unverified",
        "bool",
        "run a model with no signed statement (every record says so)",
    ),
    Key("model", "allow_dev", "allow_dev", "bool", "also run models whose signed role is `dev`"),
    Key(
        "model",
        "allow_rollback",
        "allow_rollback",
        "bool",
        "run a release older than the highest version this device accepted",
    ),
    Key("model", "state_dir", "state_dir", "path", "where the anti-rollback record lives (`versions.json`)"),
    Key("model", "site", "site", "path", "SITE.json from `liveredge adapt` (scanner harmonisation)"),
    Key("model", "threads", "threads", "int", "interpreter threads", low=1, high=MAX_THREADS),
    Key("model", "device", "device", "str", "`cpu`, `edgetpu`, `edgetpu:usb:0`, `edgetpu:pci:0`"),
    Key("model", "cpu_fallback", "cpu_fallback", "bool", "run on the CPU when the Edge TPU cannot be used"),
    Key("source", "uri", "source", "str", "`sim://...`, path, `dicom://`, `v4l2://`, `rtsp://`, `http://`"),
    Key(
        "source",
        "rate",
        "rate",
        "choice",
        "`realtime` or `max` (files: every frame, no drops)",
        choices=RATES,
    ),
    Key("source", "fps", "fps", "float", "replay rate of stored media", low=0, high=MAX_FPS, low_open=True),
    Key("source", "loop", "loop", "bool", "replay stored media forever"),
    Key(
        "source",
        "timeout",
        "timeout",
        "float",
        "seconds without a frame before the watchdog reconnects",
        low=0,
        high=MAX_TIMEOUT_S,
        low_open=True,
    ),
    Key("source", "max_frames", "max_frames", "int", "stop after N frames", low=1),
    Key(
        "decisions",
        "min_confidence",
        "min_confidence",
        "float",
        "below it a frame is `uncertain` (overrides the model's operating point)",
        low=0,
        high=1,
        low_open=True,
    ),
    Key(
        "decisions",
        "ood_threshold",
        "ood_threshold",
        "float",
        "normalised entropy above which a frame is out of distribution",
        low=0,
        high=1,
        low_open=True,
    ),
    Key(
        "decisions",
        "smoothing_tau_s",
        "smoothing_tau_s",
        "float",
        "EMA time constant in seconds",
        low=0,
        high=MAX_DWELL_S,
        low_open=True,
    ),
    Key("decisions", "margin", "margin", "float", "hysteresis margin before the reported class changes", low=0, high=1),
    Key(
        "decisions",
        "min_dwell_s",
        "min_dwell_s",
        "float",
        "minimum dwell before the reported class changes (s)",
        low=0,
        high=MAX_DWELL_S,
    ),
    Key("serial", "port", "serial", "path", "the MCU's serial port (use the udev name, e.g. `/dev/liveredge-mcu`)"),
    Key("sinks", "jsonl", "jsonl", "path", "JSONL events (`-` = stdout)"),
    Key("sinks", "db", "db", "path", "SQLite exam log (WAL; committed records survive kill -9)"),
    Key("sinks", "record", "record", "path", "folder for raw frames + results"),
    Key("sinks", "display", "display", "bool", "overlay window when a display exists"),
    Key("exam", "id", "exam", "str", "record the whole run as one exam (1..64 printable characters)"),
    Key(
        "limits",
        "max_frame_pixels",
        "max_frame_pixels",
        "int",
        f"largest frame (width x height) decoded or processed; default {DEFAULT_LIMITS.max_frame_pixels}",
        low=1,
    ),
    Key(
        "limits",
        "max_dicom_mib",
        "max_dicom_mib",
        "int",
        "largest DICOM dataset inflated / pixel data decoded at once, MiB; default "
        f"{DEFAULT_LIMITS.max_decoded_bytes >> 20}",
        low=1,
    ),
)
BY_PLACE: dict[tuple[str, str], Key] = {(k.section, k.key): k for k in SCHEMA}
BY_DEST: dict[str, Key] = {k.dest: k for k in SCHEMA}
KEYS: dict[tuple[str, str], str] = {place: k.dest for place, k in BY_PLACE.items()}  # (section, key) -> dest


class _Unset:
    """The default of every schema flag: "not given on the command line"."""

    hide_in_help = True  # cli.parsing.HelpFormatter shows the real default, folded into the help by cli_defaults

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


def add_decision_args(p: argparse.ArgumentParser) -> None:
    """CLI overrides of the model's operating point and the hysteresis, ``--config`` and the input limits."""
    p.add_argument("--config", default=None, metavar="FILE.toml", help="settings file (see docs/configuration.md)")
    p.add_argument("--min-confidence", type=float, default=None, help="override the model's min_confidence (0..1)")
    p.add_argument("--ood-threshold", type=float, default=None, help="override the model's OOD entropy threshold")
    p.add_argument("--smoothing-tau-s", type=float, default=None, help="override the EMA time constant (s)")
    p.add_argument("--margin", type=float, default=None, help="hysteresis margin before the class changes (0..1)")
    p.add_argument("--min-dwell-s", type=float, default=None, help="minimum dwell before the class changes (s)")
    p.add_argument(
        "--max-frame-pixels",
        type=int,
        default=None,
        metavar="N",
        help="refuse frames larger than N pixels (default 4096x4096)",
    )
    p.add_argument(
        "--max-dicom-mib",
        type=int,
        default=None,
        metavar="MIB",
        help="refuse DICOM data that would inflate/decode to more than MIB at once (default 512)",
    )


def cli_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Replace the defaults of the schema's flags by :data:`UNSET`; return the real defaults ({dest: default})."""
    defaults: dict[str, Any] = {}
    for action in parser._actions:
        if action.dest in BY_DEST:
            defaults[action.dest] = action.default
            _fold_default(action)
            if not isinstance(action, argparse._AppendAction):  # append needs a list or None: None = not given
                action.default = UNSET
    return defaults


def _fold_default(action: argparse.Action) -> None:
    """Write the real default into the help text before the default becomes UNSET (help shows the real one)."""
    shown = str(action.default).replace("%", "%%")
    if action.help and "%(default)s" in action.help:
        action.help = action.help.replace("%(default)s", shown)
    elif action.default not in (None, False) and action.help and "default" not in action.help:
        action.help += f" (default: {shown})"


def read_config(path: str | Path) -> dict[str, Any]:
    """{dest: value} from a TOML file, every value checked; unknown sections or keys are an error naming them."""
    where = f"--config {path}"
    try:
        data = tomllib.loads(read_bounded(path, "--config").decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from exc
    out: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: '{section}' must be a [section]; sections: {_sections()}")
        for key, value in table.items():
            spec = BY_PLACE.get((section, key))
            if spec is None:
                raise ConfigError(f"{where}: unknown key [{section}] {key}; known: {_known(section)}")
            out[spec.dest] = check_value(spec, value, f"{where}: [{section}] {key}")
    return out


def apply_config(args: argparse.Namespace, defaults: dict[str, Any]) -> dict[str, Any]:
    """Effective settings into ``args``: the command line where given, else the file, else the default; every
    value checked against the schema. Returns {dest: value} of every schema key."""
    from_file = read_config(args.config) if getattr(args, "config", None) else {}
    for dest, spec in BY_DEST.items():
        given = getattr(args, dest, UNSET)
        if given is UNSET or (given is None and spec.type == "paths"):
            setattr(args, dest, from_file.get(dest, defaults.get(dest)))
        elif given is not None:
            flag = f"--{dest.replace('_', '-')} ([{spec.section}] {spec.key})"
            setattr(args, dest, check_value(spec, given, flag))
    _apply_limits(args)
    return {dest: getattr(args, dest, None) for dest in sorted(BY_DEST)}


def _apply_limits(args: argparse.Namespace) -> None:
    """Make ``[limits]`` / ``--max-frame-pixels`` / ``--max-dicom-mib`` the process-wide input limits."""
    from liveredge.edge.bounds import Limits, configure

    pixels, mib = getattr(args, "max_frame_pixels", None), getattr(args, "max_dicom_mib", None)
    configure(
        Limits(
            max_frame_pixels=pixels or DEFAULT_LIMITS.max_frame_pixels,
            max_decoded_bytes=(mib << 20) if mib else DEFAULT_LIMITS.max_decoded_bytes,
        )
    )


def check_value(spec: Key, value: Any, where: str) -> Any:
    """``value`` when it has the key's type and lies in its range; ConfigError naming ``where`` and the type."""
    check = _CHECKS[spec.type]
    if not check(value):
        raise ConfigError(f"{where} = {value!r}: expected {spec.expected} ({type(value).__name__} given)")
    if spec.type in ("int", "float") and not _in_range(spec, float(value)):
        raise ConfigError(f"{where} = {value!r}: out of range; expected {spec.expected}")
    if spec.type == "choice" and value not in spec.choices:
        raise ConfigError(f"{where} = {value!r}: expected {spec.expected}")
    if spec.type == "path" and value != "-":
        check_path(value, where)
    if spec.type == "paths":
        for item in [value] if isinstance(value, str) else value:
            check_path(item, where)
    if spec.dest == "exam":
        check_exam_id(value, where)
    return float(value) if spec.type == "float" else value


def _in_range(spec: Key, x: float) -> bool:
    if not math.isfinite(x):
        return False
    if spec.low is not None and (x < spec.low or (spec.low_open and x == spec.low)):
        return False
    return spec.high is None or x <= spec.high


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str) and v != "",
    "path": lambda v: isinstance(v, str) and v != "",
    "paths": lambda v: (
        (isinstance(v, str) and v != "")
        or (isinstance(v, list) and bool(v) and all(isinstance(x, str) and x != "" for x in v))
    ),
    "choice": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _sections() -> str:
    return ", ".join(sorted({k.section for k in SCHEMA}))


def _known(section: str) -> str:
    keys = sorted(k.key for k in SCHEMA if k.section == section)
    return ", ".join(keys) if keys else f"(no such section; sections: {_sections()})"
