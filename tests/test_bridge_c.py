"""The C99 reference codec, compiled with warnings as errors, decodes the shared vectors exactly as Python does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from liveredge.firmware_bridge import vectors as vectors_module
from liveredge.firmware_bridge.codec import DecodeError, FrameDecoder, decode_frame
from liveredge.firmware_bridge.messages import SCHEMA_HASH, field_values

C_DIR = Path(vectors_module.__file__).with_name("c")
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]


def _vector_lines(vectors: list[dict]) -> str:
    lines = []
    for v in vectors:
        extra = ""
        if v["expect"] == "ok":
            extra = f" {v['type']} {v['seq']} {v['flags']} {len(v['fields'])} " + " ".join(map(str, v["fields"]))
        lines.append(f"V {v['name']} {v['expect']} {v['hex']}{extra}")
    return "\n".join(lines) + "\n"


def _rule_lines(rules: list[dict]) -> str:
    return "".join(f"R {r['name']} {r['role']} {r['verdict']} {r['hex']}\n" for r in rules)


def _python_line(name: str, mode: str, outcome: object) -> str:
    if isinstance(outcome, DecodeError):
        return f"{name} {mode} {outcome.kind}"
    fields = ",".join(map(str, field_values(outcome.message)))  # type: ignore[attr-defined]
    return f"{name} {mode} ok {outcome.msg_type} {outcome.seq} {outcome.flags} {fields}"  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def c_output(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no system C compiler (cc) on PATH")
    work = tmp_path_factory.mktemp("lrb")
    exe = work / "lrb_vectors_test"
    build = subprocess.run(
        [cc, *CFLAGS, "-o", str(exe), str(C_DIR / "lrb.c"), str(C_DIR / "lrb_vectors_test.c")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert build.returncode == 0, build.stderr
    lines_file = work / "vectors.txt"
    doc = json.loads(vectors_module.VECTORS_PATH.read_text())
    lines_file.write_text(_vector_lines(doc["vectors"]) + _rule_lines(doc["rules"]))
    run = subprocess.run([str(exe), str(lines_file)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.splitlines()


def test_c_schema_and_crc_match_python(c_output: list[str]) -> None:
    assert f"schema 0x{SCHEMA_HASH:08x}" in c_output
    assert "crc_check 0xcbf43926" in c_output
    assert not [line for line in c_output if line.startswith("FAIL")]


def test_c_decodes_every_vector_like_python(c_output: list[str]) -> None:
    vectors = json.loads(vectors_module.VECTORS_PATH.read_text())["vectors"]
    expected = []
    for v in vectors:
        data = bytes.fromhex(v["hex"])
        expected.append(_python_line(v["name"], "whole", decode_frame(data[:-1])))
        expected.append(_python_line(v["name"], "bytes", FrameDecoder().feed(data)[0]))
        if v["expect"] == "ok":
            expected.append(f"{v['name']} encode ok")
    got = [line for line in c_output if line.split(" ")[0] in {v["name"] for v in vectors}]
    assert got == expected


def test_c_stream_of_all_vectors_matches_python(c_output: list[str]) -> None:
    vectors = json.loads(vectors_module.VECTORS_PATH.read_text())["vectors"]
    stream = b"".join(bytes.fromhex(v["hex"]) for v in vectors)
    py = ["ok" if not isinstance(o, DecodeError) else o.kind for o in FrameDecoder().feed(stream)]
    assert py == [v["expect"] for v in vectors]
    assert ("stream " + " ".join(py)) in c_output


def test_c_applies_the_receiver_rules_like_the_spec(c_output: list[str]) -> None:
    """Direction, value ranges, which types are acknowledged, reserved quality bits (spec §9.1)."""
    rules = json.loads(vectors_module.VECTORS_PATH.read_text())["rules"]
    expected = []
    for r in rules:
        quality = f" quality {r['quality_delivered']}" if "quality_delivered" in r else ""
        expected.append(f"{r['name']} rule {r['verdict']}{quality}")
    assert [line for line in c_output if " rule " in line] == expected
    assert {r["verdict"] for r in rules} >= {"deliver", "ack", "nack_unknown_type", "nack_bad_payload", "control"}
