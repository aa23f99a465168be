"""Load a model for the runtime: verify its integrity, read its metadata, build the interpreter runner.

Order: :func:`liveredge.edge.integrity.verify_model` (SHA-256 sidecar, Ed25519 signature when a public key is
given) → read the verified bytes once (their hash must equal the verified one, so a file swapped in between is
refused) → metadata (labels, preprocessing, quantisation, operating point) → interpreter. A model with nothing to
verify against loads only with ``allow_unverified=True`` and then every record carries
``Quality.UNVERIFIED_MODEL``; a mismatch is refused always.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveredge.edge.errors import ModelError, VerificationError
from liveredge.edge.events import Quality
from liveredge.edge.interpreter import ClassifierRunner, DeviceSpec, check_quant, make_interpreter
from liveredge.edge.model_meta import ModelMetadata, read_metadata


@dataclass(frozen=True)
class LoadOptions:
    """How to load: ``pubkey`` path/bytes or None, ``num_threads``, ``device``, opt-in ``cpu_fallback``."""

    pubkey: str | Path | bytes | None = None
    allow_unverified: bool = False
    num_threads: int | None = None
    device: DeviceSpec = DeviceSpec()
    cpu_fallback: bool = False


@dataclass(frozen=True)
class LoadedModel:
    """A verified (or explicitly unverified) model ready to run. ``runner`` is not thread-safe."""

    path: str
    sha256: str
    verified: bool
    signed: bool
    meta: ModelMetadata
    runner: ClassifierRunner
    device: str
    input_lut: np.ndarray | None  # 256-entry pixel → model input table (quantised, or float with a site map); None: spec's
    site_sha256: str | None = None  # SHA-256 of the site file composed into input_lut (liveredge.edge.site)

    @property
    def base_quality(self) -> Quality:
        """Flags every record of this model carries (UNVERIFIED_MODEL or OK)."""
        return Quality.OK if self.verified else Quality.UNVERIFIED_MODEL


def verify(path: str | Path, options: LoadOptions) -> tuple[bytes, str, bool, bool]:
    """(model bytes, sha256, verified, signed); raises VerificationError on a mismatch or when unverifiable."""
    from liveredge.edge.integrity import verify_model

    result = verify_model(path, options.pubkey, require_sidecar=not options.allow_unverified)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VerificationError(f"{path}: cannot read the model file ({exc.strerror or exc})") from exc
    if hashlib.sha256(data).hexdigest() != result.sha256:
        raise VerificationError(f"{path}: the model file changed while it was being verified; do not load it")
    verified = result.sidecar == "ok" or result.signed
    if not verified and not options.allow_unverified:
        raise VerificationError(f"{path}: nothing to verify the model against; pass --allow-unverified to run it")
    return data, result.sha256, verified, result.signed


def load_model(
    path: str | Path, options: LoadOptions = LoadOptions(), on_fallback: Callable[[str], None] | None = None
) -> LoadedModel:
    """Verify and load ``path``; ModelError when it has no liveredge metadata or breaks its own contract."""
    data, digest, verified, signed = verify(path, options)
    meta = read_metadata(data)
    if meta is None:
        raise ModelError(f"{path}: the model carries no liveredge metadata; convert it with 'liveredge convert'")
    interp, device = make_interpreter(
        data,
        num_threads=options.num_threads,
        device=options.device,
        cpu_fallback=options.cpu_fallback,
        on_fallback=on_fallback,
    )
    runner = ClassifierRunner(interp, len(meta.labels), meta.cam_output)
    if runner.input_shape != meta.preprocess.input_shape:
        raise ModelError(f"{path}: input {runner.input_shape} differs from its metadata {meta.preprocess.input_shape}")
    check_quant(f"{path} input", runner.input_quant, meta.input_quant)
    check_quant(f"{path} output", runner.output_quant, meta.output_quant)
    lut = None
    if runner.input_quant is not None:
        q = runner.input_quant
        lut = meta.preprocess.lut(q.scale, q.zero_point, q.dtype)
    return LoadedModel(str(path), digest, verified, signed, meta, runner, device, lut)
