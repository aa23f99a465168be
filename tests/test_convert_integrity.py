"""Model integrity: sha256 sidecar and Ed25519 signatures, verified by the device-side module."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from liveredge.convert.signing import generate_keypair, sign_model
from liveredge.edge.errors import ConfigError, VerificationError
from liveredge.edge.integrity import (
    load_public_key,
    parse_sidecar,
    sha256_file,
    sidecar_path,
    signature_path,
    verify_model,
)


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
    out = subprocess.run(["sha256sum", "-c", sidecar_path(model).name], cwd=model.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    result = verify_model(model)
    assert result.sidecar == "ok" and result.signature == "absent" and not result.signed


def test_signed_model_verifies_with_its_key(model: Path, keys: tuple[Path, Path]) -> None:
    priv, pub = keys
    signed = sign_model(model, priv)
    result = verify_model(model, pub)
    assert result.signed and result.key_id == signed.key_id
    assert verify_model(model).signature == "unchecked"
    assert (priv.stat().st_mode & 0o777) == 0o600


def test_byte_flipped_model_fails(model: Path, keys: tuple[Path, Path]) -> None:
    sign_model(model, keys[0])
    data = bytearray(model.read_bytes())
    data[100] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="does not match"):
        verify_model(model)
    with pytest.raises(VerificationError):
        verify_model(model, keys[1])


def test_wrong_key_or_altered_signature_fails(model: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    sign_model(model, keys[0])
    other_priv, other_pub = tmp_path / "o.key", tmp_path / "o.pub"
    generate_keypair(other_priv, other_pub)
    with pytest.raises(VerificationError, match="signature does not match"):
        verify_model(model, other_pub)
    sign_model(model, other_priv)  # re-signed by another key: hash still fine, signature not ours
    with pytest.raises(VerificationError, match="signature"):
        verify_model(model, keys[1])


def test_missing_pieces_are_named(model: Path, keys: tuple[Path, Path]) -> None:
    with pytest.raises(VerificationError, match="sha256 is missing"):
        verify_model(model)
    assert verify_model(model, require_sidecar=False).sidecar == "absent"
    sign_model(model)
    with pytest.raises(VerificationError, match="sig is missing"):
        verify_model(model, keys[1])
    signature_path(model).write_text("not base64 !!\n")
    with pytest.raises(VerificationError, match="base64"):
        verify_model(model, keys[1])
    with pytest.raises(VerificationError, match="not found"):
        verify_model(model.parent / "absent.tflite")


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
    sign_model(bad, tmp_path / "k.key")
    good = tmp_path / "good.tflite"
    good.write_bytes(fixture.read_bytes())
    sign_model(good, tmp_path / "k.key")
    assert main(["verify", str(good), "--pubkey", str(tmp_path / "k.pub")]) == 0
    assert "metadata matches the graph" in capsys.readouterr().out
    assert main(["verify", str(bad), "--pubkey", str(tmp_path / "k.pub")]) != 0
    err = capsys.readouterr().err
    expected = "disagrees with its metadata" if change == "input_size" else "5 labels"
    assert "bad.tflite" in err and expected in err
