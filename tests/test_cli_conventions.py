"""Conventions integrators expect from the ``liveredge`` command (issue 16): help for every argument with its
default, the exit-code table (in --help and in docs/cli.md), --version, doctor/verify --json, deploy-files, and
JSONL output that validates against the published schema (real runs of the shipped, signed model on the
simulator: SIMULATED data, not for clinical use)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from liveredge.cli.main import build_parser, main
from liveredge.cli.parsing import EXIT_CODES
from liveredge.edge import __version__
from liveredge.edge.shipped import DEPLOY_FILES, default_model, shipped_files

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "jsonl-record.schema.json").read_text())
CLI = [sys.executable, "-m", "liveredge.cli.main"]


def _parsers(parser: argparse.ArgumentParser, path: str = "liveredge") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _parsers(sub, f"{path} {name}")
    return found


def test_every_argument_of_every_command_has_help() -> None:
    missing = [
        f"{path}: {a.option_strings or a.dest}"
        for path, p in _parsers(build_parser())
        for a in p._actions
        if not a.help
        and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))
        and not (isinstance(a, argparse._SubParsersAction) and path == "liveredge")
    ]
    assert missing == []


def test_help_shows_real_defaults_never_placeholders() -> None:
    out = subprocess.run([*CLI, "run", "--help"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(out.split())
    assert "<unset>" not in flat and "(default: None)" not in flat
    assert "(default: cpu)" in flat and "(default: 2.0)" in flat
    assert str(default_model()) in flat.replace(" ", "") or default_model().name in flat


def test_version_and_exit_code_table_match_their_homes() -> None:
    out = subprocess.run([*CLI, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"liveredge {metadata.version('liveredge')}" == f"liveredge {__version__}"
    helptext = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True).stdout
    docs = (ROOT / "docs" / "cli.md").read_text()
    for code, meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", helptext, re.M), code
        assert f"| {code} | {meaning} |" in docs, code


def test_doctor_json_reports_the_shipped_model_verified(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["liveredge"] == __version__
    assert report["shipped_model"]["verified"] and report["shipped_model"]["statement"].endswith("release")
    assert "importable" in report["interpreters"].values()


def test_verify_json_says_why_a_tampered_copy_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = default_model()
    assert main(["verify", "--json", str(model)]) == 0
    good = json.loads(capsys.readouterr().out)
    assert good["loads"] and good["verified"] and good["statement"]["role"] == "release"
    assert "all integer" in good["contract"]
    copy = tmp_path / model.name
    data = model.read_bytes()
    # one byte changed (flipped: the file may already end in a zero, e.g. the labels.txt zip's comment length);
    # the signed statement travels along
    copy.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    shutil.copy(model.with_name(model.name + ".statement.json"), tmp_path)
    assert main(["verify", "--json", str(copy)]) == 1
    bad = json.loads(capsys.readouterr().out)
    assert bad["loads"] is False and "sha256" in bad["error"].lower()


def test_deploy_files_are_copied_and_never_overwritten_silently(tmp_path: Path) -> None:
    assert main(["deploy-files", str(tmp_path / "d")]) == 0
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted(DEPLOY_FILES)
    assert "ExecStart=" in (tmp_path / "d" / "liveredge.service").read_text()
    assert main(["deploy-files", str(tmp_path / "d")]) == 2
    assert main(["deploy-files", str(tmp_path / "d"), "--force"]) == 0


def test_every_promised_file_exists_in_the_checkout() -> None:
    missing = [str(p) for p in shipped_files() if not p.is_file()]
    assert missing == []


def test_run_output_validates_against_the_published_schema(tmp_path: Path) -> None:
    """A real run of the shipped model, one exam: every JSONL line (header, states, results, the exam summary)
    validates; a record with an unknown field does not (the schema is closed, so drift is caught)."""
    out = tmp_path / "run.jsonl"
    done = subprocess.run(
        [
            *CLI,
            "run",
            "--source",
            "sim://?condition=fibrosis&severity=4&fps=30&seed=3",
            "--max-frames",
            "45",
            "--exam",
            "e1",
            "--jsonl",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert [list(validator.iter_errors(r)) for r in records] == [[] for _ in records]
    kinds = {r["type"] for r in records}
    assert {"header", "state", "result", "exam_summary"} <= kinds
    summary = next(r for r in records if r["type"] == "exam_summary")
    jsonschema.validate(summary, {**SCHEMA["$defs"]["exam_summary"], "$defs": SCHEMA["$defs"]})
    assert not validator.is_valid({**summary, "surprise": 1})
    assert "\r" not in done.stderr  # progress stays quiet when stderr is not a terminal


def test_inspect_json_gives_the_contract_table_and_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--json", str(default_model())]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["contract"]["ok"] and doc["contract"]["rows"] and all(r["status"] == "ok" for r in doc["contract"]["rows"])
    )
    assert doc["metadata"]["labels"][:4] == ["normal", "steatosis", "fibrosis", "focal_lesion"]
