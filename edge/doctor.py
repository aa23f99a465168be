"""``liveredge doctor``: what this installation can do, checked (like ``yolo checks`` / pycoral's
``list_edge_tpus``): versions, interpreter backends, the shipped model's trust decision, Edge TPU devices, serial
ports. Every probe is read-only and never raises: a failure is reported as a finding. Standard library at module
level; the probes import their packages lazily.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from liveredge.edge.version import package_version

DISTRIBUTIONS = (
    "numpy",
    "opencv-python-headless",
    "opencv-python",
    "ai-edge-litert",
    "tflite-runtime",
    "tensorflow",
    "pydicom",
    "pyserial",
    "cryptography",
    "flatbuffers",
    "matplotlib",
)
CORAL_USB_IDS = {("1a6e", "089a"), ("18d1", "9302")}  # Global Unichip (unflashed) / Google (running) USB ids


@dataclass(frozen=True)
class DoctorReport:
    """Findings; ``ok`` is False when this installation cannot run the shipped model."""

    liveredge: str
    python: str
    platform: str
    packages: dict[str, str]
    interpreters: dict[str, str]
    shipped_model: dict[str, Any]
    edgetpu: dict[str, Any]
    serial_ports: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _versions() -> dict[str, str]:
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _interpreters() -> dict[str, str]:
    from liveredge.edge.interpreter import BACKENDS

    return {name: "importable" if importlib.util.find_spec(name) is not None else "absent" for name in BACKENDS}


def _shipped_model() -> dict[str, Any]:
    from liveredge.edge.errors import LiveredgeError
    from liveredge.edge.runtime.model import LoadOptions, build_model, decide
    from liveredge.edge.shipped import default_model

    path = default_model()
    out: dict[str, Any] = {"path": str(path), "present": path.is_file()}
    if not out["present"]:
        return out
    try:
        options = LoadOptions(num_threads=1)
        model = build_model(*decide(path, options), path, options)
    except LiveredgeError as exc:
        return {**out, "loads": False, "error": str(exc)}
    s = model.statement
    return {
        **out,
        "loads": True,
        "verified": model.verified,
        "sha256": model.sha256,
        "statement": None if s is None else f"{s.name} v{s.version} {s.role}",
        "labels": list(model.meta.labels),
    }


def _edgetpu() -> dict[str, Any]:
    from liveredge.edge.interpreter import EDGETPU_LIBRARIES

    usb = []
    for dev in sorted(Path("/sys/bus/usb/devices").glob("*")):
        try:
            ids = ((dev / "idVendor").read_text().strip(), (dev / "idProduct").read_text().strip())
        except OSError:
            continue
        if ids in CORAL_USB_IDS:
            usb.append(f"{dev.name} ({ids[0]}:{ids[1]})")
    library = EDGETPU_LIBRARIES.get(platform.system(), "")
    return {
        "library": library,
        "library_found": bool(library) and ctypes.util.find_library("edgetpu") is not None,
        "usb": usb,
        "pci": sorted(str(p) for p in Path("/dev").glob("apex_*")),
    }


def _serial_ports() -> list[str]:
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return sorted(f"{p.device} ({p.description})" for p in list_ports.comports())


def diagnose() -> DoctorReport:
    """Run every probe and collect the problems that stop the shipped model from running."""
    from liveredge.edge.interpreter import interpreter_hint

    interpreters = _interpreters()
    model = _shipped_model()
    problems = []
    if "importable" not in interpreters.values():
        problems.append(f"no TFLite interpreter: {interpreter_hint()}")
    if not model["present"]:
        problems.append(f"the shipped model is missing ({model['path']}): reinstall liveredge from its wheel")
    elif not model.get("loads") and "importable" in interpreters.values():
        problems.append(f"the shipped model does not load: {model.get('error')}")
    return DoctorReport(
        liveredge=package_version(),
        python=sys.version.split()[0],
        platform=f"{platform.system()} {platform.machine()}",
        packages=_versions(),
        interpreters=interpreters,
        shipped_model=model,
        edgetpu=_edgetpu(),
        serial_ports=_serial_ports(),
        problems=problems,
    )
