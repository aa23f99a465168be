"""Device-side integrity primitives: SHA-256 and its ``sha256sum`` sidecar, Ed25519 public keys and signatures.

``M.tflite.sha256`` — ``sha256sum`` format: ``<64 lowercase hex>  M.tflite`` and a newline, so ``sha256sum -c``
works in the model's folder. It is an UNSIGNED transport check: a mismatch is refused, a match proves nothing
about who made the model. Trust comes only from a signed statement (:mod:`liveredge.edge.statement`, decided by
:func:`liveredge.edge.trust.check_model`).

Public keys are read as PEM (``-----BEGIN PUBLIC KEY-----``, SubjectPublicKeyInfo), OpenSSH ``ssh-ed25519 ...``,
raw 32 bytes, or 32 bytes base64/hex encoded. The key id is the first 16 hex digits of SHA-256 of the raw key.
Only ``cryptography`` is needed (the ``edge`` extra), imported when a key or signature is parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from liveredge.edge.bounds import read_bounded
from liveredge.edge.errors import ConfigError, VerificationError

KEY_FILE_MAX = 64 << 10
"""Largest public-key or signature file read (bytes); both are well under 1 KiB."""

SHA256_SUFFIX = ".sha256"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_model`: the file's SHA-256 and its sidecar state, "ok" or "absent"."""

    path: str
    sha256: str
    sidecar: str


def sha256_file(path: str | Path) -> str:
    """Lowercase hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise VerificationError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    return digest.hexdigest()


def sidecar_path(model: str | Path) -> Path:
    """``M.tflite`` → ``M.tflite.sha256``."""
    return Path(str(model) + SHA256_SUFFIX)


def format_sidecar(digest: str, filename: str) -> str:
    """One ``sha256sum`` line: ``<hex>  <filename>\\n``."""
    return f"{digest}  {filename}\n"


def write_sidecar(model: str | Path, digest: str | None = None) -> Path:
    """Write ``model.sha256`` beside ``model`` (``digest``, or the file's hash); returns the sidecar path."""
    out = sidecar_path(model)
    out.write_text(format_sidecar(digest or sha256_file(model), Path(model).name), encoding="utf-8")
    return out


def parse_sidecar(text: str, source: str = "sidecar") -> str:
    """The hex digest in a ``sha256sum`` line (the first line; a ``*`` binary marker is allowed)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    digest = line.split()[0].lower() if line.split() else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise VerificationError(f"{source}: not a sha256sum line (expected '<64 hex>  NAME'), got {line[:80]!r}")
    return digest


def raw_public_key(data: bytes) -> bytes:
    """32 raw Ed25519 public-key bytes from PEM, OpenSSH, raw, base64 or hex encodings."""
    text = data.strip()
    if text.startswith(b"-----BEGIN") or text.startswith(b"ssh-ed25519"):
        return _raw_from_serialized(text)
    if len(data) == 32:
        return data
    for decode in (base64.b64decode, binascii.unhexlify):
        try:
            raw = decode(text)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw
    raise ConfigError("public key is not Ed25519 (expected PEM, 'ssh-ed25519 ...', or 32 raw/base64/hex bytes)")


def _raw_from_serialized(text: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = (
            serialization.load_ssh_public_key(text)
            if text.startswith(b"ssh-ed25519")
            else serialization.load_pem_public_key(text)
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"public key cannot be parsed: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"public key is {type(key).__name__}, not Ed25519")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(raw_key: bytes) -> str:
    """Short fingerprint of a raw public key: first 16 hex digits of its SHA-256."""
    return hashlib.sha256(raw_key).hexdigest()[:16]


def load_public_key(key: str | Path | bytes) -> bytes:
    """Raw public key from a file path or from the key bytes themselves."""
    if isinstance(key, bytes):
        return raw_public_key(key)
    return raw_public_key(read_bounded(key, "public key", KEY_FILE_MAX))  # a FIFO or /dev/zero fails at once


def verify_signature(payload: bytes, signature: bytes, raw_key: bytes, source: str = "model") -> None:
    """Raise :class:`VerificationError` unless ``signature`` is a valid Ed25519 signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, payload)
    except InvalidSignature as exc:
        raise VerificationError(
            f"{source}: the Ed25519 signature does not match (key {key_id(raw_key)}); the signed content was "
            "altered or signed with another key — do not load it"
        ) from exc


def verify_model(path: str | Path, *, require_sidecar: bool = True) -> VerifyResult:
    """Check a model file against its ``.sha256`` sidecar (a transport check, not trust: see module doc).

    Raises :class:`VerificationError` on a missing file, a missing sidecar (when required) or a mismatch.
    """
    model = Path(path)
    if not model.is_file():
        raise VerificationError(f"{model}: model file not found")
    digest = sha256_file(model)
    return VerifyResult(str(model), digest, _check_sidecar(model, digest, require_sidecar))


def _check_sidecar(model: Path, digest: str, required: bool) -> str:
    side = sidecar_path(model)
    if not side.is_file():
        if required:
            raise VerificationError(f"{model}: {side.name} is missing; write it with 'liveredge sign' or sha256sum")
        return "absent"
    expected = parse_sidecar(side.read_text(encoding="utf-8", errors="replace"), str(side))
    if not hmac.compare_digest(expected, digest):
        raise VerificationError(
            f"{model}: SHA-256 {digest[:16]}... does not match {side.name} ({expected[:16]}...); the file is "
            "corrupt or was modified — do not load it"
        )
    return "ok"
