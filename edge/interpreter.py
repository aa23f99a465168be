"""TFLite interpreter selection, the Edge TPU delegate, and a thin classifier runner.

Backends, tried in order and imported lazily inside functions (importing this module pulls in none of them):
``ai_edge_litert.interpreter`` (LiteRT), ``tflite_runtime.interpreter``, ``tensorflow.lite`` (a workstation
fallback only). ``--device edgetpu[:usb:0|:pci:0]`` loads the Edge TPU delegate with the per-OS library name
(:data:`EDGETPU_LIBRARIES`) and ``{"device": "usb:0"}`` options; when it cannot be loaded the error says why, and
the caller may opt in to a CPU fallback.

Quantisation (pycoral style, where it is used): an integer tensor holds ``q`` with ``real = (q - zero_point) *
scale``; the runner writes already-quantised inputs (the preprocessing LUT produces them, no float round trip) and
dequantises the probability output to float32 in 0..1 (the model ends in softmax).
"""

from __future__ import annotations

import importlib
import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, ModelError
from liveredge.edge.model_meta import QuantParams

BACKENDS: tuple[str, ...] = ("ai_edge_litert", "tflite_runtime", "tensorflow")
EDGETPU_LIBRARIES: dict[str, str] = {
    "Linux": "libedgetpu.so.1",
    "Darwin": "libedgetpu.1.dylib",
    "Windows": "edgetpu.dll",
}
_DTYPES = {np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8"}


class EdgeTpuUnavailable(ModelError):
    """The Edge TPU delegate could not be loaded (library missing, device absent or busy)."""


@dataclass(frozen=True)
class Backend:
    """One interpreter implementation: its module name, Interpreter class and ``load_delegate`` function."""

    name: str
    interpreter_cls: Any
    load_delegate: Callable[..., Any]


@dataclass(frozen=True)
class DeviceSpec:
    """Where to run: ``kind`` "cpu" or "edgetpu"; ``edgetpu_device`` e.g. "usb:0", "pci:0" or None (any)."""

    kind: str = "cpu"
    edgetpu_device: str | None = None

    @property
    def label(self) -> str:
        return self.kind if self.edgetpu_device is None else f"{self.kind}:{self.edgetpu_device}"


def parse_device(text: str) -> DeviceSpec:
    """``cpu`` | ``edgetpu`` | ``edgetpu:usb`` | ``edgetpu:usb:0`` | ``edgetpu:pci:0`` → :class:`DeviceSpec`."""
    parts = text.strip().lower().split(":", 1)
    if parts[0] == "cpu" and len(parts) == 1:
        return DeviceSpec()
    if parts[0] == "edgetpu":
        if len(parts) == 1 or not parts[1]:
            return DeviceSpec("edgetpu", None)
        dev = parts[1]
        kind, _, index = dev.partition(":")
        if kind in ("usb", "pci") and (index == "" or index.isdigit()):
            return DeviceSpec("edgetpu", dev)
    raise ConfigError(f"--device {text!r} is not understood; use cpu, edgetpu, edgetpu:usb:0 or edgetpu:pci:0")


def _backend_from_module(name: str) -> Backend:
    if name == "tensorflow":
        tf = importlib.import_module("tensorflow")
        return Backend(name, tf.lite.Interpreter, tf.lite.experimental.load_delegate)
    mod = importlib.import_module(f"{name}.interpreter")
    return Backend(name, mod.Interpreter, mod.load_delegate)


def find_backend(order: tuple[str, ...] = BACKENDS) -> Backend:
    """The first importable interpreter backend in ``order``; ModelError naming the extra when none is."""
    missing: list[str] = []
    for name in order:
        try:
            return _backend_from_module(name)
        except ImportError as exc:
            missing.append(f"{name} ({exc.__class__.__name__}: {exc})")
    raise ModelError("no TFLite interpreter is installed (tried " + "; ".join(missing) + "); " + interpreter_hint())


def interpreter_hint(
    system: str | None = None, machine: str | None = None, python: tuple[int, int] | None = None
) -> str:
    """What to install for an interpreter on this platform, from the wheels published on PyPI: ai-edge-litert 2.3
    (Linux x86_64/aarch64, macOS arm64, Windows x86_64; CPython 3.10-3.14), tflite-runtime 2.14 (Linux
    x86_64/aarch64/armv7l; CPython <= 3.11; numpy < 2). Mirrors the markers of the ``edge``/``device`` extras."""
    import sys

    system, machine = system or platform.system(), (machine or platform.machine()).lower()
    py = python or sys.version_info[:2]
    litert = (system, machine) in {("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"), ("Windows", "amd64")}
    tflite = system == "Linux" and machine in ("x86_64", "aarch64", "armv7l") and py <= (3, 11)
    if litert:
        return "install one with: pip install 'liveredge[edge]' (ai-edge-litert)"
    if tflite:
        return (
            f"ai-edge-litert publishes no wheel for {system} {machine}; install: pip install "
            "'liveredge[device]' (tflite-runtime 2.14 with numpy < 2)"
        )
    return (
        f"no published interpreter wheel fits {system} {machine} with Python {py[0]}.{py[1]} (ai-edge-litert: "
        "Linux x86_64/aarch64, macOS arm64, Windows x86_64; tflite-runtime 2.14: Linux x86_64/aarch64/armv7l "
        "with Python <= 3.11); build LiteRT from source or use a supported platform"
    )


def edgetpu_library(system: str | None = None) -> str:
    """The Edge TPU delegate library file name for an OS (``platform.system()`` by default)."""
    system = system or platform.system()
    try:
        return EDGETPU_LIBRARIES[system]
    except KeyError:
        raise EdgeTpuUnavailable(f"the Edge TPU delegate is not available on {system}") from None


def load_edgetpu_delegate(backend: Backend, device: DeviceSpec, system: str | None = None) -> Any:
    """Load the Edge TPU delegate for ``device``; EdgeTpuUnavailable with the reason when it fails."""
    library = edgetpu_library(system)
    options = {} if device.edgetpu_device is None else {"device": device.edgetpu_device}
    try:
        return backend.load_delegate(library, options)
    except (ValueError, OSError, RuntimeError) as exc:
        raise EdgeTpuUnavailable(
            f"cannot load the Edge TPU delegate {library} with options {options}: {exc}; check that the "
            "Edge TPU runtime (libedgetpu) is installed and the accelerator is plugged in and not in use "
            "by another process, or pass --cpu-fallback to run on the CPU"
        ) from exc


def make_interpreter(
    model: bytes,
    *,
    num_threads: int | None = None,
    device: DeviceSpec = DeviceSpec(),
    cpu_fallback: bool = False,
    backend: Backend | None = None,
    on_fallback: Callable[[str], None] | None = None,
) -> tuple[Any, str]:
    """An allocated interpreter for ``model`` bytes and the device actually used ("cpu" or "edgetpu:...").

    With ``cpu_fallback`` a delegate failure calls ``on_fallback(reason)`` and runs on the CPU instead.
    """
    if num_threads is not None and num_threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {num_threads}")
    backend = backend or find_backend()
    delegates: list[Any] = []
    used = "cpu"
    if device.kind == "edgetpu":
        try:
            delegates.append(load_edgetpu_delegate(backend, device))
            used = device.label
        except EdgeTpuUnavailable as exc:
            if not cpu_fallback:
                raise
            if on_fallback is not None:
                on_fallback(str(exc))
    try:
        interp = backend.interpreter_cls(
            model_content=model, num_threads=num_threads, experimental_delegates=delegates or None
        )
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"the {backend.name} interpreter cannot load the model on {used}: {exc}") from exc
    return interp, used


def _quant_of(detail: dict[str, Any]) -> QuantParams | None:
    dtype = _DTYPES.get(np.dtype(detail["dtype"]))
    scale, zero_point = detail["quantization"]
    if dtype is None or not scale:
        return None
    return QuantParams(scale=float(scale), zero_point=int(zero_point), dtype=dtype)


def check_quant(name: str, tensor: QuantParams | None, declared: QuantParams | None) -> None:
    """Raise ModelError when metadata declares a quantisation the tensor does not have (rel. tol. 1e-4)."""
    if declared is None:
        return
    ok = (
        tensor is not None
        and tensor.dtype == declared.dtype
        and tensor.zero_point == declared.zero_point
        and abs(tensor.scale - declared.scale) <= 1e-4 * abs(declared.scale)
    )
    if not ok:
        raise ModelError(
            f"model {name} quantisation {tensor} differs from its metadata {declared}; re-convert the model"
        )


class ClassifierRunner:
    """Feeds one (H, W, C) input and reads class probabilities (and a class-activation map) from an interpreter.

    ``n_classes`` picks the probability output: the rank-2 output of shape (1, n_classes). ``cam_output`` is the
    index into ``get_output_details()`` of a rank-4 (1, h, w, n_classes) map, or None.
    """

    def __init__(self, interpreter: Any, n_classes: int, cam_output: int | None = None) -> None:
        self.interpreter = interpreter
        inp = interpreter.get_input_details()
        if len(inp) != 1:
            raise ModelError(f"a classifier has one input tensor; this model has {len(inp)}")
        outs = interpreter.get_output_details()
        prob = [d for d in outs if len(d["shape"]) == 2 and int(d["shape"][-1]) == n_classes]
        if not prob:
            shapes = [list(d["shape"]) for d in outs]
            raise ModelError(f"no (1, {n_classes}) probability output among the model outputs {shapes}")
        self.input_index: int = int(inp[0]["index"])
        self.input_shape: tuple[int, ...] = tuple(int(v) for v in inp[0]["shape"][1:])
        self.input_dtype = np.dtype(inp[0]["dtype"])
        self.input_quant = _quant_of(inp[0])
        self.output_index: int = int(prob[0]["index"])
        self.output_quant = _quant_of(prob[0])
        self.cam_index: int | None = None
        self.cam_quant: QuantParams | None = None
        if cam_output is not None:
            cams = [d for d in outs if len(d["shape"]) == 4]
            if not cams:
                raise ModelError("the model metadata names a class-activation output but the model has no 4-D output")
            cam = outs[cam_output] if 0 <= cam_output < len(outs) and len(outs[cam_output]["shape"]) == 4 else cams[0]
            self.cam_index, self.cam_quant = int(cam["index"]), _quant_of(cam)

    def set_input(self, x: np.ndarray) -> None:
        """Write one input (H, W, C) of the model's dtype (already quantised for integer inputs)."""
        if x.shape != self.input_shape or x.dtype != self.input_dtype:
            raise ModelError(f"model input must be {self.input_dtype} {self.input_shape}, got {x.dtype} {x.shape}")
        self.interpreter.set_tensor(self.input_index, x[None, ...])

    def invoke(self) -> None:
        try:
            self.interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"model invoke failed: {exc}") from exc

    def probs(self) -> np.ndarray:
        """Class probabilities, float32 (n_classes,), dequantised when the output is integer."""
        return _dequant(self.interpreter.get_tensor(self.output_index)[0], self.output_quant)

    def cam(self) -> np.ndarray | None:
        """The class-activation map, float32 (h, w, n_classes), or None when the model has none."""
        if self.cam_index is None:
            return None
        return _dequant(self.interpreter.get_tensor(self.cam_index)[0], self.cam_quant)


def _dequant(q: np.ndarray, quant: QuantParams | None) -> np.ndarray:
    if quant is None:
        return np.asarray(q, dtype=np.float32)
    return (q.astype(np.float32) - np.float32(quant.zero_point)) * np.float32(quant.scale)
