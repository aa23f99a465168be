"""Print the requirements of the device-style venv (``make test-device``), derived from pyproject.toml.

The device gets the core dependencies and the ``edge`` extra WITHOUT ai-edge-litert, plus tflite-runtime 2.14
(which needs numpy < 2, hence an OpenCV wheel built for numpy 1.x), and the test tools pinned in the ``dev``
extra. No TensorFlow, Keras or onnx: proof that a device without them works.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# tflite-runtime 2.14 is built for numpy 1.x; so must be OpenCV and the pylibjpeg plugins (their newer releases
# require numpy >= 2). These older plugin releases decode the same transfer syntaxes (JPEG, JPEG-LS, J2K, RLE).
DEVICE_PINS = [
    "tflite-runtime==2.14.0", "numpy<2", "opencv-python-headless<4.11",
    "pylibjpeg-libjpeg==2.1.0", "pylibjpeg-openjpeg==2.3.0", "pylibjpeg-rle==2.0.0",
]
DROP = {"ai-edge-litert"} | {_pin.split("=")[0].split("<")[0] for _pin in DEVICE_PINS}  # replaced by DEVICE_PINS
TEST_TOOLS = {"pytest", "pytest-timeout", "hypothesis"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def device_requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *extras["edge"]]
    wanted += [r for r in extras["dev"] if _name(r) in TEST_TOOLS]
    kept = [r for r in wanted if _name(r) not in DROP and not _name(r).startswith("liveredge")]
    return DEVICE_PINS + kept


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    print("\n".join(device_requirements(root / "pyproject.toml")))
