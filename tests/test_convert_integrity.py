"""Model integrity: the sha256 transport sidecar, Ed25519 keys, and signed statements (workstation signer,
device-side parser). The trust decision itself is tested in tests/test_trust.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from liveredge.convert.signing import SignRequest, generate_keypair, make_statement, sign_model
from liveredge.edge.errors import ConfigError, VerificationError
from liveredge.edge.integrity import load_public_key, parse_sidecar, sha256_file, sidecar_path, verify_model
from liveredge.edge.statement import canonical_bytes, statement_path
from liveredge.edge.statement import parse_sidecar as parse_statement

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_int8.tflite"


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    path = tmp_path / "m.tflite"
    path.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 8)
    return path


@pytest.fixture()
def keys(tmp_path: Path) -> tuple[Path, Path]:
    priv, pub = tmp_path / "k" / "zoo.key", tmp_path / "zoo.pub"
    generate_keypair(priv, pub)
    return priv, pub


def test_sha256_matches_hashlib_and_sha256sum_reads_the_sidecar(model: Path) -> None:
    assert sha256_file(model) == hashlib.sha256(model.read_bytes()).hexdigest()
    sign_model(model)
    out = subprocess.run(
        ["sha256sum", "-c", sidecar_path(model).name], cwd=model.parent, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert verify_model(model).sidecar == "ok"
    assert not statement_path(model).exists()  # hashing alone vouches for nothing


def test_signed_statement_is_canonical_json_over_the_bytes(model: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    signed = sign_model(model, priv, SignRequest("dev", 3, name="m", target="cpu"))
    doc = json.loads(statement_path(model).read_text())
    assert doc["statement"] == {
        "format": 1,
        "name": "m",
        "version": 3,
        "role": "dev",
        "target": "cpu",
        "gate": "none",
        "sha256": sha256_file(model),
    }
    parsed = parse_statement(statement_path(model).read_bytes(), "s")
    assert parsed.payload == canonical_bytes(doc["statement"])
    assert parsed.payload == json.dumps(doc["statement"], sort_keys=True, separators=(",", ":")).encode()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(load_public_key(pub)).verify(parsed.signature, parsed.payload)  # no raise
    assert parsed.key_id == signed.key_id and (priv.stat().st_mode & 0o777) == 0o600


def test_signer_refuses_a_release_of_a_gate_failed_model(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    from dataclasses import replace

    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.model_meta import read_metadata

    meta = read_metadata(FIXTURE)
    assert meta is not None
    failed = embed_metadata(FIXTURE.read_bytes(), replace(meta, gate={"passed": False}))
    with pytest.raises(ConfigError, match="only a gate-passed model may be signed as release"):
        make_statement(failed, SignRequest("release", 1), "failed.tflite")
    with pytest.raises(ConfigError, match="only a gate-passed model may be signed as release"):
        make_statement(failed, SignRequest("release", 1, gate="passed"), "failed.tflite")  # no lying either
    assert make_statement(failed, SignRequest("rejected", 1), "failed.tflite").gate == "failed"
    with pytest.raises(ConfigError, match="version"):
        make_statement(failed, SignRequest("rejected", 0), "failed.tflite")


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda d: d["statement"].update(version=2), "signature does not match"),
        (lambda d: d["statement"].update(role="release"), "signature does not match"),
        (lambda d: d["statement"].update(version="2"), "'version' must be an integer"),
        (lambda d: d["statement"].update(extra=1), "unknown"),
        (lambda d: d.update(signature="!!"), "base64"),
        (lambda d: d["statement"].update(role="prod"), "role 'prod' is not one of"),
    ],
)
def test_edited_statements_are_refused(model: Path, keys: tuple[Path, Path], edit: object, words: str) -> None:
    from liveredge.edge.trust import TrustPolicy, check_model

    sign_model(model, keys[0], SignRequest("dev", 1, name="m"))
    policy = TrustPolicy(extra_keys=(keys[1],), release_key=None, allow_dev=True, state_dir=model.parent / "st")
    assert check_model(model.read_bytes(), model, policy).verified
    doc = json.loads(statement_path(model).read_text())
    edit(doc)  # type: ignore[operator]
    statement_path(model).write_text(json.dumps(doc))
    with pytest.raises(VerificationError, match=words):
        check_model(model.read_bytes(), model, policy)


def test_missing_pieces_are_named(model: Path) -> None:
    with pytest.raises(VerificationError, match="sha256 is missing"):
        verify_model(model)
    assert verify_model(model, require_sidecar=False).sidecar == "absent"
    with pytest.raises(VerificationError, match="not found"):
        verify_model(model.parent / "absent.tflite")
    with pytest.raises(ConfigError, match="role"):
        sign_model(model, model.parent / "nokey", None)


def test_key_encodings_and_bad_inputs(keys: tuple[Path, Path], tmp_path: Path) -> None:
    raw = load_public_key(keys[1])
    assert len(raw) == 32
    assert load_public_key(raw.hex().encode()) == raw
    with pytest.raises(ConfigError):
        load_public_key(b"hello")
    with pytest.raises(ConfigError, match="exists"):
        generate_keypair(keys[0], tmp_path / "x.pub")
    with pytest.raises(VerificationError, match="sha256sum"):
        parse_sidecar("nonsense", "x.sha256")


@pytest.mark.parametrize("change", ["input_size", "labels"])
def test_verify_fails_when_the_metadata_disagrees_with_the_graph(
    tmp_path: Path, change: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A correctly hashed and signed model whose metadata does not describe its own graph (wrong input size,
    wrong label count) must fail ``liveredge verify``: the runtime would refuse it later, at the bedside."""
    from dataclasses import replace

    from liveredge.cli.main import main
    from liveredge.convert.embed import embed_metadata
    from liveredge.edge.model_meta import read_metadata

    fixture = Path(__file__).parent / "fixtures" / "tiny_int8.tflite"
    meta = read_metadata(fixture)
    assert meta is not None
    if change == "input_size":
        h, w = meta.preprocess.input_size
        meta = replace(meta, preprocess=replace(meta.preprocess, input_size=(h * 2, w * 2)))
    else:
        meta = replace(meta, labels=(*meta.labels, "extra_class"))
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(embed_metadata(fixture.read_bytes(), meta))
    generate_keypair(tmp_path / "k.key", tmp_path / "k.pub")
    sign_model(bad, tmp_path / "k.key", SignRequest("release", 1, gate="passed"))
    good = tmp_path / "good.tflite"
    good.write_bytes(fixture.read_bytes())
    sign_model(good, tmp_path / "k.key", SignRequest("release", 1, gate="passed"))
    assert main(["verify", str(good), "--pubkey", str(tmp_path / "k.pub")]) == 0
    assert "metadata matches the graph" in capsys.readouterr().out
    assert main(["verify", str(bad), "--pubkey", str(tmp_path / "k.pub")]) != 0
    err = capsys.readouterr().err
    expected = "differs from its metadata" if change == "input_size" else "5 labels"
    assert "bad.tflite" in err and expected in err
