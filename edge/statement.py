"""Signed model statements: what a signature vouches for (the one home of the statement format and its sidecar).

A model ``M.tflite`` is trusted through ONE sidecar, ``M.tflite.statement.json`` (:data:`STATEMENT_SUFFIX`)::

    {"statement": {"format": 1, "name": "liver_cnn", "version": 1, "role": "release", "target": "cpu",
                   "gate": "passed", "sha256": "<64 hex of the model bytes>"},
     "key_id": "<16 hex>", "signature": "<base64 Ed25519, 64 bytes>"}

The signature is Ed25519 over :func:`canonical_bytes` of the ``statement`` object exactly as stored: JSON with
sorted keys, no whitespace (``separators=(",", ":")``), UTF-8, no NaN. So the signature binds the name, a
monotonic integer version, the role (``release`` | ``rejected`` | ``dev``), the target, the gate verdict
(``passed`` | ``failed`` | ``none``) and the hash of the bytes — not a file name. The ``.sha256`` sidecar that
sits beside it is an unsigned transport check for ``sha256sum -c``; it is never a reason to trust a model.
Signing is workstation work (:mod:`liveredge.convert.signing`); deciding trust is :mod:`liveredge.edge.trust`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from liveredge.edge.errors import VerificationError

STATEMENT_FORMAT = 1
STATEMENT_SUFFIX = ".statement.json"
ROLES: tuple[str, ...] = ("release", "rejected", "dev")
GATE_VERDICTS: tuple[str, ...] = ("passed", "failed", "none")
MAX_STATEMENT_BYTES = 64 * 1024  # a statement is ~300 bytes; anything larger is not one
_FIELDS = ("format", "name", "version", "role", "target", "gate", "sha256")


@dataclass(frozen=True)
class Statement:
    """What a signer vouches for. ``version`` is a positive integer, monotonic per ``name``."""

    name: str
    version: int
    role: str
    target: str
    gate: str
    sha256: str
    format: int = STATEMENT_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: str = "statement") -> Statement:
        """Validate every field (type, value, no unknown or missing keys); VerificationError naming the field."""
        if not isinstance(data, dict):
            raise VerificationError(f"{source}: 'statement' must be a JSON object")
        unknown, missing = sorted(set(data) - set(_FIELDS)), sorted(set(_FIELDS) - set(data))
        if unknown or missing:
            raise VerificationError(
                f"{source}: statement fields {unknown or ''} unknown {missing or ''} missing"
                f" (expected {', '.join(_FIELDS)})"
            )
        if data["format"] != STATEMENT_FORMAT or type(data["format"]) is not int:
            raise VerificationError(
                f"{source}: statement format {data['format']!r} is not supported (this build reads {STATEMENT_FORMAT})"
            )
        for key in ("name", "role", "target", "gate", "sha256"):
            if not isinstance(data[key], str) or not data[key]:
                raise VerificationError(f"{source}: statement '{key}' must be a non-empty string")
        if type(data["version"]) is not int or data["version"] < 1:
            raise VerificationError(f"{source}: statement 'version' must be an integer >= 1, got {data['version']!r}")
        check_choice(data["role"], ROLES, "role", source)
        check_choice(data["gate"], GATE_VERDICTS, "gate", source)
        if len(data["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in data["sha256"]):
            raise VerificationError(f"{source}: statement 'sha256' must be 64 lowercase hex digits")
        return cls(**{k: data[k] for k in _FIELDS})


@dataclass(frozen=True)
class SignedStatement:
    """A statement with its Ed25519 signature and the signer's key id. ``payload`` is the signed bytes."""

    statement: Statement
    payload: bytes
    signature: bytes
    key_id: str


def check_choice(value: str, allowed: tuple[str, ...], what: str, source: str = "statement") -> None:
    """VerificationError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise VerificationError(f"{source}: {what} {value!r} is not one of {', '.join(allowed)}")


def canonical_bytes(data: dict[str, Any]) -> bytes:
    """Canonical JSON of a statement object: sorted keys, no whitespace, UTF-8, finite numbers only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def statement_path(model: str | Path) -> Path:
    """``M.tflite`` → ``M.tflite.statement.json``."""
    return Path(str(model) + STATEMENT_SUFFIX)


def format_sidecar(payload: bytes, signature: bytes, key_id: str) -> str:
    """The sidecar text for a signed canonical ``payload``."""
    doc = {"statement": json.loads(payload), "key_id": key_id, "signature": base64.b64encode(signature).decode("ascii")}
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def parse_sidecar(text: bytes, source: str) -> SignedStatement:
    """A :class:`SignedStatement` from sidecar bytes; VerificationError naming ``source`` when malformed.

    The signed payload is re-made canonically from the parsed ``statement`` object, so any extra or reordered
    whitespace in the file does not matter and any changed value breaks the signature.
    """
    if len(text) > MAX_STATEMENT_BYTES:
        raise VerificationError(f"{source}: {len(text)} bytes is too large for a statement (max {MAX_STATEMENT_BYTES})")
    try:
        doc = json.loads(text.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerificationError(f"{source}: not a JSON statement sidecar ({exc})") from exc
    if not isinstance(doc, dict) or set(doc) != {"statement", "key_id", "signature"}:
        raise VerificationError(f"{source}: a statement sidecar has exactly 'statement', 'key_id' and 'signature'")
    statement = Statement.from_dict(doc["statement"], source)
    if not isinstance(doc["key_id"], str) or not isinstance(doc["signature"], str):
        raise VerificationError(f"{source}: 'key_id' and 'signature' must be strings")
    try:
        signature = base64.b64decode(doc["signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"{source}: the signature is not base64") from exc
    if len(signature) != 64:
        raise VerificationError(f"{source}: an Ed25519 signature has 64 bytes, got {len(signature)}")
    return SignedStatement(statement, canonical_bytes(doc["statement"]), signature, doc["key_id"])


def _no_constant(name: str) -> float:
    if name in ("NaN", "Infinity", "-Infinity"):
        raise ValueError(f"{name} is not allowed in a statement")
    return math.nan  # pragma: no cover - json only calls this for the three names above
