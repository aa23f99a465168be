"""``liveredge bench-formats``: one table over float32 / float16 / dynamic-range / full-int8.

Per format: file size (bytes), top-1 agreement with float32 and macro AUROC on the labelled validation set
(LiteRT interpreter), ms per frame (batch 1, one thread, median of invokes), and a status that tells
``export failed`` (the converter raised) from ``validation failed`` (exported, but the interpreter could not run
it or the predictions are unusable) from ``ok``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from liveredge.convert import quantize, runner
from liveredge.edge.errors import LiveredgeError
from liveredge.models import metrics as M

FORMATS = ("float32", "float16", "dynamic-range", "int8")


@dataclass(frozen=True)
class FormatRow:
    """One format's measurements (None where the stage before failed)."""

    format: str
    size_bytes: int | None
    agreement: float | None
    auc: float | None
    ms_per_frame: float | None
    status: str
    detail: str = ""


def time_invoke(model: bytes, x: np.ndarray, repeats: int = 3) -> float:
    """Median milliseconds per ``invoke()`` (batch 1, 1 thread) over the frames of ``x``, ``repeats`` passes.

    Only the interpreter call is timed: each frame is quantised and set beforehand (that numpy work is the
    same for every format and would blur the float-vs-int8 ratio; the runtime bench times the whole pipeline)."""
    interp = runner.interpreter(model, threads=1)
    list(runner.iterate(interp, x[:2]))  # warm-up
    times = []
    for _ in range(repeats):
        for i in range(len(x)):
            runner.feed(interp, x[i : i + 1])
            start = time.perf_counter()
            interp.invoke()
            times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


def _export(name: str, factory: Callable[[], object], calib_x: np.ndarray, io: str) -> bytes:
    if name == "float32":
        return quantize.float_model(factory)
    if name == "float16":
        return quantize.float_model(factory, float16=True)
    if name == "dynamic-range":
        return quantize.dynamic_range_model(factory)
    return quantize.quantize(quantize.calibrate(factory, calib_x), quantize.QuantOptions(io=io))


def bench_formats(
    factory: Callable[[], object], calib_x: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, io: str = "int8"
) -> list[FormatRow]:
    """Export, validate and time every format; float32 is the reference for agreement."""
    rows, reference = [], None
    for name in FORMATS:
        try:
            model = _export(name, factory, calib_x, io)
        except LiveredgeError as exc:
            rows.append(FormatRow(name, None, None, None, None, "export failed", str(exc)[:200]))
            continue
        try:
            probs = runner.predict(model, val_x)
            if not np.all(np.isfinite(probs)):
                raise ValueError("non-finite outputs")
            reference = probs if name == "float32" else reference
            agree = float(np.mean(probs.argmax(1) == reference.argmax(1))) if reference is not None else None
            rows.append(
                FormatRow(name, len(model), agree, M.macro_auc(val_y, probs), time_invoke(model, val_x[:16]), "ok")
            )
        except (LiveredgeError, ValueError) as exc:
            rows.append(FormatRow(name, len(model), None, None, None, "validation failed", str(exc)[:200]))
    return rows


def format_rows(rows: list[FormatRow]) -> str:
    fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731 - a local formatter
    lines = [f"{'format':<14} {'size KB':>9} {'agree':>7} {'AUC':>7} {'ms/frame':>9}  status"]
    for r in rows:
        size = None if r.size_bytes is None else r.size_bytes / 1024
        lines.append(
            f"{r.format:<14} {fmt(size, '9.1f')} {fmt(r.agreement, '7.4f')} {fmt(r.auc, '7.4f')} "
            f"{fmt(r.ms_per_frame, '9.3f')}  {r.status}{'  (' + r.detail + ')' if r.detail else ''}"
        )
    return "\n".join(lines)


def rows_to_json(rows: list[FormatRow]) -> list[dict[str, object]]:
    return [asdict(r) for r in rows]
