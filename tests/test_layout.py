"""The package installs under one namespace and its device side stays free of TensorFlow."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"edge", "convert", "firmware_bridge", "models", "cli"}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = set()
    for part in PARTS:
        for init in (ROOT / part).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            on_disk.add("liveredge." + ".".join(rel))
    assert on_disk == listed, f"pyproject packages differ from folders: {sorted(on_disk ^ listed)}"


def test_device_side_imports_without_tensorflow() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import liveredge.edge, liveredge.firmware_bridge\n"
        "for pkg in (liveredge.edge, liveredge.firmware_bridge):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'tensorflow', 'keras', 'tf_keras', 'onnx', 'onnx2tf', 'torch'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"device side pulled in: {out.stdout.strip()}"


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "liveredge.cli.main", "--help"], capture_output=True, text=True, check=True
    )
    assert "not for clinical use" in out.stdout.lower().replace("\n", " ")
