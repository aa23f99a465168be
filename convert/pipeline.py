"""``liveredge convert`` end to end: ingest → calibrate → quantise/prove/gate (with recovery) → report → sign.

Outputs for ``--out OUT.tflite`` (files are named only by what was proven):

* ``OUT.tflite`` — int8 model (contract proven, gate passed) with metadata + provenance embedded;
  when the gate fails it is written as ``OUT.rejected.tflite`` instead and :class:`GateFailed` is raised;
* ``OUT.float32.tflite`` — the float twin with the same metadata (runtime benchmarks);
* ``*.sha256`` sidecars and, with a private key, ``*.statement.json`` signed statements: ``OUT.tflite`` (and its
  Edge TPU build) role ``release``; a gate- or contract-failed ``OUT.rejected.tflite`` role ``rejected`` only;
  the float twin role ``dev`` (never a release);
* ``OUT.report.json``, ``OUT.report.html`` and ``OUT.layers.png``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from liveredge.convert import checks, contract, data, layers, quantize, recover, report
from liveredge.convert.embed import embed_metadata
from liveredge.convert.gate import GateBudget, GateResult
from liveredge.convert.ingest import SourceModel, SpecSource, ingest
from liveredge.convert.signing import SignRequest, sign_model
from liveredge.edge.errors import ConfigError, DataError, VerificationError
from liveredge.edge.harmonize import IntensityReference, images_from_inputs, reference_from_images
from liveredge.edge.model_meta import ModelMetadata, QuantParams
from liveredge.edge.progress import bar_disabled

STAGES = ("ingest", "frames", "float parity", "quantise + gate", "per-layer", "write + sign")


@dataclass(frozen=True)
class ConvertRequest:
    """Options of one conversion (see ``liveredge convert --help``)."""

    model: str
    calib: str
    val: str
    out: str
    target: str = "cpu"
    io: str = "int8"
    budget: GateBudget = field(default_factory=GateBudget)
    key: str | None = None
    version: int = 1  # the release version in the signed statement (monotonic per model name)
    spec: SpecSource = field(default_factory=SpecSource)
    max_calib: int = 300
    recover: bool = True
    seed: int = 0
    require_liver_gate: bool = False  # the zoo: refuse a model whose operating point has no "not a liver" gate
    min_float_auc: float = checks.MIN_FLOAT_AUC  # stop before quantising when the float model scores below it
    progress: bool = True  # False (--quiet): no progress bar even on a terminal


@dataclass(frozen=True)
class ConvertResult:
    """Where things were written and the verdict."""

    model: str
    float_model: str
    report_json: str
    report_html: str
    passed: bool
    seconds: float
    summary: dict[str, Any]


def _frames(req: ConvertRequest, src: SourceModel) -> tuple[data.FrameSet, data.FrameSet, list[data.Sample]]:
    pool = data.discover(req.calib, labels=src.labels)
    calib = data.load_frames(data.stratify(pool, req.max_calib, req.seed), src.spec, skip_no_region=True)
    val_samples = data.discover(req.val, labels=src.labels, strict=True)
    if any(s.label < 0 for s in val_samples):
        raise DataError(f"{req.val}: validation frames need labels (manifest 'label' column or class folders)")
    val = data.load_frames(val_samples, src.spec, skip_no_region=True)
    return calib, val, pool


def check_liver_gate(src: SourceModel) -> None:
    """ConfigError unless the model's operating point sets a "not a liver" gate threshold (a model that would
    diagnose hearts and bladders never joins the zoo)."""
    op = src.operating_point
    if op.not_liver_threshold is None and op.energy_threshold is None:
        raise ConfigError(
            f"{src.path}: its operating point has no 'not a liver' gate (not_liver_threshold and "
            "energy_threshold are both null); run 'liveredge calibrate MODEL DATA --split val' on "
            "validation data with non-liver scenes first"
        )
    if op.not_liver_threshold is not None and "not_liver" not in src.labels:
        raise ConfigError(f"{src.path}: not_liver_threshold is set but the model has no not_liver label")


def convert(req: ConvertRequest) -> ConvertResult:
    """Run the whole pipeline; raises GateFailed (exit 3) after writing the reports when the gate fails.
    Intermediate models live in a temporary folder that is deleted at the end, whatever happens."""
    if req.target not in recover.TARGETS:
        raise ConfigError(f"--target must be one of {recover.TARGETS}, got {req.target!r}")
    with tempfile.TemporaryDirectory(prefix="liveredge-convert-") as work:
        return _convert(req, Path(work))


def _float_stage(
    req: ConvertRequest, src: SourceModel, calib: data.FrameSet, val: data.FrameSet
) -> tuple[bytes, list[str], Any]:
    """The float TFLite model, the Edge TPU pre-flight, and the float checks (parity with the source model, no
    double normalisation, a float AUC worth quantising): (float model, pre-flight notes, parity)."""
    float_tflite = quantize.float_model(src.converter)
    preflight = _preflight(req, float_tflite)
    parity = checks.float_parity(src.reference, float_tflite, calib.x[:16], req.model)
    checks.check_double_normalization(src.keras_model, calib.x, src.reference(calib.x[:32]), req.model)
    checks.float_sanity(float_tflite, val.x, val.labels, src.labels, req.model, req.min_float_auc)
    return float_tflite, preflight, parity


def _quantise(
    req: ConvertRequest,
    src: SourceModel,
    frames: tuple[data.FrameSet, data.FrameSet, list[data.Sample]],
    float_tflite: bytes,
    progress: Callable[[str], None],
) -> tuple[recover.Outcome, bytes, GateResult]:
    """Quantise with the recovery ladder until an attempt passes the gate (or none does): (outcome, the chosen
    integer model, its gate)."""
    calib, val, pool = frames
    lut = src.spec.float_lut()
    inp = recover.Inputs(
        src.converter,
        float_tflite,
        calib.x,
        _more_pool(req, src, pool, len(calib.x)),
        val.x,
        val.labels,
        val.patients,
        src.labels,
        (float(lut.min()), float(lut.max())),
        val.sites,
    )
    outcome = recover.run(inp, req.target, req.budget, recover=req.recover, io=req.io, progress=progress)
    if outcome.model is None or outcome.gate is None:
        raise VerificationError(
            "no attempt produced an integer model: " + "; ".join(f"{a.remedy}: {a.error}" for a in outcome.attempts)
        )
    return outcome, outcome.model, outcome.gate


def _convert(req: ConvertRequest, work: Path) -> ConvertResult:
    start = time.perf_counter()
    bar = tqdm(
        total=len(STAGES),
        desc="convert",
        unit="stage",
        file=sys.stderr,
        leave=False,
        disable=bar_disabled(req.progress),
    )
    step = lambda name: (bar.set_postfix_str(name), bar.update(1))  # noqa: E731 - a local callback
    bar.set_postfix_str("ingest")
    src = ingest(req.model, req.spec, workdir=work)
    if req.require_liver_gate:
        check_liver_gate(src)
    step("frames")
    calib, val, pool = frames = _frames(req, src)
    small = checks.warn_small(len(calib.x))
    step("float parity")
    float_tflite, preflight, parity = _float_stage(req, src, calib, val)
    step("quantise + gate")
    outcome, int8_model, gate = _quantise(
        req, src, frames, float_tflite, lambda r: bar.set_postfix_str(f"quantise: {r}")
    )
    step("per-layer")
    errors = layers.layer_errors(float_tflite, int8_model, calib.x[:16])
    step("write + sign")
    ctx = {
        "src": src,
        "calib": calib,
        "val": val,
        "parity": parity,
        "preflight": preflight,
        "warning": small,
        "outcome": outcome,
        "layers": errors,
        "start": start,
    }
    result = _write(req, ctx, float_tflite)
    bar.close()
    if not result.passed:
        gate.raise_if_failed()
    return result


def _preflight(req: ConvertRequest, float_tflite: bytes) -> list[str]:
    if req.target != "edgetpu":
        return []
    from liveredge.convert.edgetpu import preflight

    problems = [p for p in preflight(float_tflite) if "I/O" not in p]
    if problems:
        raise VerificationError("Edge TPU pre-flight failed before quantisation: " + "; ".join(problems))
    return problems


def _more_pool(req: ConvertRequest, src: SourceModel, pool: list[data.Sample], used: int) -> Any:
    if len(pool) <= used:
        return None
    return lambda: (
        data.load_frames(data.stratify(pool, min(len(pool), used * 4), req.seed + 1), src.spec, skip_no_region=True).x
    )


def _edgetpu(
    req: ConvertRequest,
    model: Path,
    src: SourceModel,
    prov: dict[str, Any],
    gate: Any,
    ref: IntensityReference | None = None,
) -> str | None:
    """Compile for the Edge TPU when the compiler exists; re-inject the metadata it strips. None when skipped."""
    if req.target != "edgetpu":
        return None
    from liveredge.convert import edgetpu

    problems = edgetpu.preflight(model.read_bytes())
    if problems:
        raise VerificationError("Edge TPU pre-flight failed: " + "; ".join(problems))
    if edgetpu.compiler_available() is None:
        print(
            "edgetpu: edgetpu_compiler is not on PATH - compile step skipped (pre-flight passed); "
            "install Coral's edgetpu-compiler and re-run for an _edgetpu.tflite",
            file=sys.stderr,
        )
        return None
    compiled, log = edgetpu.compile_model(model, model.parent)
    data = compiled.read_bytes()
    meta = _metadata(src, model.read_bytes(), {**prov, "edgetpu_ops": len(log.ops)}, gate, ref)
    compiled.write_bytes(embed_metadata(data, meta))
    return str(compiled)


def _output_positions(model: bytes) -> list[int]:
    """For each source-model output k (signature name ``output_k``, or the only output), its position in the
    interpreter's ``get_output_details()`` order (the order the runtime indexes)."""
    from liveredge.convert.runner import interpreter

    interp = interpreter(model)
    positions = {int(d["index"]): i for i, d in enumerate(interp.get_output_details())}
    sigs = interp.get_signature_list()
    if not sigs:
        return list(range(len(positions)))
    key = next(iter(sigs))
    details = interp.get_signature_runner(key).get_output_details()
    return [positions[int(details[name]["index"])] for name in sorted(details)]


def _metadata(
    src: SourceModel,
    model: bytes,
    provenance: dict[str, Any],
    gate: dict[str, Any] | None,
    reference: IntensityReference | None = None,
) -> ModelMetadata:
    inputs, outputs = contract.io_tensors(model)
    order = _output_positions(model)
    if src.cam_output is not None and not 0 <= src.cam_output < len(order):
        raise ConfigError(f"{src.path}: sidecar cam_output={src.cam_output} but the model has {len(order)} output(s)")
    probs = outputs[order[0]]

    def qp(t: contract.TensorIO) -> QuantParams | None:
        return (
            None
            if t.scale is None or t.dtype not in ("INT8", "UINT8")
            else QuantParams(t.scale, int(t.zero_point or 0), t.dtype.lower())
        )

    cam = None if src.cam_output is None else order[src.cam_output]
    return ModelMetadata(
        name=src.name,
        labels=src.labels,
        preprocess=src.spec,
        input_quant=qp(inputs[0]),
        output_quant=qp(probs),
        operating_point=src.operating_point,
        cam_output=cam,
        provenance=provenance,
        gate=gate,
        intensity_reference=reference,
    )


def _intensity_reference(calib: data.FrameSet, spec: Any) -> IntensityReference | None:
    """Tissue landmarks of the calibration frames (the training distribution ``liveredge adapt`` maps onto)."""
    images = images_from_inputs(calib.x, spec.float_lut())
    try:
        return reference_from_images(images, source=f"calibration frames {calib.digest[:16]}")
    except DataError:
        return None  # no calibration frame shows tissue: adapt then asks for --reference


def _write(req: ConvertRequest, ctx: dict[str, Any], float_tflite: bytes) -> ConvertResult:
    src, outcome = ctx["src"], ctx["outcome"]
    out = Path(req.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    passed = outcome.passed
    sixteen = outcome.options.activations == "int16"  # int16 I/O: named for what it is, never as OUT.tflite
    target = (
        out.with_suffix(".rejected.tflite") if not passed else (out.with_suffix(".16x8.tflite") if sixteen else out)
    )
    provenance = report.provenance(src, ctx["calib"], outcome, req.target)
    gate = outcome.gate.to_dict() if outcome.gate else None
    ref = _intensity_reference(ctx["calib"], src.spec)
    target.write_bytes(embed_metadata(outcome.model, _metadata(src, outcome.model, provenance, gate, ref)))
    twin = out.with_suffix(".float32.tflite")
    twin.write_bytes(
        embed_metadata(float_tflite, _metadata(src, float_tflite, {**provenance, "format": "float32"}, None, ref))
    )
    edgetpu = _edgetpu(req, target, src, provenance, gate, ref) if passed else None
    role = "release" if passed else "rejected"
    roles = [(target, role), (twin, "dev")] + ([(Path(edgetpu), "release")] if edgetpu else [])
    signed = [
        sign_model(p, req.key, SignRequest(r, req.version, gate=None if r != "dev" else "none")) for p, r in roles
    ]
    for s in signed:  # every hash is verified right after writing
        from liveredge.edge.integrity import verify_model

        verify_model(s.model)
    summary = report.summary(req, ctx, str(target), str(twin), signed)
    summary["edgetpu"] = (
        None
        if req.target != "edgetpu"
        else {"compiled": edgetpu, "note": None if edgetpu else "edgetpu_compiler not on PATH: skipped"}
    )
    paths = report.write(out, summary, ctx["layers"])
    return ConvertResult(
        str(target), str(twin), paths[0], paths[1], passed, time.perf_counter() - ctx["start"], summary
    )
