"""Pure parts of the toolchain: gate metrics and budgets, Edge TPU log parsing, data discovery/stratification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from liveredge.convert.data import Sample, discover, stratify
from liveredge.convert.edgetpu import parse_compiler_log
from liveredge.convert.gate import GateBudget, format_gate, run_gate
from liveredge.convert.layers import layer_name
from liveredge.edge.errors import ConfigError, DataError, GateFailed

LABELS = ("normal", "steatosis", "fibrosis", "focal_lesion")

# Shape of a real `edgetpu_compiler -s` (v16) log for a model whose ops are not all mapped.
COMPILER_LOG = """Edge TPU Compiler version 16.0.384591198
Started a compilation timeout timer of 180 seconds.

Model compiled successfully in 412 ms.

Input model: liver_cnn_int8.tflite
Input size: 118.34KiB
Output model: liver_cnn_int8_edgetpu.tflite
Output size: 201.63KiB
On-chip memory used for caching model parameters: 178.25KiB
On-chip memory remaining for caching model parameters: 7.62MiB
Off-chip memory used for streaming uncached model parameters: 0.00B
Number of Edge TPU subgraphs: 1
Total number of operations: 14
Operation log: liver_cnn_int8_edgetpu.log

Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model will instead run on the CPU, which is slower. If possible, consider updating your model to use only operations supported by the Edge TPU. For details, visit g.co/coral/model-reqs.
Number of operations that will run on Edge TPU: 12
Number of operations that will run on CPU: 2

Operator                       Count      Status

CONV_2D                        6          Mapped to Edge TPU
MAX_POOL_2D                    2          Mapped to Edge TPU
MEAN                           1          Mapped to Edge TPU
FULLY_CONNECTED                1          Mapped to Edge TPU
HARD_SWISH                     1          Operation not supported
SOFTMAX                        1          More than one subgraph is not supported
QUANTIZE                       2          Mapped to Edge TPU
Compilation child process completed within timeout period.
Compilation succeeded!
"""


def _probs(rng: np.random.Generator, y: np.ndarray, noise: float) -> np.ndarray:
    logits = np.eye(4)[y] * 2.0 + rng.normal(0, noise, (len(y), 4))
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


def test_gate_passes_identical_and_fails_damaged_predictions() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 30)
    groups = np.repeat(np.arange(40), 3)
    p = _probs(rng, y, 1.0)
    same = run_gate(y, p, p.copy(), LABELS, groups=groups, n_boot=50)
    assert same.passed and {r.name for r in same.rows} >= {"agreement", "auc", "ece", "sens:fibrosis", "spec:normal"}
    agreement = next(r for r in same.rows if r.name == "agreement")
    assert agreement.value == 1.0 and agreement.low == 1.0
    damaged = p.copy()
    damaged[:20] = damaged[:20, ::-1]  # 20 frames flip their ranking
    bad = run_gate(y, p, damaged, LABELS, groups=groups, n_boot=50)
    assert not bad.passed and {r.name for r in bad.failures} >= {"agreement"}
    row = next(r for r in bad.rows if r.name == "agreement")
    assert row.low <= row.value <= row.high < 1.0
    with pytest.raises(GateFailed, match="agreement") as info:
        bad.raise_if_failed()
    assert info.value.exit_code == 3
    assert "FAIL" in format_gate(bad)


def test_optional_budgets_are_enforced_only_when_given() -> None:
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(4), 25)
    p = _probs(rng, y, 1.5)
    shifted = p**0.5 / (p**0.5).sum(1, keepdims=True)  # same argmax and ranking, different calibration
    assert run_gate(y, p, shifted, LABELS, n_boot=20).passed
    strict = GateBudget.parse("ece=0.001")
    assert not run_gate(y, p, shifted, LABELS, n_boot=20, budget=strict).passed
    assert strict.limits["agreement"] == 0.995 and strict.limits["auc"] == 0.005
    with pytest.raises(ConfigError):
        GateBudget.parse("accuracy=0.9")
    with pytest.raises(ConfigError):
        GateBudget.parse("auc=abc")


def test_edgetpu_log_parser_reports_first_unmapped_op() -> None:
    log = parse_compiler_log(COMPILER_LOG)
    assert [o.op for o in log.ops][:2] == ["CONV_2D", "MAX_POOL_2D"] and len(log.ops) == 7
    assert log.subgraphs == 1 and not log.all_mapped
    assert log.first_unmapped is not None and log.first_unmapped.op == "HARD_SWISH"
    assert log.first_unmapped.status == "Operation not supported"
    mapped = "\n".join(line for line in COMPILER_LOG.splitlines() if "HARD_SWISH" not in line and "SOFTMAX" not in line)
    assert parse_compiler_log(mapped).all_mapped
    assert not parse_compiler_log("Edge TPU Compiler version 16\nInvalid model").all_mapped


def test_stratify_covers_every_class_and_site() -> None:
    samples = [Sample(f"f{i}", 0, i % 4, f"S{i % 3}") for i in range(120)]
    picked = stratify(samples, 12, seed=0)
    assert len(picked) == 12 and len(set(picked)) == 12
    assert {s.label for s in picked} == {0, 1, 2, 3} and {s.site for s in picked} == {"S0", "S1", "S2"}
    assert stratify(samples, 12, seed=0) == picked
    assert len(stratify(samples, None)) == 120


def test_data_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        discover(tmp_path / "missing")
    with pytest.raises(DataError, match="no frames"):
        discover(tmp_path)
    (tmp_path / "manifest.csv").write_text("file,label\nx.png,normal\n")
    with pytest.raises(DataError, match="'path' column"):
        discover(tmp_path)


def test_layer_names_map_back_to_source_layers() -> None:
    assert layer_name("functional_1/conv2d_1/Relu;functional_1/conv2d_1/convolution") == "conv2d_1"
    assert layer_name("serving_default_input:0") == "serving_default_input:0"


def test_bench_formats_tells_export_failure_apart() -> None:
    from liveredge.convert.formats import bench_formats, format_rows

    class Broken:
        optimizations: list[object] = []
        representative_dataset = None

        class target_spec:  # noqa: N801 - mimics the converter's attribute
            supported_types: list[object] = []

        def convert(self) -> bytes:
            raise RuntimeError("op FOO is not supported")

    x = np.zeros((2, 8, 8, 1), dtype=np.float32)
    rows = bench_formats(Broken, x, x, np.array([0, 1]))
    assert [r.status for r in rows] == ["export failed"] * 4
    assert all("FOO" in r.detail and r.size_bytes is None for r in rows)
    assert "export failed" in format_rows(rows)
