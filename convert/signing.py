"""Workstation side of model integrity: Ed25519 key generation and detached signing.

Verification lives in :mod:`liveredge.edge.integrity` (device side). Keys:

* private key — PEM PKCS#8 (unencrypted), written with mode 0600; NEVER commit it (the zoo key lives in
  ``/work/keys/liveredge-zoo.key`` outside the repository);
* public key — PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``), safe to commit.

What is signed is a statement, not a file (:mod:`liveredge.edge.statement`): name, version, role, target, gate
verdict and the SHA-256 of the model bytes, Ed25519 over its canonical JSON, stored in ``MODEL.statement.json``.
The signer refuses role ``release`` for a model whose embedded gate did not pass.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.integrity import key_id, write_sidecar
from liveredge.edge.statement import ROLES, Statement, canonical_bytes, check_choice, format_sidecar, statement_path


@dataclass(frozen=True)
class SignResult:
    """Files written by :func:`sign_model`, the key id and the statement (None when only hashed)."""

    model: str
    sidecar: str
    signature: str | None
    key_id: str | None
    statement: dict[str, object] | None = None


@dataclass(frozen=True)
class SignRequest:
    """What to vouch for. ``name``/``target``/``gate`` default to the model's embedded metadata (gate: its
    ``gate.passed``, "none" when it was not gated; target: its provenance target, else "cpu")."""

    role: str
    version: int
    name: str | None = None
    target: str | None = None
    gate: str | None = None


def generate_keypair(private_path: str | Path, public_path: str | Path, *, overwrite: bool = False) -> str:
    """Write a new Ed25519 key pair (PEM); returns the key id. Refuses to overwrite unless asked."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    priv, pub = Path(private_path), Path(public_path)
    for target in (priv, pub):
        if target.exists() and not overwrite:
            raise ConfigError(f"{target} exists; pass --force to replace it (old signatures stop verifying)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
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


def make_statement(data: bytes, request: SignRequest, source: str = "model") -> Statement:
    """The statement for model ``data``; ConfigError when it would vouch for something untrue."""
    from liveredge.edge.model_meta import read_metadata

    check_choice(request.role, ROLES, "--role", source)
    if type(request.version) is not int or request.version < 1:
        raise ConfigError(f"{source}: --version must be an integer >= 1, got {request.version!r}")
    try:
        meta = read_metadata(data)
    except ModelError:
        meta = None
    gated = None if meta is None or meta.gate is None else bool(meta.gate.get("passed"))
    gate = request.gate or {True: "passed", False: "failed", None: "none"}[gated]
    if request.role == "release" and (gate != "passed" or gated is False):
        raise ConfigError(
            f"{source}: gate verdict is '{gate}'; only a gate-passed model may be signed as release "
            "(sign it --role rejected or --role dev)"
        )
    name = request.name or (meta.name if meta is not None else Path(source).stem)
    target = request.target or str((meta.provenance if meta is not None else {}).get("target") or "cpu")
    return Statement(
        name=name,
        version=request.version,
        role=request.role,
        target=target,
        gate=gate,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def sign_model(
    model: str | Path, private_key: str | Path | None = None, request: SignRequest | None = None
) -> SignResult:
    """Write ``model.sha256`` and, with a private key and a request, ``model.statement.json`` (the signed
    statement). The bytes are read once; the hash in the sidecar and the statement are of those bytes."""
    from cryptography.hazmat.primitives import serialization

    path = Path(model)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    sidecar = write_sidecar(path, hashlib.sha256(data).hexdigest())
    if private_key is None:
        return SignResult(str(path), str(sidecar), None, None)
    if request is None:
        raise ConfigError(f"{path}: signing needs a role and a version (--role, --version)")
    key = load_private_key(private_key)
    statement = make_statement(data, request, str(path))
    payload = canonical_bytes(statement.to_dict())
    raw = key.public_key().public_bytes(  # type: ignore[attr-defined]  # an Ed25519 key (load_private_key checks)
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    out = statement_path(path)
    signature = key.sign(payload)  # type: ignore[attr-defined]  # an Ed25519 key (load_private_key checks)
    out.write_text(format_sidecar(payload, signature, key_id(raw)), encoding="utf-8")
    return SignResult(str(path), str(sidecar), str(out), key_id(raw), statement.to_dict())
