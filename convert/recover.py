"""The recovery loop: quantise, prove the contract, gate; on failure try the next remedy. Every attempt is kept.

Order: per-channel weights + max calibration → percentile calibration (99.99th, then 99.9th) → more
calibration data → (``cpu`` / ``jetson`` only) the worst layers back to float (on the best calibration so far)
→ 16x8 (int16 activations). ``edgetpu`` allows no float
islands and no int16: after the integer remedies it stops and prints architecture advice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from liveredge.convert import contract, layers, quantize, runner
from liveredge.convert.gate import GateBudget, GateResult, run_gate
from liveredge.edge.errors import LiveredgeError

TARGETS = ("cpu", "jetson", "edgetpu")


@dataclass(frozen=True)
class Attempt:
    """One try: what was changed, the contract it proved, the gate verdict (or the error), seconds spent."""

    index: int
    remedy: str
    options: str
    contract: str
    gate: dict[str, Any] | None
    passed: bool
    error: str | None
    seconds: float


@dataclass(frozen=True)
class Outcome:
    """Result of :func:`run`: the chosen model (last tried when none passed), its gate, options, all attempts."""

    model: bytes | None
    gate: GateResult | None
    options: quantize.QuantOptions
    attempts: tuple[Attempt, ...]
    advice: str | None

    @property
    def passed(self) -> bool:
        return self.gate is not None and self.gate.passed


@dataclass(frozen=True)
class Inputs:
    """What the loop works on: float TFLite, calibration frames (used and the larger pool), validation set."""

    factory: Callable[[], Any]
    float_tflite: bytes
    calib_x: np.ndarray
    calib_pool: Callable[[], np.ndarray] | None
    val_x: np.ndarray
    val_y: np.ndarray
    val_groups: np.ndarray
    labels: tuple[str, ...]
    input_range: tuple[float, float] = (0.0, 1.0)
    val_sites: np.ndarray | None = None  # per-site agreement in the report


def _try(
    inp: Inputs, calibrated: bytes, opts: quantize.QuantOptions, budget: GateBudget, p_float: np.ndarray
) -> tuple[bytes, GateResult, str]:
    model = (
        quantize.quantize_16x8(inp.factory, inp.calib_x)
        if opts.activations == "int16"
        else quantize.quantize(calibrated, opts)
    )
    io = "int16" if opts.activations == "int16" else opts.io
    report = contract.require(model, io, float_ok=opts.float_layers, activations=opts.activations)
    p_int8 = runner.predict(model, inp.val_x)
    gate = run_gate(inp.val_y, p_float, p_int8, inp.labels, groups=inp.val_groups, budget=budget, sites=inp.val_sites)
    return model, gate, report.kind


def _plan(target: str, recover: bool, io: str) -> list[tuple[str, quantize.QuantOptions]]:
    base = quantize.QuantOptions(io=io)
    plan = [("per-channel, max calibration", base)]
    if recover:
        plan += [
            ("percentile calibration", replace(base, calibration="percentile")),
            ("percentile calibration (99.9)", replace(base, calibration="percentile", percentile=99.9)),
            ("more calibration data", replace(base, calibration="max+more")),
        ]
        if target != "edgetpu":
            plan += [
                ("worst layers back to float", replace(base, float_layers=("?",))),
                ("16x8 (int16 activations)", replace(base, activations="int16")),
            ]
    return plan


def run(
    inp: Inputs,
    target: str,
    budget: GateBudget,
    *,
    recover: bool = True,
    io: str = "int8",
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Try remedies in order until one passes the contract and the gate."""
    p_float = runner.predict(inp.float_tflite, inp.val_x)
    cache: dict[str, bytes] = {}
    attempts: list[Attempt] = []
    best: tuple[bytes | None, GateResult | None, quantize.QuantOptions] = (None, None, quantize.QuantOptions(io=io))
    for remedy, opts in _plan(target, recover, io):
        if progress:
            progress(remedy)
        start = time.perf_counter()
        try:
            opts = _resolve(opts, inp, best[0], best[2])
            model, gate, kind = _try(inp, _calibrated(opts, inp, cache), opts, budget, p_float)
            attempts.append(
                Attempt(
                    len(attempts),
                    remedy,
                    opts.describe(),
                    kind,
                    gate.to_dict(),
                    gate.passed,
                    None,
                    time.perf_counter() - start,
                )
            )
            if gate.passed or _better(kind, gate, best):
                best = (model, gate, opts)
            if gate.passed:
                break
        except LiveredgeError as exc:
            attempts.append(
                Attempt(len(attempts), remedy, opts.describe(), "-", None, False, str(exc), time.perf_counter() - start)
            )
    advice = None
    if target == "edgetpu" and not (best[1] and best[1].passed):
        from liveredge.convert.edgetpu import ADVICE

        advice = ADVICE
    return Outcome(best[0], best[1], best[2], tuple(attempts), advice)


def _better(kind: str, gate: GateResult, best: tuple[bytes | None, GateResult | None, quantize.QuantOptions]) -> bool:
    """When nothing passes, keep the best plain-int8 attempt (what was asked); 16x8/mixed only if none is int8."""
    if best[1] is None:
        return True
    best_int8 = best[2].activations == "int8" and not best[2].float_layers
    if best_int8 and kind != "int8":
        return False
    if not best_int8 and kind == "int8":
        return True
    return _score(gate) > _score(best[1])


def _score(gate: GateResult) -> float:
    row = next(r for r in gate.rows if r.name == "agreement")
    return row.value


def _calibrated(opts: quantize.QuantOptions, inp: Inputs, cache: dict[str, bytes]) -> bytes:
    if opts.calibration == "max+more":
        if inp.calib_pool is None:
            raise _Skip("no more calibration data than already used")
        if "more" not in cache:
            cache["more"] = quantize.pin_input_range(
                quantize.calibrate(inp.factory, inp.calib_pool()), *inp.input_range
            )
        return cache["more"]
    if "max" not in cache:
        cache["max"] = quantize.pin_input_range(quantize.calibrate(inp.factory, inp.calib_x), *inp.input_range)
    if opts.calibration == "percentile":
        key = f"pct{opts.percentile}"
        if key not in cache:
            ranges = quantize.percentile_ranges(inp.float_tflite, inp.calib_x[:64], opts.percentile)
            cache[key] = quantize.apply_ranges(cache["max"], ranges)
        return cache[key]
    return cache["max"]


def _resolve(
    opts: quantize.QuantOptions, inp: Inputs, last: bytes | None, best: quantize.QuantOptions
) -> quantize.QuantOptions:
    """Fill in the float layers: the 3 worst tensors of the best model so far, on its calibration method."""
    if opts.float_layers != ("?",):
        return opts
    if last is None:
        raise _Skip("no int8 model to measure layer errors on")
    inputs, outputs = contract.io_tensors(last)
    io_names = {t.name for t in inputs + outputs}
    rows = [r for r in layers.layer_errors(inp.float_tflite, last, inp.calib_x[:16]) if r.tensor not in io_names]
    worst = layers.worst(rows, 3)
    return replace(
        opts, float_layers=tuple(r.tensor for r in worst), calibration=best.calibration, percentile=best.percentile
    )


class _Skip(LiveredgeError):
    """A remedy that does not apply (recorded as an attempt with its reason)."""
