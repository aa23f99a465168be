"""Prove the int8 contract of a TFLite FlatBuffer by parsing it (no interpreter, no TensorFlow).

The contract ("full-integer int8") holds when, in every subgraph:

* every operator is a builtin (no ``CUSTOM`` and no ``Flex*`` TensorFlow op);
* every operator input/output tensor is an integer type (int8/uint8 activations and weights, int32 biases,
  shapes and indices; int16 activations only when ``activations="int16"`` (16x8 mode));
* there is no ``DEQUANTIZE`` producing float inside the body (the classic "integer with float fallback" leak);
* the model inputs/outputs have the asked I/O dtype (``int8`` or ``uint8``).

Operators whose output names are listed in ``float_ok`` are float islands allowed on purpose (CPU/Jetson
recovery); they are shown as ``float-allowed`` and the contract is then reported as ``"mixed"``, never "int8".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liveredge.edge.errors import VerificationError

_INTEGER = {"INT8", "UINT8", "INT32", "INT64", "BOOL"}


@dataclass(frozen=True)
class OpRow:
    """One operator: index, op name, input/output tensor dtypes, output tensor name, status and reason."""

    index: int
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    name: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class TensorIO:
    """A model input or output: name, dtype, shape, (scale, zero_point) when quantised."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class ContractReport:
    """Result of :func:`check_contract`. ``kind`` is "int8", "int16x8", "mixed" or "not-integer"."""

    ok: bool
    kind: str
    rows: tuple[OpRow, ...]
    inputs: tuple[TensorIO, ...]
    outputs: tuple[TensorIO, ...]
    problems: tuple[str, ...]

    @property
    def offending(self) -> tuple[OpRow, ...]:
        return tuple(r for r in self.rows if r.status == "FAIL")


def _enum_names(enum: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


def parse_model(model: bytes) -> Any:  # the generated FlatBuffer object API is untyped
    """The TFLite ``ModelT`` object tree of a FlatBuffer; :class:`VerificationError` when it is not one."""
    from ai_edge_litert import schema_py_generated as schema

    if len(model) < 8 or model[4:8] != b"TFL3":
        raise VerificationError("not a TFLite model: the FlatBuffer identifier 'TFL3' is missing")
    try:
        return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    except Exception as exc:
        raise VerificationError(f"the TFLite FlatBuffer is corrupt: {exc!r}") from exc


def op_rows(model: bytes, float_ok: Iterable[str] = (), activations: str = "int8") -> list[OpRow]:
    """The per-operator table of every subgraph, each row judged against the contract."""
    from ai_edge_litert import schema_py_generated as schema

    tree = parse_model(model)
    ops, types = _enum_names(schema.BuiltinOperator), _enum_names(schema.TensorType)
    allowed = set(_INTEGER) | ({"INT16"} if activations == "int16" else set())
    float_names = set(float_ok)
    rows: list[OpRow] = []
    for graph in tree.subgraphs or []:
        for op in graph.operators or []:
            code = tree.operatorCodes[op.opcodeIndex]
            name = _op_name(code, ops)
            ins = tuple(types.get(graph.tensors[t].type, "?") for t in _ids(op.inputs))
            outs = tuple(types.get(graph.tensors[t].type, "?") for t in _ids(op.outputs))
            out_name = _tensor_name(graph, _ids(op.outputs))
            status, reason = _judge(name, ins, outs, allowed)
            if status == "FAIL" and float_names and not name.startswith(("CUSTOM", "FLEX")):
                if out_name in float_names:
                    status, reason = "float-allowed", "float island kept on purpose (recovery)"
                elif name in ("QUANTIZE", "DEQUANTIZE"):
                    status, reason = "float-allowed", "boundary of a float island"
            rows.append(OpRow(len(rows), name, ins, outs, out_name, status, reason))
    return rows


def _ids(values: Any) -> list[int]:
    return [int(t) for t in (values if values is not None else []) if int(t) >= 0]


def _tensor_name(graph: object, ids: list[int]) -> str:
    if not ids:
        return ""
    raw = graph.tensors[ids[0]].name  # type: ignore[attr-defined]  # the flatbuffer object API is untyped
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")


def _op_name(code: object, names: dict[int, str]) -> str:
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))  # type: ignore[attr-defined]  # flatbuffer object API
    name = names.get(builtin, f"OP_{builtin}")
    if name == "CUSTOM":
        custom = code.customCode  # type: ignore[attr-defined]  # the flatbuffer object API is untyped
        custom = custom.decode() if isinstance(custom, bytes) else str(custom or "")
        return f"FLEX:{custom[4:]}" if custom.startswith("Flex") else f"CUSTOM:{custom}"
    return name


def _judge(op: str, ins: tuple[str, ...], outs: tuple[str, ...], allowed: set[str]) -> tuple[str, str]:
    if op.startswith("FLEX"):
        return "FAIL", "TensorFlow (Flex) op: needs the TF runtime, not a builtin"
    if op.startswith("CUSTOM"):
        return "FAIL", "custom op: not a builtin kernel"
    if op == "DEQUANTIZE" and any(t.startswith("FLOAT") for t in outs):
        return "FAIL", "float DEQUANTIZE in the body (integer with float fallback)"
    bad = sorted({t for t in ins + outs if t not in allowed})
    if bad:
        return "FAIL", f"non-integer tensors {','.join(bad)}"
    return "ok", ""


def io_tensors(model: bytes) -> tuple[tuple[TensorIO, ...], tuple[TensorIO, ...]]:
    """Inputs and outputs of the main subgraph with dtype, shape and quantisation."""
    from ai_edge_litert import schema_py_generated as schema

    tree = parse_model(model)
    types = _enum_names(schema.TensorType)
    graph = tree.subgraphs[0]

    def one(index: int) -> TensorIO:
        t = graph.tensors[index]
        q = t.quantization
        has_q = q is not None and q.scale is not None and len(q.scale) > 0
        name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name)
        shape = tuple(int(v) for v in (t.shape if t.shape is not None else []))
        return TensorIO(
            name,
            types.get(t.type, "?"),
            shape,
            float(q.scale[0]) if has_q else None,
            int(q.zeroPoint[0]) if has_q else None,
        )

    return tuple(one(i) for i in _ids(graph.inputs)), tuple(one(i) for i in _ids(graph.outputs))


def check_metadata(model: bytes, source: str = "model") -> str:
    """Check the embedded liveredge metadata against the graph: the spec's input shape must be the input
    tensor's (batch 1) and there must be one label per probability. Returns a one-line summary; raises
    :class:`~liveredge.edge.errors.ModelError` naming both sides on a disagreement."""
    from liveredge.edge.errors import ModelError
    from liveredge.edge.model_meta import read_metadata

    meta = read_metadata(model)
    if meta is None:
        return "no liveredge metadata (the runtime will need --spec)"
    inputs, outputs = io_tensors(model)
    want = (1, *meta.preprocess.input_shape)
    if tuple(inputs[0].shape) != want:
        raise ModelError(
            f"{source}: input tensor {list(inputs[0].shape)} disagrees with its metadata "
            f"PreprocessSpec {list(want)}; re-convert the model with the right --spec"
        )
    sizes = [o.shape[-1] for o in outputs if len(o.shape) == 2]
    if len(meta.labels) not in sizes:
        raise ModelError(
            f"{source}: {len(meta.labels)} labels {list(meta.labels)} but the probability output "
            f"has {sizes[0] if sizes else '?'} classes; fix the labels and re-convert"
        )
    return f"metadata matches the graph (input {list(want)}, {len(meta.labels)} labels)"


def check_contract(
    model: bytes, io: str = "int8", *, float_ok: Iterable[str] = (), activations: str = "int8"
) -> ContractReport:
    """Judge ``model`` against the contract; never raises for a contract violation (see :func:`require`)."""
    rows = op_rows(model, float_ok, activations)
    inputs, outputs = io_tensors(model)
    want = {"int8": "INT8", "uint8": "UINT8", "int16": "INT16"}.get(io)
    if want is None:
        raise VerificationError(f"unknown I/O dtype {io!r}; use int8 or uint8")
    problems = [f"op {r.index} {r.op} ({r.name}): {r.reason}" for r in rows if r.status == "FAIL"]
    problems += [
        f"{kind} '{t.name}' is {t.dtype}, asked {want}"
        for kind, ts in (("input", inputs), ("output", outputs))
        for t in ts
        if t.dtype != want
    ]
    floats = any(r.status == "float-allowed" for r in rows)
    kind = "not-integer" if problems else ("mixed" if floats else ("int16x8" if activations == "int16" else "int8"))
    return ContractReport(not problems, kind, tuple(rows), inputs, outputs, tuple(problems))


def require(model: bytes, io: str = "int8", **kwargs: object) -> ContractReport:
    """:func:`check_contract`, raising :class:`VerificationError` listing the offending ops when it fails."""
    report = check_contract(model, io, **kwargs)  # type: ignore[arg-type]  # kwargs are check_contract's own options
    if not report.ok:
        shown = "; ".join(report.problems[:8]) + (
            f"; ... {len(report.problems) - 8} more" if len(report.problems) > 8 else ""
        )
        raise VerificationError(f"the model is not full-integer {io}: {shown}")
    return report


def format_table(rows: Iterable[OpRow]) -> str:
    """Fixed-width per-op table: index, op, input dtypes, output dtypes, status (and reason)."""
    lines = [f"{'#':>4}  {'op':<24} {'inputs':<28} {'outputs':<12} status"]
    for r in rows:
        reason = f"  ({r.reason})" if r.reason else ""
        lines.append(f"{r.index:>4}  {r.op:<24} {','.join(r.inputs):<28} {','.join(r.outputs):<12} {r.status}{reason}")
    return "\n".join(lines)


def read_model(path: str | Path) -> bytes:
    """Model bytes from a path; :class:`VerificationError` when unreadable."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise VerificationError(f"{path}: cannot read the model ({exc.strerror or exc})") from exc
