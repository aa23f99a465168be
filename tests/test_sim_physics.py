"""The phantom images MEAN what their labels say, on the same patient and profile, across profiles.

Measurements live in tests/sim_measure.py and use the simulator's ground-truth region maps.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_measure import cyst_contrast, depth_slope, grey, hepatorenal_ratio, heterogeneity, surface_roughness

from liveredge.edge.sim import Patient, Scanner, get_profile, make_patient
from liveredge.edge.sim.exam import NEUTRAL
from liveredge.edge.sim.geometry import fov_points
from liveredge.edge.sim.patient import place_lesions

SIZE = (256, 256)
SITES = ["S1", "S2", "S3", "S4", "S5", "S6"]
DEEP_SITES = ["S1", "S2", "S3", "S5", "S6"]  # S4 is a linear 8 cm probe: no kidney or diaphragm in view


def _patient(condition: str, **kw: object) -> Patient:
    return make_patient("same-patient", condition, seed=5, view="sagittal", **kw)  # type: ignore[arg-type]


def _scanner(condition: str, site: str, **kw: object) -> Scanner:
    """The same patient in the hepatorenal (sagittal) view with a neutral operator: the physics of each
    label, with exam-to-exam variation held fixed (tests/test_sim_shortcuts.py covers the variation)."""
    return Scanner(replace(_patient(condition, **kw), operator=NEUTRAL), get_profile(site), size=SIZE)


def _lesion_scanner(kind: str, site: str, diameter_mm: float = 30.0, variant: str | None = None) -> Scanner:
    """One lesion of ``kind`` and ``diameter_mm`` somewhere in the liver this profile sees."""
    p = _patient("focal_lesion", lesion=kind)
    x, z = fov_points(get_profile(site))
    mid = (z > 0.3 * z.max()) & (z < 0.65 * z.max()) & (np.abs(x) < 0.25 * np.abs(x).max())  # room behind it
    p = place_lesions(
        np.random.default_rng(1),
        replace(p, lesions=(), operator=NEUTRAL),
        kind,
        (x[mid], z[mid]),
        count=1,
        diameter_mm=diameter_mm,
    )
    if variant is not None:
        p = replace(p, lesions=(replace(p.lesions[0], variant=variant),))
    return Scanner(p, get_profile(site), size=SIZE)


@pytest.mark.parametrize("site", DEEP_SITES)
def test_steatosis_raises_hepatorenal_ratio_and_attenuation_monotonically(site: str) -> None:
    scanners = [_scanner("normal", site)] + [_scanner("steatosis", site, severity=g) for g in (1, 2, 3)]
    ratios = [np.mean([hepatorenal_ratio(s, i) for i in (0, 20)]) for s in scanners]
    slopes = [np.mean([depth_slope(s, i) for i in (0, 20)]) for s in scanners]
    assert all(a < b for a, b in zip(ratios, ratios[1:], strict=False)), (
        f"{site}: liver/kidney ratio not increasing: {ratios}"
    )
    assert ratios[0] < 1.3 < ratios[3], f"{site}: normal should be near 1, S3 above the 1.3 cut-off: {ratios}"
    assert all(a > b for a, b in zip(slopes, slopes[1:], strict=False)), f"{site}: depth slope not falling: {slopes}"
    assert slopes[3] < slopes[0] - 1.5, f"{site}: S3 attenuation barely visible: {slopes}"


@pytest.mark.parametrize("site", DEEP_SITES)
def test_cirrhosis_is_coarse_and_nodular(site: str) -> None:
    normal, f4 = _scanner("normal", site), _scanner("fibrosis", site, severity=4)

    def het(s: Scanner) -> float:  # over three frames: coarse-speckle probes (S5) make one frame noisy
        return float(np.mean([heterogeneity(s, i) for i in (0, 10, 20)]))

    assert het(f4) > 1.6 * het(normal)
    assert surface_roughness(f4, 0) > 2.5 * surface_roughness(normal, 0) + 0.5
    assert normal.region_maps(0)["ascites"].sum() == 0


def test_f4_often_shows_ascites_f2_never() -> None:
    f4 = [make_patient(f"A{k}", "fibrosis", severity=4, seed=k).ascites_cm > 0 for k in range(40)]
    f2 = [make_patient(f"A{k}", "fibrosis", severity=2, seed=k).ascites_cm > 0 for k in range(40)]
    assert 0.5 <= np.mean(f4) <= 0.9 and not any(f2)


def test_fibrosis_texture_grows_with_stage() -> None:
    def het(condition: str, stage: int | None) -> float:
        vals = []
        for seed in range(3):
            kw = {"severity": stage} if stage else {}
            p = make_patient(f"H{seed}", condition, seed=seed, view="sagittal", **kw)  # type: ignore[arg-type]
            vals.append(heterogeneity(Scanner(replace(p, operator=NEUTRAL), get_profile("S1"), size=SIZE), 0))
        return float(np.mean(vals))

    f0, f2, f4 = het("normal", None), het("fibrosis", 2), het("fibrosis", 4)
    assert f0 < f2 < f4, (f0, f2, f4)


@pytest.mark.parametrize("site", SITES)
def test_simple_cyst_is_anechoic_with_posterior_enhancement(site: str) -> None:
    inside, around, behind = cyst_contrast(_lesion_scanner("cyst", site, 25.0, "simple"), 0)
    assert inside < 0.35 * around, (inside, around)
    assert behind > around + 10, (behind, around)


@pytest.mark.parametrize(
    "kind,variant,brighter",
    [
        ("haemangioma", "typical", True),
        ("hcc", "halo", False),
        ("metastasis", "target", None),
        ("metastasis", "hypoechoic", False),
        ("metastasis", "hyperechoic", True),
    ],
)
def test_solid_lesions_differ_from_liver_as_described(kind: str, variant: str, brighter: bool | None) -> None:
    s = _lesion_scanner(kind, "S2", 30.0, variant)
    img, maps = grey(s, 0), s.region_maps(0)
    lesion, liver = img[maps["lesion"]].mean(), img[maps["liver"]].mean()
    if brighter is None:  # target sign: bright centre, dark rim -> bimodal, wide spread
        assert img[maps["lesion"]].std() > 1.5 * img[maps["liver"]].std()
    elif brighter:
        assert lesion > liver + 15
    else:
        assert lesion < liver - 15


@pytest.mark.parametrize("site", SITES)
def test_every_focal_lesion_patient_shows_a_lesion(site: str) -> None:
    for seed in range(6):
        kind = ("cyst", "haemangioma", "hcc", "metastasis")[seed % 4]
        p = make_patient(f"L{seed}", "focal_lesion", lesion=kind, seed=seed, profile=get_profile(site))
        f = Scanner(p, get_profile(site), size=SIZE).frame(0)
        assert f.lesions, f"{site} seed {seed}: lesion out of view"


def test_two_profiles_differ_measurably() -> None:
    p = make_patient("same", "normal")
    a, b = Scanner(p, get_profile("S1"), size=SIZE), Scanner(p, get_profile("S3"), size=SIZE)
    ma, mb = a.fan_mask > 0, b.fan_mask > 0
    iou = (ma & mb).sum() / (ma | mb).sum()
    assert iou < 0.9
    ha = np.histogram(grey(a, 0)[ma], bins=16, range=(0, 256), density=True)[0]
    hb = np.histogram(grey(b, 0)[mb], bins=16, range=(0, 256), density=True)[0]
    assert np.abs(ha - hb).sum() * 16 > 0.2
