"""Site / scanner profiles: how "another hospital's scanner" is emulated.

A :class:`SiteProfile` fixes the probe geometry (curvilinear, phased sector or linear), the
acoustics (centre frequency, point-spread function, speckle size), the signal chain (TGC slope
and curve, gain, dynamic range, grey-map gamma, noise floor) and the overlay style of the screen.
Six named profiles ``S1``..``S6`` are fixed; ``random:SEED`` draws every parameter from wider
ranges (deterministic for the seed). All images made with them are SIMULATED, not for clinical use.

Units: lengths in cm, angles in degrees, frequency in MHz, levels in dB, attenuation in
dB/cm/MHz (one way), colours BGR uint8.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

import numpy as np

from liveredge.edge.errors import ConfigError

TGC: TypeAlias = tuple[float, float, float, float, float]  # the five TGC slider offsets, dB, near to far


def shifted_tgc(curve: TGC, offsets: Sequence[float]) -> TGC:
    """``curve`` with ``offsets`` added band by band (five of each)."""
    if len(offsets) != len(curve):
        raise ConfigError(f"TGC offsets need {len(curve)} values (one per band), got {len(offsets)}")
    a, b, c, d, e = (float(x + y) for x, y in zip(curve, offsets, strict=True))
    return (a, b, c, d, e)


KINDS: tuple[str, ...] = ("curvilinear", "phased", "linear")


@dataclass(frozen=True)
class SiteProfile:
    """One simulated site/scanner.

    Geometry: ``kind``; ``probe_radius_cm`` (curvilinear radius, phased virtual apex offset);
    ``field_angle_deg`` (full sector angle, sector probes); ``width_cm`` (linear aperture);
    ``depth_cm`` (imaging depth along the beam).
    Acoustics: ``freq_mhz``; ``speckle_scale`` multiplies both PSF widths; ``lateral_fnum``
    (lateral beam width = 0.7 * wavelength * f-number at focus); ``focus_frac`` focal depth as a
    fraction of ``depth_cm``.
    Signal chain: ``tgc_slope`` (dB/cm/MHz the TGC compensates, one way); ``tgc_curve_db``
    (5 slider offsets from top to bottom, dB); ``gain_db``; ``dynamic_range_db``; ``gamma`` of the
    grey map; ``noise_db`` (electronic noise relative to normal liver echo, before TGC).
    Display: ``text_color`` BGR, ``layout`` ("left" text column or "top" banner), ``vendor``,
    ``probe_name``, ``greybar_right``.
    Imaging chain (see :mod:`liveredge.edge.sim.bmode`): ``frac_bandwidth`` pulse-echo -6 dB bandwidth
    / centre frequency (axial speckle ~ c / 2B); ``focal_zones`` transmit focal zones; ``harmonic``
    tissue harmonic imaging; ``compound_angles`` spatial compounding angles (1 = off);
    ``speckle_reduction`` 0..1 blend of a speckle-smoothing filter; ``persistence`` 0..0.8 temporal
    blend with the previous frame; ``clutter_db`` side-lobe level relative to the local echo power;
    ``reverb_db`` level of each reverberation bounce of strong shallow reflectors.
    """

    site_id: str
    kind: str
    probe_radius_cm: float
    field_angle_deg: float
    width_cm: float
    depth_cm: float
    freq_mhz: float
    speckle_scale: float
    lateral_fnum: float
    focus_frac: float
    tgc_slope: float
    tgc_curve_db: TGC
    gain_db: float
    dynamic_range_db: float
    gamma: float
    noise_db: float
    text_color: tuple[int, int, int]
    layout: str
    vendor: str
    probe_name: str
    greybar_right: bool = True
    frac_bandwidth: float = 0.6
    focal_zones: int = 1
    harmonic: bool = False
    compound_angles: int = 1
    speckle_reduction: float = 0.0
    persistence: float = 0.0
    clutter_db: float = -24.0
    reverb_db: float = -14.0

    def summary(self) -> str:
        """One line with the key parameters (what ``liveredge simulate profiles`` prints)."""
        if self.kind == "linear":
            geo = f"linear {self.width_cm:.1f} cm wide"
        else:
            geo = f"{self.kind} R={self.probe_radius_cm:.1f} cm {self.field_angle_deg:.0f} deg"
        return (
            f"{self.site_id:<14} {geo:<32} depth {self.depth_cm:4.1f} cm  {self.freq_mhz:3.1f} MHz  "
            f"DR {self.dynamic_range_db:3.0f} dB  gain {self.gain_db:+4.1f} dB  "
            f"TGC {self.tgc_slope:.2f}  speckle x{self.speckle_scale:.2f}  gamma {self.gamma:.2f}  "
            f"BW {self.frac_bandwidth:.0%}  {'THI' if self.harmonic else 'fund'}  "
            f"{f'compound {self.compound_angles}  ' if self.compound_angles > 1 else ''}"
            f"{self.vendor} {self.probe_name}"
        )


def _named(**kw: object) -> SiteProfile:
    return SiteProfile(**kw)  # type: ignore[arg-type]  # keyword table of the dataclass's own fields


_PROFILES: dict[str, SiteProfile] = {
    "S1": _named(
        site_id="S1",
        kind="curvilinear",
        probe_radius_cm=5.0,
        field_angle_deg=70.0,
        width_cm=0.0,
        depth_cm=16.0,
        freq_mhz=3.5,
        speckle_scale=1.0,
        lateral_fnum=3.0,
        focus_frac=0.45,
        tgc_slope=0.50,
        tgc_curve_db=(0.0, 1.0, 0.0, 0.0, 1.0),
        gain_db=0.0,
        dynamic_range_db=60.0,
        gamma=1.0,
        noise_db=-78.0,
        text_color=(235, 235, 235),
        layout="left",
        vendor="AcuSim",
        probe_name="C5-2",
        frac_bandwidth=0.6,
        focal_zones=2,
        speckle_reduction=0.3,
    ),
    "S2": _named(
        site_id="S2",
        kind="curvilinear",
        probe_radius_cm=4.0,
        field_angle_deg=62.0,
        width_cm=0.0,
        depth_cm=18.0,
        freq_mhz=2.8,
        speckle_scale=1.25,
        lateral_fnum=3.5,
        focus_frac=0.55,
        tgc_slope=0.45,
        tgc_curve_db=(-2.0, 0.0, 1.0, 2.0, 2.0),
        gain_db=3.0,
        dynamic_range_db=66.0,
        gamma=0.9,
        noise_db=-80.0,
        text_color=(60, 220, 240),
        layout="top",
        vendor="Sonoview",
        probe_name="C3",
        frac_bandwidth=0.55,
        compound_angles=3,
        clutter_db=-22.0,
    ),
    "S3": _named(
        site_id="S3",
        kind="phased",
        probe_radius_cm=0.3,
        field_angle_deg=78.0,
        width_cm=0.0,
        depth_cm=16.0,
        freq_mhz=2.5,
        speckle_scale=1.15,
        lateral_fnum=3.2,
        focus_frac=0.5,
        tgc_slope=0.52,
        tgc_curve_db=(1.0, 0.0, -1.0, 0.0, 0.0),
        gain_db=-2.0,
        dynamic_range_db=55.0,
        gamma=1.15,
        noise_db=-76.0,
        text_color=(240, 220, 90),
        layout="left",
        vendor="CardiaEcho",
        probe_name="P4-2",
        greybar_right=False,
        frac_bandwidth=0.5,
        harmonic=True,
        reverb_db=-12.0,
    ),
    "S4": _named(
        site_id="S4",
        kind="linear",
        probe_radius_cm=0.0,
        field_angle_deg=0.0,
        width_cm=6.0,
        depth_cm=8.0,
        freq_mhz=6.0,
        speckle_scale=0.9,
        lateral_fnum=2.5,
        focus_frac=0.4,
        tgc_slope=0.48,
        tgc_curve_db=(0.0, 0.0, 1.0, 1.0, 0.0),
        gain_db=1.0,
        dynamic_range_db=58.0,
        gamma=1.05,
        noise_db=-80.0,
        text_color=(200, 255, 200),
        layout="top",
        vendor="LinearOne",
        probe_name="L9-3",
        frac_bandwidth=0.7,
        focal_zones=2,
        compound_angles=5,
    ),
    "S5": _named(
        site_id="S5",
        kind="curvilinear",
        probe_radius_cm=3.0,
        field_angle_deg=76.0,
        width_cm=0.0,
        depth_cm=15.0,
        freq_mhz=3.2,
        speckle_scale=1.5,
        lateral_fnum=4.0,
        focus_frac=0.4,
        tgc_slope=0.55,
        tgc_curve_db=(2.0, 1.0, 0.0, -1.0, -1.0),
        gain_db=2.0,
        dynamic_range_db=50.0,
        gamma=1.2,
        noise_db=-72.0,
        text_color=(255, 255, 255),
        layout="left",
        vendor="PocketScan",
        probe_name="HH-C",
        frac_bandwidth=0.5,
        speckle_reduction=0.5,
        clutter_db=-20.0,
    ),
    "S6": _named(
        site_id="S6",
        kind="phased",
        probe_radius_cm=0.5,
        field_angle_deg=88.0,
        width_cm=0.0,
        depth_cm=19.0,
        freq_mhz=2.2,
        speckle_scale=1.3,
        lateral_fnum=3.0,
        focus_frac=0.6,
        tgc_slope=0.47,
        tgc_curve_db=(0.0, -1.0, 0.0, 1.0, 3.0),
        gain_db=-3.0,
        dynamic_range_db=70.0,
        gamma=0.85,
        noise_db=-82.0,
        text_color=(180, 200, 255),
        layout="top",
        vendor="FieldSono",
        probe_name="S1-5",
        greybar_right=False,
        frac_bandwidth=0.55,
        harmonic=True,
        persistence=0.3,
    ),
}


def list_profiles() -> list[str]:
    """Names of the fixed profiles, ``["S1", ..., "S6"]`` (``random:SEED`` is also accepted)."""
    return sorted(_PROFILES)


def get_profile(name: str) -> SiteProfile:
    """Return the named profile, or one drawn from wider ranges for ``"random:SEED"``.

    Raises :class:`ConfigError` for an unknown name or a non-integer seed.
    """
    if name in _PROFILES:
        return _PROFILES[name]
    if name.startswith("random:"):
        text = name.split(":", 1)[1]
        try:
            seed = int(text)
        except ValueError as exc:
            raise ConfigError(f"profile {name!r}: the seed after 'random:' must be an integer") from exc
        return random_profile(seed)
    raise ConfigError(f"unknown site profile {name!r}; use one of {', '.join(list_profiles())} or 'random:SEED'")


def _chain(rng: np.random.Generator, kind: str, freq_mhz: float) -> dict[str, object]:
    """Imaging-chain and operator draws of a random profile (independent of the geometry draws)."""
    u = rng.uniform
    compound = (1, 1, 3, 5, 7, 9) if kind == "linear" else (1, 1, 1, 3, 5)
    # Tissue harmonics, the abdominal default, transmit low: receiving 2f from deep tissue at f > 3.2 MHz
    # would cost 1.5x the round-trip attenuation of an already high frequency.
    harmonic = kind != "linear" and freq_mhz <= 3.2 and rng.random() < 0.8
    return dict(
        frac_bandwidth=u(0.45, 0.8),
        focal_zones=int(rng.integers(1, 4)),
        harmonic=bool(harmonic),
        compound_angles=int(compound[int(rng.integers(0, len(compound)))]),
        speckle_reduction=float(rng.choice([0.0, u(0.1, 0.6)])),
        persistence=float(rng.choice([0.0, u(0.1, 0.5)])),
        clutter_db=u(-30, -18),
        reverb_db=u(-18, -10),
        gain_db=u(-12, 12),  # operator gain
        tgc_curve_db=tuple(float(v) for v in rng.uniform(-8, 8, size=5)),  # operator TGC sliders, per band
    )


def random_profile(seed: int) -> SiteProfile:
    """Draw a profile from ranges wider than the named ones (deterministic for ``seed``).

    Probe kind, frequency, bandwidth, dynamic range, harmonics, compounding and the other chain options
    are drawn per profile; operator gain (+-12 dB) and TGC sliders (+-8 dB per band) too. Depth and
    focus are drawn here as well; a caller that wants them per exam replaces ``depth_cm`` / ``focus_frac``.
    """
    rng = np.random.default_rng([zlib.crc32(b"profile"), seed & 0xFFFFFFFF])
    kind = KINDS[int(rng.integers(0, 3))]
    u = rng.uniform
    base = _PROFILES["S1"]
    geo: dict[str, float] = {}
    if kind == "curvilinear":
        geo = dict(
            probe_radius_cm=u(2.5, 6.5),
            field_angle_deg=u(55, 80),
            width_cm=0.0,
            depth_cm=u(13, 21),
            freq_mhz=u(2.2, 4.5),
        )
    elif kind == "phased":
        geo = dict(
            probe_radius_cm=u(0.2, 0.8),
            field_angle_deg=u(65, 95),
            width_cm=0.0,
            depth_cm=u(13, 22),
            freq_mhz=u(1.8, 3.5),
        )
    else:
        geo = dict(
            probe_radius_cm=0.0, field_angle_deg=0.0, width_cm=u(4.5, 7.5), depth_cm=u(6.5, 10.5), freq_mhz=u(4.5, 8.0)
        )
    color = tuple(int(c) for c in rng.integers(150, 256, size=3))
    return replace(
        base,
        site_id=f"random:{seed}",
        kind=kind,
        speckle_scale=u(0.8, 1.4),
        lateral_fnum=u(2.2, 4.5),
        focus_frac=u(0.3, 0.7),
        tgc_slope=u(0.38, 0.62),
        dynamic_range_db=u(45, 75),
        gamma=u(0.75, 1.3),
        noise_db=u(-95, -78),
        text_color=color,  # type: ignore[arg-type]  # one of the Literal's values
        layout=("left", "top")[int(rng.integers(0, 2))],
        vendor=("Generic", "MedWave", "EchoLab", "Ultrix")[int(rng.integers(0, 4))],
        probe_name=f"X{int(rng.integers(1, 99))}",
        greybar_right=bool(rng.integers(0, 2)),
        **geo,  # type: ignore[arg-type]  # the helpers' dicts hold each field's own type
        **_chain(rng, kind, float(geo["freq_mhz"])),  # type: ignore[arg-type]  # the helpers' dicts hold each field's own type
    )
