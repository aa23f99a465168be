"""Device-side model integrity: SHA-256 sidecar and Ed25519 detached-signature verification.

Files beside a model ``M.tflite`` (written by ``liveredge convert`` / ``liveredge sign`` on the workstation):

* ``M.tflite.sha256`` — ``sha256sum`` format: ``<64 lowercase hex>  M.tflite`` followed by a newline, so
  ``sha256sum -c M.tflite.sha256`` works in the model's folder.
* ``M.tflite.sig`` — Ed25519 signature (64 bytes) over the exact bytes of ``M.tflite``, stored base64-encoded on
  one line (raw 64-byte files are accepted too).

Public keys are read as PEM (``-----BEGIN PUBLIC KEY-----``, SubjectPublicKeyInfo), OpenSSH ``ssh-ed25519 ...``,
raw 32 bytes, or 32 bytes base64/hex encoded. The key id is the first 16 hex digits of SHA-256 of the raw key.

:func:`verify_model` is what the runtime calls before loading a model; it raises
:class:`~liveredge.edge.errors.VerificationError` naming the file and the failed check. Only ``cryptography``
is needed (the ``edge`` extra), imported when a signature is checked.
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
SIG_SUFFIX = ".sig"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_model`. ``signature`` is "ok", "absent" (no key given, no .sig) or
    "unchecked" (a .sig exists but no public key was given); ``sidecar`` is "ok" or "absent"."""

    path: str
    sha256: str
    sidecar: str
    signature: str
    key_id: str | None = None

    @property
    def signed(self) -> bool:
        return self.signature == "ok"


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


def signature_path(model: str | Path) -> Path:
    """``M.tflite`` → ``M.tflite.sig``."""
    return Path(str(model) + SIG_SUFFIX)


def format_sidecar(digest: str, filename: str) -> str:
    """One ``sha256sum`` line: ``<hex>  <filename>\\n``."""
    return f"{digest}  {filename}\n"


def write_sidecar(model: str | Path) -> Path:
    """Hash ``model`` and write ``model.sha256`` beside it; returns the sidecar path."""
    out = sidecar_path(model)
    out.write_text(format_sidecar(sha256_file(model), Path(model).name), encoding="utf-8")
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


def decode_signature(data: bytes, source: str = "signature") -> bytes:
    """64 signature bytes from a ``.sig`` file (base64 text or raw)."""
    if len(data) == 64:
        return data
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"{source}: not a base64 Ed25519 signature") from exc
    if len(raw) != 64:
        raise VerificationError(f"{source}: an Ed25519 signature has 64 bytes, got {len(raw)}")
    return raw


def verify_signature(payload: bytes, signature: bytes, raw_key: bytes, source: str = "model") -> None:
    """Raise :class:`VerificationError` unless ``signature`` is a valid Ed25519 signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, payload)
    except InvalidSignature as exc:
        raise VerificationError(
            f"{source}: the Ed25519 signature does not match (key {key_id(raw_key)}); the model was altered "
            "or signed with another key — do not load it"
        ) from exc


def verify_model(
    path: str | Path, pubkey: str | Path | bytes | None = None, *, require_sidecar: bool = True
) -> VerifyResult:
    """Check a model file against its ``.sha256`` sidecar and, when ``pubkey`` is given, its ``.sig``.

    With a public key the signature is mandatory. Raises :class:`VerificationError` on a missing file, a
    hash mismatch, a missing/invalid signature; :class:`~liveredge.edge.errors.ConfigError` on a bad key.
    """
    model = Path(path)
    if not model.is_file():
        raise VerificationError(f"{model}: model file not found")
    digest = sha256_file(model)
    sidecar = _check_sidecar(model, digest, require_sidecar)
    if pubkey is None:
        state = "unchecked" if signature_path(model).is_file() else "absent"
        return VerifyResult(str(model), digest, sidecar, state)
    raw_key = load_public_key(pubkey)
    sig_file = signature_path(model)
    if not sig_file.is_file():
        raise VerificationError(f"{model}: a public key was given but {sig_file.name} is missing; sign the model")
    signature = decode_signature(read_bounded(sig_file, "signature", KEY_FILE_MAX), str(sig_file))
    verify_signature(model.read_bytes(), signature, raw_key, str(model))
    return VerifyResult(str(model), digest, sidecar, "ok", key_id(raw_key))


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
