"""What the installed package ships besides code, and where it lies: the reference int8 model with its sidecars
and model card, and the deploy files (systemd unit, udev rules, device TOML). The release public key is
:data:`liveredge.edge.trust.RELEASE_KEY`. One home for these paths: the CLI's defaults come from here.

The same paths hold in a checkout (editable install: ``models/zoo/``, ``edge/deploy/``) and in an installed wheel
(``liveredge/models/zoo/``, ``liveredge/edge/deploy/``, package data listed in pyproject.toml). The shipped model
is trained on SIMULATED ultrasound and is not for clinical use. Standard library only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from liveredge.edge.errors import ConfigError

_HERE = Path(__file__).resolve().parent
ZOO = _HERE.parent / "models" / "zoo"  # liveredge/models/zoo in a wheel, models/zoo in a checkout
DEFAULT_MODEL_NAME = "liver_cnn_int8.tflite"
MODEL_SIDECARS = (".sha256", ".statement.json")  # shipped beside the model (integrity hash, signed statement)
MODEL_CARD = ZOO / "MODEL_CARD.md"
DEPLOY_DIR = _HERE / "deploy"
DEPLOY_FILES = ("liveredge.service", "99-liveredge.rules", "liveredge.toml")


def default_model() -> Path:
    """The shipped reference int8 model (verified by its signed statement against the release key)."""
    return ZOO / DEFAULT_MODEL_NAME


def shipped_files() -> list[Path]:
    """Every file the package promises to ship besides code (tests check the wheel holds each one)."""
    model = default_model()
    return [
        model,
        *(model.with_name(model.name + s) for s in MODEL_SIDECARS),
        MODEL_CARD,
        *(DEPLOY_DIR / name for name in DEPLOY_FILES),
    ]


def missing_model_hint(path: str | Path) -> str:
    """The error text for a model path that is not a file (the shipped one missing means a broken install)."""
    if Path(path) == default_model():
        return (
            f"--model {path}: the shipped model is missing from this installation; reinstall liveredge from "
            "its wheel, or pass --model"
        )
    return f"--model {path}: file not found; build one with 'liveredge convert' or pass another --model"


def copy_deploy_files(dest: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the deploy files into ``dest`` (created); an existing file is kept unless ``force``."""
    out = Path(dest)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder")
    targets = [out / name for name in DEPLOY_FILES]
    clash = [str(t) for t in targets if t.exists()]
    if clash and not force:
        raise ConfigError(f"{', '.join(clash)}: already there (--force overwrites)")
    out.mkdir(parents=True, exist_ok=True)
    for name, target in zip(DEPLOY_FILES, targets, strict=True):
        shutil.copyfile(DEPLOY_DIR / name, target)
    return targets
