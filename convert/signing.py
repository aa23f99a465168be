"""Workstation side of model integrity: Ed25519 key generation and detached signing.

Verification lives in :mod:`liveredge.edge.integrity` (device side). Keys:

* private key — PEM PKCS#8 (unencrypted), written with mode 0600; NEVER commit it (the zoo key lives in
  ``/work/keys/liveredge-zoo.key`` outside the repository);
* public key — PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``), safe to commit.

The signature is Ed25519 over the exact bytes of the model file, stored base64 in ``MODEL.sig``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from liveredge.edge.errors import ConfigError
from liveredge.edge.integrity import key_id, signature_path, write_sidecar


@dataclass(frozen=True)
class SignResult:
    """Files written by :func:`sign_model` and the key id used (None when only hashed)."""

    model: str
    sidecar: str
    signature: str | None
    key_id: str | None


def generate_keypair(private_path: str | Path, public_path: str | Path, *, overwrite: bool = False) -> str:
    """Write a new Ed25519 key pair (PEM); returns the key id. Refuses to overwrite unless asked."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    priv, pub = Path(private_path), Path(public_path)
    for target in (priv, pub):
        if target.exists() and not overwrite:
            raise ConfigError(f"{target} exists; pass --force to replace it (old signatures stop verifying)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    priv.parent.mkdir(parents=True, exist_ok=True)
    pub.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = key.public_key()
    pub.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key_id(raw)


def load_private_key(path: str | Path) -> object:
    """An ``Ed25519PrivateKey`` from a PEM file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the private key ({exc.strerror or exc})") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: key is {type(key).__name__}, not Ed25519; make one with 'liveredge keygen'")
    return key


def sign_model(model: str | Path, private_key: str | Path | None = None) -> SignResult:
    """Write ``model.sha256`` and, with a private key, ``model.sig`` (base64 Ed25519 over the file bytes)."""
    from cryptography.hazmat.primitives import serialization

    path = Path(model)
    if not path.is_file():
        raise ConfigError(f"{path}: model file not found")
    sidecar = write_sidecar(path)
    if private_key is None:
        return SignResult(str(path), str(sidecar), None, None)
    key = load_private_key(private_key)
    signature = key.sign(path.read_bytes())  # type: ignore[attr-defined]
    sig_file = signature_path(path)
    sig_file.write_text(base64.b64encode(signature).decode("ascii") + "\n", encoding="ascii")
    raw = key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SignResult(str(path), str(sidecar), str(sig_file), key_id(raw))
