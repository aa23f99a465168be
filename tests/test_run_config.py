"""``liveredge run --config FILE.toml``: file settings, command-line overrides, clear errors, config logged."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runtime_fixtures import pubkey_args, signer_pub, tiny_model_path

from liveredge.cli.run_config import read_config
from liveredge.edge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model signed by a test key (a fleet key the run is told to trust)."""
    return tiny_model_path(tmp_path_factory.mktemp("run_config"))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_config_maps_sections_to_options(tmp_path: Path) -> None:
    cfg = read_config(
        _write(
            tmp_path,
            '[model]\npath = "m.tflite"\n[source]\nuri = "sim://"\nfps = 15\n'
            '[decisions]\nmargin = 0.2\n[serial]\nport = "/dev/ttyACM0"\n',
        )
    )
    assert cfg == {"model": "m.tflite", "source": "sim://", "fps": 15, "margin": 0.2, "serial": "/dev/ttyACM0"}


@pytest.mark.parametrize(
    "text, words",
    [
        ("[model]\npth = 1\n", ["unknown key [model] pth", "path"]),
        ("[nope]\nx = 1\n", ["unknown key [nope] x", "no such section"]),
        ("model = 3\n", ["must be a [section]"]),
        ("[model\n", ["not valid TOML"]),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        read_config(_write(tmp_path, text))
    for word in words:
        assert word in str(info.value)


def test_run_uses_file_cli_overrides_and_logs_effective_config(tmp_path: Path, model: Path) -> None:
    jsonl, db = tmp_path / "out.jsonl", tmp_path / "exams.db"
    cfg = _write(
        tmp_path,
        f'[model]\npath = "{model}"\npubkey = ["{signer_pub(model)}"]\n[source]\nuri = "sim://?condition=normal&site=S2&fps=60'
        f'&seed=3"\nmax_frames = 500\n[decisions]\nmin_confidence = 0.55\nmargin = 0.15\n'
        f'[sinks]\njsonl = "{jsonl}"\ndb = "{db}"\n[exam]\nid = "cfg-1"\n',
    )
    proc = subprocess.run(
        [sys.executable, "-m", "liveredge.cli.main", "run", "--config", str(cfg), "--max-frames", "12"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in jsonl.read_text().splitlines()]
    results = [e for e in events if e["type"] == "result"]
    assert 1 <= len(results) <= 12  # the command line's --max-frames won over the file's 500
    configs = [json.loads(e["detail"]) for e in events if e["type"] == "state" and e["state"] == "config"]
    assert len(configs) == 2  # at start and with the exam start
    assert configs[0]["margin"] == 0.15 and configs[0]["max_frames"] == 12
    assert configs[0]["operating_point"]["min_confidence"] == 0.55
    with sqlite3.connect(db) as conn:
        payloads = [row[0] for row in conn.execute("SELECT payload FROM records WHERE type = 'state'")]
    assert any('"config"' in p and "0.55" in p for p in payloads)


def test_out_of_range_override_is_a_usage_error(tmp_path: Path, model: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "liveredge.cli.main",
            "run",
            "--model",
            str(model),
            *pubkey_args(model),
            "--min-confidence",
            "1.5",
            "--max-frames",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "min_confidence" in proc.stderr


@pytest.mark.parametrize(
    "text, words",
    [
        ('[model]\nallow_unverified = "false"\n', ["[model] allow_unverified", "expected true/false", "str given"]),
        ('[model]\nthreads = "four"\n', ["[model] threads", "expected integer"]),
        ('[source]\nmax_frames = "3"\n', ["[source] max_frames", "expected integer"]),
        ("[model]\ndevice = 5\n", ["[model] device", "expected string", "int given"]),
        ("[source]\ntimeout = nan\n", ["[source] timeout", "out of range", "number > 0"]),
        ("[source]\nfps = inf\n", ["[source] fps", "out of range"]),
        ("[source]\nmax_frames = -1\n", ["[source] max_frames", "integer >= 1"]),
        ("[model]\nthreads = true\n", ["[model] threads", "bool given"]),
        ("[sinks]\ndisplay = 1\n", ["[sinks] display", "expected true/false"]),
        ('[source]\nrate = "fast"\n', ["[source] rate", '"realtime" or "max"']),
        ('[exam]\nid = "a\\u001b[2J"\n', ["[exam] id", "a\\x1b[2J", "printable"]),
        ("[limits]\nmax_frame_pixels = 0\n", ["[limits] max_frame_pixels", "integer >= 1"]),
    ],
)
def test_wrong_types_and_ranges_name_the_key_and_the_type(tmp_path: Path, text: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        read_config(_write(tmp_path, text))
    assert info.value.exit_code == 2
    for word in words:
        assert word in str(info.value)


def test_the_command_line_wins_even_when_it_repeats_the_default(tmp_path: Path) -> None:
    from liveredge.cli.main import build_parser
    from liveredge.cli.run_config import apply_config

    cfg = _write(tmp_path, '[source]\nrate = "max"\ntimeout = 9.0\nloop = true\n[model]\ndevice = "edgetpu"\n')
    args = build_parser().parse_args(["run", "--config", str(cfg), "--rate", "realtime", "--timeout", "2.0"])
    effective = apply_config(args, args.parser_defaults)
    assert (args.rate, args.timeout) == ("realtime", 2.0)  # equal to the defaults, still given: they win
    assert (args.loop, args.device) == (True, "edgetpu")  # not given: the file's
    assert effective["rate"] == "realtime" and effective["loop"] is True
    plain = build_parser().parse_args(["run"])
    apply_config(plain, plain.parser_defaults)
    assert (plain.rate, plain.timeout, plain.loop, plain.max_frames) == ("realtime", 2.0, False, None)


def test_the_docs_table_matches_the_schema() -> None:
    from liveredge.cli.run_config import SCHEMA

    rows, section = {}, ""
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            section = cells[0].strip("`[]") or section
            rows[(section, cells[1].strip("`"))] = (cells[2], cells[4].strip("`"))
    expected = {(k.section, k.key): (k.expected, f"--{k.dest.replace('_', '-')}") for k in SCHEMA}
    assert rows == expected


@pytest.mark.parametrize("threads", [0, -1, 257, True, 2.0])
def test_load_options_refuse_thread_counts_the_config_schema_refuses(threads: Any) -> None:
    """The interpreter thread range has one home (cores.MAX_THREADS): the API refuses what the TOML schema does."""
    from liveredge.cli.run_config import BY_DEST
    from liveredge.edge.runtime import LoadOptions
    from liveredge.edge.runtime.cores import MAX_THREADS

    assert BY_DEST["threads"].high == MAX_THREADS
    with pytest.raises(ConfigError, match="threads"):
        LoadOptions(num_threads=threads)


def test_schema_ranges_are_the_runtime_limits() -> None:
    """The schema's numeric bounds are RunConfig's own constants, not a second copy."""
    from liveredge.cli.run_config import BY_DEST
    from liveredge.edge.runtime.compose import MAX_DWELL_S, MAX_FPS, MAX_TIMEOUT_S, RATES

    assert (BY_DEST["fps"].high, BY_DEST["timeout"].high) == (MAX_FPS, MAX_TIMEOUT_S)
    assert BY_DEST["min_dwell_s"].high == BY_DEST["smoothing_tau_s"].high == MAX_DWELL_S
    assert BY_DEST["rate"].choices == RATES
