"""The device's trust policy: which model bytes may run. ``liveredge run`` and ``liveredge verify`` both decide
with :func:`check_model`, so ``verify`` exits 0 exactly when ``run`` would load.

A model is *verified* when its statement sidecar (:mod:`liveredge.edge.statement`) carries a valid Ed25519
signature by a trusted key over a statement whose ``sha256`` is that of the very bytes checked, whose role is
``release`` (``dev`` only with ``allow_dev``) with a passed gate, and whose version is not below the highest
version of that model name this device has accepted (``allow_rollback`` overrides). Trusted keys: the release key
shipped in the package (:data:`RELEASE_KEY`) plus any extra fleet keys. A model with NO statement runs only with
``allow_unverified`` (every record is then flagged); a statement that is present but wrong (bad signature,
unknown key, other bytes, role ``rejected``, rollback) is refused always.

Anti-rollback state: ``<state_dir>/versions.json`` = ``{"<model name>": highest accepted release version}``,
written atomically after a successful load (``verify`` never writes it); ``state_dir`` defaults to
``$XDG_STATE_HOME/liveredge`` (``~/.local/state/liveredge``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from liveredge.edge.errors import ConfigError, VerificationError
from liveredge.edge.integrity import key_id, load_public_key, parse_sidecar, sidecar_path, verify_signature
from liveredge.edge.statement import MAX_STATEMENT_BYTES, SignedStatement, Statement, statement_path
from liveredge.edge.statement import parse_sidecar as parse_statement

RELEASE_KEY = Path(__file__).resolve().parent / "keys" / "liveredge-zoo.pub"  # package data (pyproject)
STATE_FILE = "versions.json"
MAX_MODEL_BYTES = 1 << 30
MAX_STATE_BYTES = 1 << 20


@dataclass(frozen=True)
class TrustPolicy:
    """What the device trusts. ``extra_keys``: fleet public keys (paths or key bytes) added to the release key."""

    extra_keys: tuple[str | Path | bytes, ...] = ()
    allow_unverified: bool = False
    allow_dev: bool = False
    allow_rollback: bool = False
    state_dir: Path | None = None  # None: default_state_dir()
    release_key: Path | None = RELEASE_KEY  # None: trust only extra_keys (tests)

    def trusted_keys(self) -> dict[str, bytes]:
        """{key id: raw Ed25519 key} of every trusted key."""
        sources: list[str | Path | bytes] = [self.release_key] if self.release_key is not None else []
        keys = [load_public_key(k) for k in (*sources, *self.extra_keys)]
        return {key_id(raw): raw for raw in keys}

    def state_file(self) -> Path:
        return (self.state_dir or default_state_dir()) / STATE_FILE


@dataclass(frozen=True)
class Trust:
    """The decision for one model's bytes: ``verified`` True with its statement, or False (explicitly allowed)."""

    path: str
    sha256: str
    verified: bool
    statement: Statement | None = None
    key_id: str | None = None

    def describe(self) -> str:
        if self.statement is None:
            return f"UNVERIFIED (no signed statement; sha256 {self.sha256[:16]})"
        s = self.statement
        return (
            f"verified: {s.name} v{s.version} role={s.role} target={s.target} gate={s.gate} "
            f"key {self.key_id} sha256 {self.sha256[:16]}"
        )


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/liveredge`` or ``~/.local/state/liveredge``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "liveredge"


def read_model_bytes(path: str | Path, max_bytes: int = MAX_MODEL_BYTES) -> bytes:
    """The model file's bytes, read once through one file descriptor (a regular file, at most ``max_bytes``).
    The caller checks and loads exactly these bytes and never re-opens ``path``."""
    return _read_regular(path, max_bytes, "the model file", "not a model this device runs")


def _read_regular(path: str | Path, max_bytes: int, what: str, too_big: str) -> bytes:
    """At most ``max_bytes`` of a REGULAR file (a FIFO or a device such as /dev/zero is refused at once)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise VerificationError(f"{path}: not a regular file")
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise VerificationError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise VerificationError(f"{path}: larger than {max_bytes} bytes; {too_big}")
    return data


def check_model(data: bytes, path: str | Path, policy: TrustPolicy) -> Trust:
    """THE policy: may these bytes (read once from ``path``) run? Trust, or VerificationError naming the file
    and the reason. Reads only the sidecars and the anti-rollback state; writes nothing."""
    digest = hashlib.sha256(data).hexdigest()
    _check_transport_sidecar(path, digest)
    signed = _read_statement(path)
    if signed is None:
        if not policy.allow_unverified:
            raise VerificationError(
                f"{path}: no signed statement ({statement_path(path).name} is missing); sign it with "
                "'liveredge sign --key K --role release --version N', or pass --allow-unverified to run it "
                "unverified (every record then says so)"
            )
        return Trust(str(path), digest, False)
    raw = policy.trusted_keys().get(signed.key_id)
    if raw is None:
        raise VerificationError(
            f"{path}: signed by key {signed.key_id}, which this device does not trust (trusted: "
            f"{', '.join(policy.trusted_keys()) or 'none'}); add a fleet key with --pubkey"
        )
    verify_signature(signed.payload, signed.signature, raw, f"{path} ({statement_path(path).name})")
    _check_statement(signed.statement, digest, path, policy)
    return Trust(str(path), digest, True, signed.statement, signed.key_id)


def _check_transport_sidecar(path: str | Path, digest: str) -> None:
    side = sidecar_path(path)
    if side.is_file():
        expected = parse_sidecar(_read_small(side).decode("utf-8", errors="replace"), str(side))
        if not hmac.compare_digest(expected, digest):
            raise VerificationError(
                f"{path}: SHA-256 {digest[:16]}... does not match {side.name} ({expected[:16]}...);"
                " the file is corrupt or was modified — do not load it"
            )


def _read_statement(path: str | Path) -> SignedStatement | None:
    side = statement_path(path)
    if not side.exists():
        return None
    return parse_statement(_read_small(side), str(side))


def _read_small(path: Path) -> bytes:
    return _read_regular(path, MAX_STATEMENT_BYTES, "it", "not a sidecar")


def _check_statement(s: Statement, digest: str, path: str | Path, policy: TrustPolicy) -> None:
    if not hmac.compare_digest(s.sha256, digest):
        raise VerificationError(
            f"{path}: the signed statement is for other bytes (sha256 {s.sha256[:16]}..., the "
            f"file has {digest[:16]}...); the model was altered or swapped — do not load it"
        )
    if s.role == "rejected":
        raise VerificationError(
            f"{path}: signed as role 'rejected' ({s.name} v{s.version}, gate {s.gate}); a rejected model never runs"
        )
    if s.role == "dev" and not policy.allow_dev:
        raise VerificationError(
            f"{path}: signed as role 'dev' ({s.name} v{s.version}), not a release; pass "
            "--allow-dev to run a development model"
        )
    if s.role == "release" and s.gate != "passed":
        raise VerificationError(f"{path}: a release statement with gate '{s.gate}' is invalid; refused")
    highest = accepted_versions(policy).get(s.name, 0)
    if s.version < highest and not policy.allow_rollback:
        raise VerificationError(
            f"{path}: {s.name} v{s.version} is older than v{highest}, the highest this device "
            f"has accepted ({policy.state_file()}); pass --allow-rollback to run it anyway"
        )


def accepted_versions(policy: TrustPolicy) -> dict[str, int]:
    """{model name: highest accepted version} from the state file ({} when there is none yet)."""
    state = policy.state_file()
    try:
        with open(state, "rb") as handle:
            text = handle.read(MAX_STATE_BYTES + 1)
        if len(text) > MAX_STATE_BYTES:
            raise ValueError(f"larger than {MAX_STATE_BYTES} bytes")
        data = json.loads(text.decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{state}: the anti-rollback state is unreadable ({exc}); fix or remove it") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int for k, v in data.items()):
        raise ConfigError(f"{state}: the anti-rollback state is not a {{name: version}} object; fix or remove it")
    return data


def record_accepted(trust: Trust, policy: TrustPolicy) -> None:
    """Remember a release's version as accepted (only ever raises the stored version; atomic replace). Dev
    models are checked against the stored version but never raise it."""
    if trust.statement is None or trust.statement.role != "release":
        return
    versions = accepted_versions(policy)
    name, version = trust.statement.name, trust.statement.version
    if versions.get(name, 0) >= version:
        return
    versions[name] = version
    _write_state(policy.state_file(), versions)


def _write_state(state: Path, versions: dict[str, int]) -> None:
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".versions.", dir=state.parent)
    except OSError as exc:
        raise ConfigError(
            f"{state}: cannot record the accepted model version ({exc.strerror or exc}); "
            "set --state-dir to a writable folder"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(versions, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, state)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{state}: cannot record the accepted model version ({exc.strerror or exc})") from exc
