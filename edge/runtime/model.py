"""Load a model for the runtime: read it once, decide trust, read its metadata, build the interpreter runner.

Order: :func:`liveredge.edge.trust.read_model_bytes` (one read through one descriptor) →
:func:`liveredge.edge.trust.check_model` on THOSE bytes (signed statement by a trusted key, role, version) →
metadata (labels, preprocessing, quantisation, operating point) from the same bytes → interpreter built from the
same buffer (``model_content=``); the path is never opened again. A model with no statement loads only with
``TrustPolicy(allow_unverified=True)`` and then every record carries ``Quality.UNVERIFIED_MODEL``; a statement
that does not hold is refused always. ``commit=False`` (``liveredge verify``) decides exactly as ``run`` does
but does not record the accepted version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.events import Quality
from liveredge.edge.interpreter import ClassifierRunner, DeviceSpec, check_quant, make_interpreter
from liveredge.edge.model_meta import ModelMetadata, read_metadata
from liveredge.edge.runtime.cores import MAX_THREADS, default_threads
from liveredge.edge.statement import Statement
from liveredge.edge.trust import Trust, TrustPolicy, check_model, read_model_bytes, record_accepted


@dataclass(frozen=True)
class LoadOptions:
    """How to load: the ``trust`` policy, ``num_threads`` (None: one per usable core, see
    :func:`liveredge.edge.runtime.cores.default_threads`), ``device``, opt-in ``cpu_fallback``."""

    trust: TrustPolicy = TrustPolicy()
    num_threads: int | None = None
    device: DeviceSpec = DeviceSpec()
    cpu_fallback: bool = False

    def __post_init__(self) -> None:
        n = self.num_threads
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_THREADS):
            raise ConfigError(f"threads = {n!r}: expected an integer from 1 to {MAX_THREADS}")


@dataclass(frozen=True)
class LoadedModel:
    """A verified (or explicitly unverified) model ready to run. ``runner`` is not thread-safe."""

    path: str
    sha256: str
    verified: bool
    statement: Statement | None
    meta: ModelMetadata
    runner: ClassifierRunner
    device: str
    input_lut: (
        np.ndarray | None
    )  # 256-entry pixel → model input table (quantised, or float with a site map); None: spec's
    site_sha256: str | None = None  # SHA-256 of the site file composed into input_lut (liveredge.edge.site)
    threads: int = 1  # interpreter threads it was built with (reported by the bench, used by its peer loop)

    @property
    def base_quality(self) -> Quality:
        """Flags every record of this model carries (UNVERIFIED_MODEL or OK)."""
        return Quality.OK if self.verified else Quality.UNVERIFIED_MODEL


def decide(path: str | Path, options: LoadOptions) -> tuple[bytes, Trust]:
    """(model bytes read once, the trust decision on them); VerificationError when the policy refuses."""
    data = read_model_bytes(path)
    return data, check_model(data, path, options.trust)


def load_model(
    path: str | Path,
    options: LoadOptions = LoadOptions(),
    on_fallback: Callable[[str], None] | None = None,
    *,
    commit: bool = True,
) -> LoadedModel:
    """Decide trust for ``path`` and load it from the checked bytes; ModelError when it has no liveredge metadata
    or breaks its own contract. With ``commit`` a verified model's version is recorded as accepted (anti-rollback).
    """
    data, trust = decide(path, options)
    model = build_model(data, trust, path, options, on_fallback)
    if commit:
        record_accepted(trust, options.trust)
    return model


def build_model(
    data: bytes,
    trust: Trust,
    path: str | Path,
    options: LoadOptions = LoadOptions(),
    on_fallback: Callable[[str], None] | None = None,
) -> LoadedModel:
    """The runnable model from bytes already decided by :func:`decide` (metadata and interpreter from them)."""
    meta = read_metadata(data)
    if meta is None:
        raise ModelError(f"{path}: the model carries no liveredge metadata; convert it with 'liveredge convert'")
    threads = options.num_threads if options.num_threads is not None else default_threads()
    runner, device = _runner(data, meta, path, dataclasses.replace(options, num_threads=threads), on_fallback)
    lut = None
    if runner.input_quant is not None:
        q = runner.input_quant
        lut = meta.preprocess.lut(q.scale, q.zero_point, q.dtype)
    return LoadedModel(
        str(path), trust.sha256, trust.verified, trust.statement, meta, runner, device, lut, threads=threads
    )


def _runner(
    data: bytes, meta: ModelMetadata, path: str | Path, options: LoadOptions, on_fallback: Callable[[str], None] | None
) -> tuple[ClassifierRunner, str]:
    interp, device = make_interpreter(
        data,
        num_threads=options.num_threads,
        device=options.device,
        cpu_fallback=options.cpu_fallback,
        on_fallback=on_fallback,
    )
    try:
        runner = ClassifierRunner(interp, len(meta.labels), meta.cam_output)
    except ModelError as exc:
        raise ModelError(f"{path}: {exc} (the metadata has {len(meta.labels)} labels)") from exc
    if runner.input_shape != meta.preprocess.input_shape:
        raise ModelError(f"{path}: input {runner.input_shape} differs from its metadata {meta.preprocess.input_shape}")
    check_quant(f"{path} input", runner.input_quant, meta.input_quant)
    check_quant(f"{path} output", runner.output_quant, meta.output_quant)
    return runner, device
