"""Edge TPU target: pre-flight checks, the optional ``edgetpu_compiler`` run, and its log parser.

Pre-flight (cheap, before any costly step): static shapes (no -1 in any shape signature), batch 1, int8/uint8
I/O, and every operator in the Edge TPU's supported set. The compiler is Coral's own package (not on PyPI);
when ``edgetpu_compiler`` is on PATH it runs, its log is parsed, every op must be mapped to the Edge TPU (the
first one that is not is reported: everything after it would run on the CPU), and the liveredge metadata it
strips is re-injected. Without the compiler the stage is skipped with a clear message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from liveredge.convert.contract import io_tensors, op_rows, parse_model
from liveredge.edge.errors import ModelError, VerificationError

# Operators the Edge TPU compiler maps (Coral "TensorFlow models on the Edge TPU", supported operations).
EDGETPU_OPS = frozenset(
    {
        "ADD",
        "AVERAGE_POOL_2D",
        "CONCATENATION",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "EXP",
        "FLOOR",
        "FULLY_CONNECTED",
        "GATHER",
        "L2_NORMALIZATION",
        "LOGISTIC",
        "LSTM",
        "MAXIMUM",
        "MAX_POOL_2D",
        "MEAN",
        "MINIMUM",
        "MUL",
        "PACK",
        "PAD",
        "PRELU",
        "QUANTIZE",
        "REDUCE_MAX",
        "REDUCE_MIN",
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "RESHAPE",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "RSQRT",
        "SLICE",
        "SOFTMAX",
        "SPACE_TO_DEPTH",
        "SPLIT",
        "SQUARED_DIFFERENCE",
        "SQUEEZE",
        "STRIDED_SLICE",
        "SUB",
        "SUM",
        "TANH",
        "TRANSPOSE",
        "TRANSPOSE_CONV",
        "DEQUANTIZE",
    }
)
ADVICE = (
    "Edge TPU allows no float islands: rebuild the model with ReLU/ReLU6 activations (no hard-swish or "
    "swish), no squeeze-and-excitation blocks, static 1xHxWxC input, and ops from the Edge TPU list; "
    "then retrain or fine-tune and convert again."
)


@dataclass(frozen=True)
class CompilerOp:
    """One line of the compiler's operation table."""

    op: str
    count: int
    status: str

    @property
    def mapped(self) -> bool:
        return self.status.lower().startswith("mapped to edge tpu")


@dataclass(frozen=True)
class CompilerLog:
    """Parsed ``edgetpu_compiler`` log: per-op table, number of subgraphs, and whether all ops map."""

    ops: tuple[CompilerOp, ...]
    subgraphs: int | None

    @property
    def all_mapped(self) -> bool:
        return bool(self.ops) and all(o.mapped for o in self.ops)

    @property
    def first_unmapped(self) -> CompilerOp | None:
        return next((o for o in self.ops if not o.mapped), None)


def preflight(model: bytes) -> list[str]:
    """Problems that stop the Edge TPU path (empty when the model may be compiled)."""
    tree = parse_model(model)
    problems = []
    for graph in tree.subgraphs:
        for t in graph.tensors:
            sig = t.shapeSignature
            if sig is not None and any(int(v) < 0 for v in sig):
                problems.append(f"dynamic shape in tensor {t.name!r}: Edge TPU needs static shapes")
                break
    inputs, outputs = io_tensors(model)
    problems += [f"input {t.name} shape {t.shape}: batch must be 1" for t in inputs if t.shape and t.shape[0] != 1]
    problems += [
        f"{t.name} is {t.dtype}: Edge TPU needs int8/uint8 I/O"
        for t in inputs + outputs
        if t.dtype not in ("INT8", "UINT8")
    ]
    problems += [
        f"op {r.index} {r.op} is not supported by the Edge TPU" for r in op_rows(model) if r.op not in EDGETPU_OPS
    ]
    return problems


_ROW = re.compile(r"^(?P<op>[A-Z][A-Z0-9_]+)\s+(?P<count>\d+)\s+(?P<status>\S.*?)\s*$")


def parse_compiler_log(text: str) -> CompilerLog:
    """Parse the ``Operator  Count  Status`` table (and the subgraph count) of an ``edgetpu_compiler -s`` log."""
    ops, in_table = [], False
    subgraphs = None
    for line in text.splitlines():
        m = re.search(r"Number of Edge TPU subgraphs:\s*(\d+)", line)
        if m:
            subgraphs = int(m.group(1))
        if re.match(r"^\s*Operator\s+Count\s+Status", line):
            in_table = True
            continue
        row = _ROW.match(line.strip()) if in_table else None
        if row:
            ops.append(CompilerOp(row["op"], int(row["count"]), row["status"]))
    return CompilerLog(tuple(ops), subgraphs)


def compiler_available() -> str | None:
    return shutil.which("edgetpu_compiler")


def compile_model(path: Path, out_dir: Path) -> tuple[Path, CompilerLog]:
    """Run ``edgetpu_compiler -s``; require every op mapped. ModelError when the compiler is absent or fails."""
    exe = compiler_available()
    if exe is None:
        raise ModelError("edgetpu_compiler is not on PATH (install Coral's edgetpu-compiler package)")
    proc = subprocess.run([exe, "-s", "-o", str(out_dir), str(path)], capture_output=True, text=True, timeout=600)
    log = parse_compiler_log(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise ModelError(f"edgetpu_compiler failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-400:]}")
    first = log.first_unmapped
    if first is not None or not log.ops:
        what = f"{first.op} ({first.status})" if first else "no operation table in the log"
        raise VerificationError(f"Edge TPU: not every op is mapped; first: {what}. {ADVICE}")
    return out_dir / f"{path.stem}_edgetpu.tflite", log
