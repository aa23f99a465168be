"""What the federated tests share: the tiny federation (a 32x32 width-0.25 CNN from scratch, 2 clinics x 10
patients, one round) and a /proc scan for leftover Flower processes. SIMULATED data, not for clinical use."""

from __future__ import annotations

import os
from pathlib import Path

from liveredge.models.federated.config import FederateConfig

TINY = FederateConfig(
    clinics=2,
    patients_per_clinic=10,
    negatives_per_clinic=3,
    frames_per_patient=2,
    screen_size=(128, 128),
    rounds=1,
    local_epochs=1,
    batch_size=8,
    val_frac=0.3,
    init="fresh",
    width=0.25,
    input_size=(32, 32),
    unseen_patients=5,
    round_timeout_s=300.0,
)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            except OSError:
                continue
            if text.encode() in blob:
                found.append(int(entry.name))
    return found
