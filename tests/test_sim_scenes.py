"""Non-liver scenes (for the "not a liver" gate): every kind renders through the same scanner, is
labelled not_liver, is deterministic, looks like what it claims, and joins datasets as negatives.
SIMULATED, not for clinical use."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from liveredge.edge.errors import ConfigError
from liveredge.edge.events import NOT_LIVER
from liveredge.edge.sim import Scanner, get_profile
from liveredge.edge.sim.dataset import plan_dataset, write_dataset
from liveredge.edge.sim.scenes import SCENES, make_scene

SIZE = (256, 256)


@pytest.mark.parametrize("kind", SCENES)
def test_every_scene_renders_deterministically_as_not_liver(kind: str) -> None:
    frames = [Scanner(make_scene("N1", kind, seed=4), get_profile("S1"), size=SIZE).frame(3) for _ in range(2)]
    assert frames[0].label == NOT_LIVER and not frames[0].lesions
    assert np.array_equal(frames[0].image, frames[1].image)
    maps = Scanner(make_scene("N1", kind, seed=4), get_profile("S1"), size=SIZE).region_maps(3)
    assert not maps["liver"].any(), f"{kind} must contain no liver"


def _fan_grey(kind: str, region: str | None = None) -> tuple[float, float]:
    s = Scanner(make_scene("N2", kind, seed=1), get_profile("S1"), size=SIZE)
    f, maps = s.frame(0), s.region_maps(0)
    grey = f.image[:, :, 1].astype(np.float32)
    fan = f.fan_mask > 0
    inside = maps[region] & fan if region else fan
    return float(grey[inside].mean()), float(grey[fan].mean())


def test_scenes_look_like_what_they_claim() -> None:
    chambers, heart_fan = _fan_grey("cardiac", "vessel")
    assert chambers < 0.5 * heart_fan, "cardiac chambers are blood: dark"
    bladder, pelvis = _fan_grey("bladder", "gallbladder")  # the bladder uses the fluid-organ code
    assert bladder < 0.4 * pelvis
    air, _ = _fan_grey("air")
    tissue, _ = _fan_grey("kidney")
    assert air < 0.5 * tissue, "a probe in air shows only faint reverberation"


def test_unknown_scene_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown scene"):
        make_scene("N", "brain")


def test_dataset_negatives_cycle_scenes_and_sites(tmp_path: Path) -> None:
    specs = plan_dataset(4, ["S1", "S4"], seed=3, negatives=len(SCENES))
    assert [s.scene for s in specs[4:]] == list(SCENES)
    assert {s.site for s in specs[4:]} == {"S1", "S4"}, "negatives are not tied to one probe"
    manifest = write_dataset(tmp_path / "d", specs, 1, progress=False)
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    neg = [r for r in rows if r["label"] == NOT_LIVER]
    assert len(neg) == len(SCENES) and {r["view"] for r in neg} == set(SCENES)
    assert all(r["condition"] == NOT_LIVER for r in neg)
