"""Speckle physics on the homogeneous phantom, against theory (and against pymust/SIMUS when installed).

Where it is measured, and why:
- grey std and speckle sizes in the BEAM-SPACE image (rows = depth samples, columns = beam lines): that is
  where the physics lives; scan conversion interpolates between samples and lowers the std (~15 %), which
  is checked separately on the screen image;
- the depth slope with TGC off on the SCREEN image, with the ``top_px`` and ``mm_per_px`` the phantom's
  JSON gives, so the metadata is checked too (linear probe: screen rows are depth).
Theory: fully developed speckle after log compression has a 5.57 dB std; L averaged intensity looks give
4.34 * sqrt(psi1(L)) dB (2.73 dB for L = 3). Axial speckle size ~ c / 2B. SIMULATED images.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from liveredge.cli.main import main
from liveredge.edge.errors import ConfigError
from liveredge.edge.sim.bmode import make_plan, psf, render_polar
from liveredge.edge.sim.geometry import fit_geometry, polar_grid
from liveredge.edge.sim.phantom import PhantomSpec, phantom_profile, render_phantom

RAYLEIGH_LOG_STD_DB = 5.57


def acf_fwhm(img: np.ndarray, axis: int) -> float:
    """Full width at half maximum (samples) of the mean autocorrelation of ``img`` along ``axis``."""
    a = img.astype(np.float64)
    a = a - a.mean(axis=axis, keepdims=True)
    n = a.shape[axis]
    ac = np.fft.irfft(np.abs(np.fft.rfft(a, n=2 * n, axis=axis)) ** 2, axis=axis)
    ac = ac.mean(axis=1 - axis)[:n]
    ac = ac / ac[0]
    k = int(np.argmax(ac < 0.5))
    return 2.0 * (k - 1 + (ac[k - 1] - 0.5) / (ac[k - 1] - ac[k]))


def _focus_rows(ph, half_cm: float = 0.4) -> slice:  # type: ignore[no-untyped-def]
    dr_cm = ph.dr_mm / 10
    r = int(round(ph.focus_cm / dr_cm))
    h = int(round(half_cm / dr_cm))
    return slice(r - h, r + h)


@pytest.mark.parametrize("probe,dr_db", [("linear", 45.0), ("linear", 60.0), ("curvilinear", 72.0), ("phased", 60.0)])
def test_grey_std_is_log_rayleigh(probe: str, dr_db: float) -> None:
    ph = render_phantom(
        PhantomSpec(
            probe=probe,
            frequency_mhz=3.5 if probe != "linear" else 5.0,
            depth_cm=12.0 if probe != "linear" else 6.0,
            dynamic_range_db=dr_db,
            seed=2,
        )
    )
    expect = RAYLEIGH_LOG_STD_DB * 255 / dr_db
    beam_std = float(ph.beam[_focus_rows(ph)].std())
    assert 0.8 * expect <= beam_std <= 1.2 * expect, (beam_std, expect)
    screen = ph.image[ph.mask > 0].astype(np.float64)
    assert 0.7 * expect <= screen.std() <= 1.05 * expect, "scan conversion should lower the std only a little"


def test_axial_speckle_size_scales_with_one_over_frequency() -> None:
    sizes = {}
    for f in (3.0, 6.0):
        ph = render_phantom(PhantomSpec(probe="linear", frequency_mhz=f, depth_cm=3.0, seed=1))
        sizes[f] = acf_fwhm(ph.beam[_focus_rows(ph, 1.0)], axis=0) * ph.dr_mm
    ratio = sizes[3.0] / sizes[6.0]
    assert 1.5 <= ratio <= 2.7, sizes
    theory = 1.54 / (2 * 0.6 * 3.0)  # mm: c / 2B, 60 % bandwidth
    assert 0.6 * theory <= sizes[3.0] <= 1.2 * theory, "log compression narrows the ACF a little, not more"


def test_lateral_speckle_is_wider_than_axial_near_the_focus() -> None:
    ph = render_phantom(PhantomSpec(probe="linear", frequency_mhz=3.5, depth_cm=6.0, seed=3))
    rows = _focus_rows(ph, 0.3)
    axial = acf_fwhm(ph.beam[rows], axis=0) * ph.dr_mm
    lateral = acf_fwhm(ph.beam[rows], axis=1) * float(ph.line_mm[rows].mean())
    assert lateral > 1.5 * axial, (lateral, axial)


def test_lateral_speckle_grows_away_from_the_focus_and_narrows_with_harmonics() -> None:
    spec = PhantomSpec(probe="curvilinear", frequency_mhz=3.0, depth_cm=16.0, focus_frac=0.35, seed=4)
    ph, thi = render_phantom(spec), render_phantom(replace(spec, harmonic=True))

    def lateral_mm(p, depth_cm: float) -> float:  # type: ignore[no-untyped-def]
        r = int(round(depth_cm / (p.dr_mm / 10)))
        return acf_fwhm(p.beam[r - 20 : r + 20], axis=1) * float(p.line_mm[r])

    assert lateral_mm(ph, 14.0) > 1.5 * lateral_mm(ph, 5.6)
    assert lateral_mm(thi, 5.6) < 0.85 * lateral_mm(ph, 5.6)


def test_depth_slope_with_tgc_off_is_the_round_trip_attenuation(tmp_path: Path) -> None:
    f, dr_db = 3.0, 80.0
    out = tmp_path / "ph.png"
    rc = main(
        [
            "simulate",
            "phantom",
            str(out),
            "--probe",
            "linear",
            "--frequency",
            str(f),
            "--depth-cm",
            "6",
            "--dynamic-range",
            str(dr_db),
            "--tgc",
            "off",
            "--seed",
            "4",
        ]
    )
    assert rc == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    import cv2

    img = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE).astype(np.float64)
    depth_cm = (np.arange(img.shape[0]) - meta["top_px"]) * meta["mm_per_px"] / 10
    w = img.shape[1]
    mean = img[:, w // 2 - 100 : w // 2 + 100].mean(axis=1)
    sel = (depth_cm > 0.3) & (depth_cm < 5.7)
    slope = np.polyfit(depth_cm[sel], mean[sel], 1)[0]
    expect = -2 * 0.5 * f * 255 / dr_db
    assert 0.7 * expect >= slope >= 1.3 * expect, (slope, expect)
    on = render_phantom(PhantomSpec(probe="linear", frequency_mhz=f, depth_cm=6.0, dynamic_range_db=dr_db, seed=4))
    mean_on = on.image[:, w // 2 - 100 : w // 2 + 100].mean(axis=1)
    assert abs(np.polyfit(depth_cm[sel], mean_on[sel], 1)[0]) < 0.15 * abs(expect), "TGC on should flatten it"


def test_compounding_lowers_speckle_contrast() -> None:
    spec = PhantomSpec(probe="linear", frequency_mhz=5.0, depth_cm=4.0, seed=2)
    stds = {n: float(render_phantom(replace(spec, compound_angles=n)).beam[150:330].std()) for n in (1, 5, 9)}
    assert stds[5] < 0.6 * stds[1], stds  # 3 looks: 2.73 / 5.57 dB = 0.49
    assert stds[9] < stds[5], stds


def test_phantom_json_and_image_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "c.png"
    assert (
        main(
            [
                "simulate",
                "phantom",
                str(out),
                "--probe",
                "curvilinear",
                "--frequency",
                "3.5",
                "--depth-cm",
                "15",
                "--dynamic-range",
                "60",
                "--seed",
                "7",
                "--size",
                "400x480",
            ]
        )
        == 0
    )
    assert "not for clinical use" in capsys.readouterr().out.lower()
    meta = json.loads(out.with_suffix(".json").read_text())
    assert {"mm_per_px", "dynamic_range_db", "frequency_mhz", "top_px"} <= set(meta)
    import cv2

    img = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert img.shape == (400, 480) and img.dtype == np.uint8
    col = img[:, 240]
    assert col[: meta["top_px"]].max() == 0 and col[meta["top_px"] + 2] > 0, "top_px is the skin line"
    live_rows = np.nonzero(col)[0]
    depth_mm = (live_rows.max() - meta["top_px"] + 1) * meta["mm_per_px"]
    assert abs(depth_mm - 150) < 3, depth_mm


@pytest.mark.parametrize(
    "args",
    [["--depth-cm", "0"], ["--frequency", "40"], ["--size", "20x20"], ["--probe", "convex"], ["--dynamic-range", "5"]],
)
def test_phantom_cli_rejects_bad_input(tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    try:
        rc = main(["simulate", "phantom", str(tmp_path / "x.png"), *args])
    except SystemExit as exc:  # argparse usage errors
        rc = int(exc.code or 0)
    assert rc == 2
    err = capsys.readouterr().err
    assert "error" in err.lower() and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def _chain(**kw: object):  # type: ignore[no-untyped-def]
    spec = PhantomSpec(probe="linear", frequency_mhz=4.0, depth_cm=8.0, dynamic_range_db=70.0)
    profile = replace(phantom_profile(spec), **kw)
    grid = polar_grid(fit_geometry(profile, (0, 0, 256, 256)), (256, 256))
    rng = np.random.default_rng(0)
    field, noise = (
        rng.standard_normal((grid.n_r, grid.n_l, 2), dtype=np.float32) * np.float32(0.7071) for _ in range(2)
    )
    amp = np.ones((grid.n_r, grid.n_l), np.float32)
    att = np.full_like(amp, 0.5)
    return profile, grid, field, noise, amp, att


def test_side_lobe_clutter_fills_fluid_less_with_harmonics() -> None:
    profile, grid, field, noise, amp, att = _chain()
    half = int(0.4 / float(grid.line_cm[0]))  # a vertical fluid band 8 mm wide
    amp[:, grid.n_l // 2 - half : grid.n_l // 2 + half] = 0.01
    inner = (slice(grid.n_r // 3, 2 * grid.n_r // 3), slice(grid.n_l // 2 - 3, grid.n_l // 2 + 3))

    def fluid(**kw: object) -> float:
        return float(render_polar(make_plan(replace(profile, **kw), grid), amp, att, field, noise)[inner].mean())

    assert fluid(clutter_db=-20.0) > fluid(clutter_db=-80.0) + 6
    assert fluid(clutter_db=-20.0, harmonic=True) < fluid(clutter_db=-20.0) - 6


def test_reverberation_repeats_a_strong_shallow_reflector_at_multiples_of_its_depth() -> None:
    profile, grid, field, noise, amp, att = _chain(clutter_db=-90.0)
    r1 = int(np.searchsorted(grid.depth_cm, 1.0))
    amp[:] = 0.01
    amp[r1 : r1 + 2] = 4.0  # a bright line at 1 cm in front of fluid
    img = render_polar(make_plan(profile, grid), amp, att, field, noise).astype(np.float64)
    row = img.mean(axis=1)
    at = {k: row[int(np.searchsorted(grid.depth_cm, k * 1.0))] for k in (2, 3)}
    between = row[int(np.searchsorted(grid.depth_cm, 2.5))]
    assert at[2] > between + 15 and at[3] > between + 8, (at, between)
    quiet = render_polar(make_plan(replace(profile, reverb_db=-90.0), grid), amp, att, field, noise)
    assert quiet.astype(np.float64).mean(axis=1)[int(np.searchsorted(grid.depth_cm, 2.0))] < at[2] - 15
    amp[: r1 + 2] = 4.0  # a bright BULK tissue (e.g. a fatty liver) is not a specular interface: no copies
    bulk = render_polar(make_plan(profile, grid), amp, att, field, noise).astype(np.float64).mean(axis=1)
    assert bulk[int(np.searchsorted(grid.depth_cm, 2.0))] < at[2] - 15


def test_fat_layer_widens_the_lateral_psf_and_persistence_blends_frames() -> None:
    profile, grid, field, noise, amp, att = _chain()
    z = np.array([3.0])
    assert psf(profile, z, fat_cm=3.0).lateral_cm[0] > 1.3 * psf(profile, z).lateral_cm[0]
    with pytest.raises(ConfigError):
        make_plan(profile, grid, fat_cm=-1.0)
    plan = make_plan(replace(profile, persistence=0.5), grid)
    a = render_polar(plan, amp, att, field, noise)
    b = render_polar(plan, amp, att, np.roll(field, 40, axis=0), noise, previous=a)
    b0 = render_polar(plan, amp, att, np.roll(field, 40, axis=0), noise)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.4 > np.corrcoef(a.ravel(), b0.ravel())[0, 1]


def test_axial_and_lateral_psf_match_pymust_simus_at_3_mhz() -> None:
    pymust = pytest.importorskip("pymust")
    from scipy.signal import hilbert

    param = pymust.getparam("P4-2v")  # 64 elements, 0.3 mm pitch: 19.2 mm aperture
    param.fc, param.bandwidth = 3e6, 60
    pulse, t = pymust.getpulse(param, 2)
    spec = np.abs(np.fft.rfft(pulse, 1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, t[1] - t[0])
    band = freqs[spec >= spec.max() / 2]
    frac_bw = (band.max() - band.min()) / 3e6  # the pulse-echo -6 dB bandwidth pymust's pulse really has
    env = np.abs(hilbert(pulse))
    above = t[env >= env.max() / 2]
    must_axial_mm = (above.max() - above.min()) * 1540 / 2 * 1e3
    aperture, zf = param.Nelements * param.pitch, 0.05
    x = np.linspace(-6e-3, 6e-3, 241)
    field = np.asarray(pymust.pfield(x, np.zeros_like(x), np.full_like(x, zf), pymust.txdelay(0, zf, param), param)[0])
    lat = x[field.ravel() >= field.max() / 2]
    must_tx_mm = (lat.max() - lat.min()) * 1e3
    ours = replace(
        phantom_profile(PhantomSpec(probe="phased", frequency_mhz=3.0, depth_cm=10.0)),
        frac_bandwidth=float(frac_bw),
        lateral_fnum=zf / aperture,
        focus_frac=0.5,
    )
    p = psf(ours, np.array([5.0]))
    our_axial_mm = 2.355 * p.axial_cm * 10  # amplitude envelope FWHM of the pulse-echo pulse
    our_tx_mm = 2.355 * 0.5 * 0.154 / 3.0 * ours.lateral_fnum * 10  # one-way transmit beam FWHM at the focus
    assert abs(our_axial_mm / must_axial_mm - 1) < 0.15, (our_axial_mm, must_axial_mm, frac_bw)
    assert abs(our_tx_mm / must_tx_mm - 1) < 0.2, (our_tx_mm, must_tx_mm)
