"""Run TFLite models with the real LiteRT interpreter on float tensors (workstation side).

Inputs are float32 (N, H, W, C) per the model's PreprocessSpec; for an integer input they are quantised with
the input tensor's (scale, zero_point): ``q = clip(round(x / scale) + zero_point)``. Outputs are dequantised:
``x = (q - zero_point) * scale``. Output 0 is the class probabilities (N, K).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from liveredge.edge.errors import ModelError
from liveredge.edge.preprocess.spec import dequantize, quantize

_QTYPES = {np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8"}


def interpreter(model: bytes, *, preserve: bool = False, threads: int = 1) -> Any:
    """A LiteRT ``Interpreter`` with tensors allocated; ``preserve`` keeps every intermediate tensor.

    XNNPACK is used when it accepts the model, else the builtin reference kernels (same numbers)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interp = Interpreter(model_content=model, num_threads=threads, experimental_preserve_all_tensors=preserve)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        if "XNNPACK" not in str(exc):
            raise ModelError(f"LiteRT cannot load the model: {exc}") from exc
        try:  # XNNPACK refuses some extreme quantisation parameters; the builtin kernels still run them
            interp = Interpreter(
                model_content=model,
                num_threads=threads,
                experimental_preserve_all_tensors=preserve,
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            )
            interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc2:
            raise ModelError(f"LiteRT cannot load the model: {exc2}") from exc2
    return interp


def feed(interp: Any, x: np.ndarray) -> None:
    """Quantise (when the input is integer) and set one batch-1 input."""
    detail = interp.get_input_details()[0]
    dtype = np.dtype(detail["dtype"])
    if dtype in _QTYPES:
        scale, zp = detail["quantization"]
        x = quantize(x, scale, zp, _QTYPES[dtype])
    elif dtype == np.int16:
        scale, zp = detail["quantization"]
        x = np.clip(np.round(x / scale) + zp, -32768, 32767).astype(np.int16)
    interp.set_tensor(detail["index"], x.astype(dtype, copy=False))


def _read(interp: Any, detail: dict[str, Any]) -> np.ndarray:
    y = interp.get_tensor(detail["index"])
    if np.dtype(detail["dtype"]) != np.float32:
        scale, zp = detail["quantization"]
        return dequantize(y, scale, zp)
    return y.astype(np.float32)


def iterate(interp: Any, x: np.ndarray) -> Iterator[int]:
    """Invoke once per frame of ``x`` (batch 1), yielding the frame index after each invoke."""
    for i in range(len(x)):
        feed(interp, x[i : i + 1])
        try:
            interp.invoke()
        except RuntimeError as exc:
            raise ModelError(f"LiteRT invoke failed on frame {i}: {exc}") from exc
        yield i


def predict(model: bytes | Any, x: np.ndarray, output: int = 0) -> np.ndarray:
    """Dequantised output ``output`` for every frame: float32 (N, ...)."""
    interp = interpreter(model) if isinstance(model, bytes) else model
    detail = _output_detail(interp, output)
    rows = [_read(interp, detail)[0] for _ in iterate(interp, x)]
    return np.stack(rows).astype(np.float32)


def _output_detail(interp: Any, output: int) -> dict[str, Any]:
    """Output tensors in signature order when the model has a signature, else in subgraph order."""
    details = interp.get_output_details()
    sigs = interp.get_signature_list()
    if sigs:
        key = next(iter(sigs))
        names = sigs[key]["outputs"]
        runner_details = interp.get_signature_runner(key).get_output_details()
        ordered = [runner_details[n]["index"] for n in sorted(names)]
        by_index = {d["index"]: d for d in details}
        if output < len(ordered) and ordered[output] in by_index:
            return by_index[ordered[output]]
    return details[output]


def input_shape(model: bytes) -> tuple[int, ...]:
    """Shape of input 0, e.g. (1, H, W, C)."""
    return tuple(int(v) for v in interpreter(model).get_input_details()[0]["shape"])
