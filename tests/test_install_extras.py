"""The install extras match the interpreter wheels published on PyPI, and the run-time hint says the same
(liveredge.edge.interpreter.interpreter_hint). The two homes of that fact are checked against each other here."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from liveredge.edge.interpreter import interpreter_hint

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
# platform -> (sys_platform, platform_machine as the marker sees it, platform.system(), platform.machine())
PLATFORMS = {
    "linux-x86_64": ("linux", "x86_64", "Linux", "x86_64"),
    "linux-aarch64": ("linux", "aarch64", "Linux", "aarch64"),
    "linux-armv7l": ("linux", "armv7l", "Linux", "armv7l"),
    "macos-arm64": ("darwin", "arm64", "Darwin", "arm64"),
    "macos-x86_64": ("darwin", "x86_64", "Darwin", "x86_64"),
    "windows-amd64": ("win32", "AMD64", "Windows", "AMD64"),
    "linux-riscv64": ("linux", "riscv64", "Linux", "riscv64"),
}


def _installs(extra: str, name: str, sys_platform: str, machine: str, python: str = "3.11") -> bool:
    env = {
        "sys_platform": sys_platform,
        "platform_machine": machine,
        "python_version": python,
        "python_full_version": python + ".0",
        "extra": extra,
    }
    reqs = [Requirement(r) for r in EXTRAS[extra]]
    return any(r.name == name and (r.marker is None or r.marker.evaluate(env)) for r in reqs)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_edge_installs_litert_exactly_where_the_hint_recommends_it(platform: str) -> None:
    sys_platform, machine, system, py_machine = PLATFORMS[platform]
    hint = interpreter_hint(system, py_machine, (3, 11))
    assert _installs("edge", "ai-edge-litert", sys_platform, machine) == ("liveredge[edge]" in hint), hint


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_device_installs_tflite_runtime_on_linux_with_python_up_to_3_11(platform: str) -> None:
    sys_platform, machine, system, py_machine = PLATFORMS[platform]
    assert _installs("device", "tflite-runtime", sys_platform, machine, "3.11") == (sys_platform == "linux")
    assert not _installs("device", "tflite-runtime", sys_platform, machine, "3.12")
    if system == "Linux" and py_machine == "armv7l":
        assert "liveredge[device]" in interpreter_hint(system, py_machine, (3, 11))
    if system == "Linux" and py_machine == "riscv64":
        assert "no published interpreter wheel" in interpreter_hint(system, py_machine, (3, 11))


def test_device_extra_holds_numpy_below_2_and_no_litert() -> None:
    device = [Requirement(r) for r in EXTRAS["device"]]
    numpy = next(r for r in device if r.name == "numpy")
    assert not numpy.specifier.contains("2.0") and numpy.specifier.contains("1.26.4")
    assert all(r.name != "ai-edge-litert" for r in device)


def test_runtime_extras_list_no_package_the_code_never_imports() -> None:
    runtime = {Requirement(r).name for extra in ("edge-base", "edge", "device") for r in EXTRAS[extra]}
    assert not runtime & {"scikit-learn", "pillow", "matplotlib", "tensorflow"}


def test_locks_are_hash_pinned() -> None:
    for lock in ("dev.lock", "device.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        pins = [ln for ln in text.splitlines() if ln[:1].isalnum()]
        assert pins and all("==" in ln for ln in pins), lock
        assert text.count("--hash=sha256:") >= len(pins), lock
    device = (ROOT / "requirements" / "device.lock").read_text()
    assert "tflite-runtime==2.14.0" in device and "numpy==1." in device and "tensorflow==" not in device
