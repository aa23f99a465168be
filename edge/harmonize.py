"""Scanner harmonisation without labels (sans-I/O, numpy only): tissue grey-level landmarks → a 256-entry LUT.

A new scanner, probe or preset changes the grey levels the model sees (gain, dynamic range, compression curve).
Nyúl & Udupa-style standardisation maps them back onto the training distribution:

1. per frame, already through the runtime's preprocessing (the uint8 model-view image of
   :meth:`liveredge.edge.preprocess.Preprocessor.gray`), the TISSUE pixels are those inside the fitted region
   whose grey level lies strictly between ``dark_level`` (fluid, shadow, outside the fan) and
   ``saturated_level`` (clipped); their 256-bin histograms are pooled over the frames;
2. the pooled histogram gives landmark quantiles (``percentiles``, interpolated within bins);
3. a monotone piecewise-linear map through (0, 0), (source landmark, fitted level)..., (255, 255) is fitted with
   the slopes between landmarks inside ``slope_bounds`` (no crushed or stretched band of tissue grey levels) and
   the two end segments inside [1/4, 4] (they absorb a gain offset; 0 and 255 stay put), then tabulated as a
   uint8 LUT.

The LUT composes with the preprocessing table (``input_lut[site_lut]``), so applying it costs nothing per frame
and works for int8 models and the Edge TPU. The guard (:func:`fit_site`) refuses what a grey-level map cannot
honestly fix: too few usable frames, mostly dark/fluid frames, no region, or a distribution so unlike the
reference that the bounded map cannot reach it (another organ, a cardiac clip, a wrong preset).
Everything the shipped models learn is SIMULATED data: harmonisation does not replace validation on real data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, DataError

PERCENTILES: tuple[float, ...] = (2.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 98.0)
REFERENCE_VERSION = 1
FRAME_OK = "ok"


@dataclass(frozen=True)
class TissueRule:
    """Which pixels count as tissue and when a frame is usable (grey levels 0..255, fractions of the region)."""

    dark_level: int = 6
    saturated_level: int = 250
    min_tissue_fraction: float = 0.35
    max_saturated_fraction: float = 0.10
    min_region_fraction: float = 0.05  # of the model input: less than this is no usable region

    def __post_init__(self) -> None:
        if not 0 <= self.dark_level < self.saturated_level <= 255:
            raise ConfigError(f"tissue rule needs 0 <= dark_level < saturated_level <= 255, got {self}")

    def to_dict(self) -> dict[str, Any]:
        return {"dark_level": self.dark_level, "saturated_level": self.saturated_level}


@dataclass(frozen=True)
class IntensityReference:
    """The training distribution: tissue landmark grey levels at ``percentiles`` over ``n_frames`` frames."""

    landmarks: tuple[float, ...]
    percentiles: tuple[float, ...] = PERCENTILES
    dark_level: int = 6
    saturated_level: int = 250
    n_frames: int = 0
    source: str = ""
    version: int = REFERENCE_VERSION

    def __post_init__(self) -> None:
        lm, pc = np.asarray(self.landmarks, float), np.asarray(self.percentiles, float)
        if self.version != REFERENCE_VERSION:
            raise ConfigError(
                f"intensity reference version {self.version} is not supported (reads {REFERENCE_VERSION})"
            )
        if lm.shape != pc.shape or lm.size < 3 or np.any(np.diff(pc) <= 0) or np.any(np.diff(lm) < 0):
            raise ConfigError(
                "intensity reference needs >= 3 increasing percentiles and as many non-decreasing "
                f"landmarks, got percentiles {list(self.percentiles)} landmarks {list(self.landmarks)}"
            )
        if not np.all((lm > 0) & (lm < 255)):
            raise ConfigError(f"intensity reference landmarks must lie in (0, 255), got {list(self.landmarks)}")

    @property
    def rule(self) -> TissueRule:
        return TissueRule(dark_level=self.dark_level, saturated_level=self.saturated_level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "percentiles": list(self.percentiles),
            "landmarks": [round(float(v), 3) for v in self.landmarks],
            "dark_level": self.dark_level,
            "saturated_level": self.saturated_level,
            "n_frames": self.n_frames,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntensityReference:
        try:
            return cls(
                landmarks=tuple(float(v) for v in data["landmarks"]),
                percentiles=tuple(float(v) for v in data["percentiles"]),
                dark_level=int(data["dark_level"]),
                saturated_level=int(data["saturated_level"]),
                n_frames=int(data.get("n_frames", 0)),
                source=str(data.get("source", "")),
                version=int(data.get("version", REFERENCE_VERSION)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"intensity reference is malformed ({exc!r}); expected keys landmarks, percentiles, "
                "dark_level, saturated_level"
            ) from exc


@dataclass(frozen=True)
class FrameCheck:
    """One frame's verdict (``ok`` | ``no_region`` | ``dark`` | ``saturated``) and its tissue histogram."""

    verdict: str
    hist: np.ndarray = field(repr=False)
    tissue_fraction: float = 0.0


def check_frame(gray: np.ndarray, region: np.ndarray | None, rule: TissueRule = TissueRule()) -> FrameCheck:
    """Tissue histogram (256 bins) of a uint8 model-view image; ``region`` is a bool mask or None (= whole image).

    ``region=None`` suits images whose outside is already 0 (``mask_outside``), such as calibration frames.
    """
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ConfigError(f"harmonisation needs uint8 (H, W) model-view images, got {gray.dtype} {gray.shape}")
    if region is not None and region.shape != gray.shape:
        raise ConfigError(f"region mask {region.shape} differs from the image {gray.shape}")
    values = gray[region] if region is not None else gray[gray > 0]
    hist = np.bincount(values.ravel(), minlength=256).astype(np.int64)
    empty = np.zeros(256, np.int64)
    if values.size < rule.min_region_fraction * gray.size:
        return FrameCheck("no_region", empty)
    tissue = hist.copy()
    tissue[: rule.dark_level + 1] = 0
    tissue[rule.saturated_level :] = 0
    frac = float(tissue.sum()) / values.size
    if hist[rule.saturated_level :].sum() > rule.max_saturated_fraction * values.size:
        return FrameCheck("saturated", empty, frac)
    if frac < rule.min_tissue_fraction:
        return FrameCheck("dark", empty, frac)
    return FrameCheck(FRAME_OK, tissue, frac)


def landmarks(hist: np.ndarray, percentiles: Iterable[float] = PERCENTILES) -> np.ndarray:
    """Grey levels at ``percentiles`` of a 256-bin histogram, interpolated within bins (pixel v spans [v, v+1))."""
    h = np.asarray(hist, dtype=np.float64)
    total = h.sum()
    if total <= 0:
        raise DataError("no tissue pixels to measure landmarks from")
    cdf = np.concatenate([[0.0], np.cumsum(h)]) / total
    return np.interp(np.asarray(tuple(percentiles), float) / 100.0, cdf, np.arange(257, dtype=np.float64))


def reference_from_images(
    images: Iterable[np.ndarray], source: str, rule: TissueRule = TissueRule()
) -> IntensityReference:
    """The reference of model-view images whose outside is 0 (training or calibration frames, ``region=None``)."""
    return reference_from_checks((check_frame(g, None, rule) for g in images), source, rule)


def reference_from_checks(
    checks: Iterable[FrameCheck], source: str, rule: TissueRule = TissueRule()
) -> IntensityReference:
    """The reference of checked frames (their usable frames' pooled histogram); DataError when none is usable."""
    pooled, used = np.zeros(256, np.int64), 0
    for check in checks:
        if check.verdict == FRAME_OK:
            pooled += check.hist
            used += 1
    if used == 0:
        raise DataError(f"{source}: no frame has enough tissue to define the intensity reference")
    return IntensityReference(
        tuple(float(v) for v in landmarks(pooled)), PERCENTILES, rule.dark_level, rule.saturated_level, used, source
    )


def images_from_inputs(x: np.ndarray, float_lut: np.ndarray) -> np.ndarray:
    """Invert the spec's normalisation: float model inputs (N, H, W, C) → the uint8 (N, H, W) images they came from."""
    table = np.asarray(float_lut, dtype=np.float64)
    v = np.asarray(x[..., 0] if x.ndim == 4 else x, dtype=np.float64)
    idx = np.clip(np.searchsorted(table, v), 1, 255)
    nearer_low = (v - table[idx - 1]) <= (table[idx] - v)
    return np.where(nearer_low, idx - 1, idx).astype(np.uint8)


@dataclass(frozen=True)
class GuardConfig:
    """When :func:`fit_site` refuses: usable frames, slope bounds, landmark error left after the bounded fit."""

    min_frames: int = 30
    min_usable_fraction: float = 0.5
    slope_bounds: tuple[float, float] = (0.5, 2.0)
    end_slope_max: float = 4.0
    max_residual: float = 16.0  # grey levels: worst landmark still off the reference after the bounded fit
    tolerance: float = 0.5  # grey levels: landmarks this close to the reference give the identity

    def __post_init__(self) -> None:
        lo, hi = self.slope_bounds
        if not (0 < lo <= 1 <= hi) or self.min_frames < 1 or not 0 < self.min_usable_fraction <= 1:
            raise ConfigError(
                f"harmonisation guard needs 0 < lo <= 1 <= hi, min_frames >= 1, 0 < fraction <= 1: {self}"
            )


@dataclass(frozen=True)
class Mapping:
    """A fitted grey-level map: knots (x → y), its uint8 LUT and the landmark error left after the fit."""

    knots_x: tuple[float, ...]
    knots_y: tuple[float, ...]
    lut: np.ndarray = field(repr=False)
    residual: float


def fit_mapping(
    source: np.ndarray,
    reference: np.ndarray,
    bounds: tuple[float, float] = (0.5, 2.0),
    tolerance: float = 0.5,
    end_slope_max: float = 4.0,
) -> Mapping:
    """Monotone piecewise-linear map of ``source`` landmarks onto ``reference``: knots (0, 0), (s_i, y_i)..., (255, 255).

    Between landmarks each slope is the target slope clipped to ``bounds`` (shifted together when needed so the
    end segments stay possible); the common offset is the least-squares one, limited so the two end segments
    (0 → first landmark, last landmark → 255) keep slopes within [1 / end_slope_max, end_slope_max] (they absorb
    a gain offset). Landmarks all within ``tolerance`` of the reference give the exact identity.
    """
    s, r = np.asarray(source, np.float64), np.asarray(reference, np.float64)
    if s.shape != r.shape or s.size < 2 or np.any(np.diff(s) < 0) or np.any(np.diff(r) < 0):
        raise ConfigError("landmarks must be two non-decreasing arrays of the same length (>= 2)")
    if float(np.max(np.abs(s - r))) <= tolerance:
        return Mapping((0.0, 255.0), (0.0, 255.0), np.arange(256, dtype=np.uint8), float(np.max(np.abs(s - r))))
    xs, target = _knots(s, r)
    dx, x0, xk = np.diff(xs), float(xs[0]), float(xs[-1])
    # the end segments' slope limits bound the span between the first and last landmark
    smin = 255.0 - end_slope_max * (255.0 - xk) - end_slope_max * x0
    smax = 255.0 - (255.0 - xk) / end_slope_max - x0 / end_slope_max
    slopes = _slopes_with_span(np.diff(target) / dx if dx.size else np.zeros(0), dx, bounds, smin, smax)
    cum = np.concatenate([[0.0], np.cumsum(slopes * dx)])
    lo = max(x0 / end_slope_max, 255.0 - end_slope_max * (255.0 - xk) - cum[-1])
    hi = min(x0 * end_slope_max, 255.0 - (255.0 - xk) / end_slope_max - cum[-1])
    ky = float(np.clip(np.mean(target - cum), lo, max(lo, hi))) + cum
    kx, kyy = np.concatenate([[0.0], xs, [255.0]]), np.concatenate([[0.0], ky, [255.0]])
    lut = np.clip(np.round(np.interp(np.arange(256), kx, kyy)), 0, 255).astype(np.uint8)
    residual = float(np.max(np.abs(np.interp(s, kx, kyy) - r)))
    return Mapping(tuple(float(v) for v in kx), tuple(float(v) for v in kyy), lut, residual)


def _knots(s: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks strictly inside (0, 255), ties merged (their mean target)."""
    inside = (s > 0) & (s < 255)
    if not inside.any():
        raise DataError("no landmark lies strictly between grey levels 0 and 255")
    xs, inverse = np.unique(s[inside], return_inverse=True)
    return xs, np.bincount(inverse, weights=r[inside]) / np.bincount(inverse)


def _slopes_with_span(
    target: np.ndarray, dx: np.ndarray, bounds: tuple[float, float], smin: float, smax: float
) -> np.ndarray:
    """Target slopes clipped to ``bounds``; shifted by one common offset when their span leaves [smin, smax]."""
    slopes = np.clip(target, *bounds)
    span = float(np.sum(slopes * dx))
    if smin <= span <= smax or dx.size == 0:
        return slopes
    goal = smax if span > smax else smin
    a, b = bounds[0] - float(target.max()), bounds[1] - float(target.min())
    for _ in range(100):  # sum(clip(target + lam) * dx) is non-decreasing in lam: bisection
        mid = 0.5 * (a + b)
        a, b = (mid, b) if float(np.sum(np.clip(target + mid, *bounds) * dx)) < goal else (a, mid)
    return np.clip(target + 0.5 * (a + b), *bounds)


@dataclass(frozen=True)
class SiteFit:
    """The outcome of :func:`fit_site`: the LUT, landmarks before/after, frame counts and a readable report."""

    lut: np.ndarray = field(repr=False)
    percentiles: tuple[float, ...]
    reference: tuple[float, ...]
    before: tuple[float, ...]
    after: tuple[float, ...]
    residual: float
    max_shift: int
    identity: bool
    frames_used: int
    frames_rejected: dict[str, int]

    def report(self) -> dict[str, Any]:
        return {
            "percentiles": list(self.percentiles),
            "reference": _r2(self.reference),
            "before": _r2(self.before),
            "after": _r2(self.after),
            "landmark_error_before": round(_err(self.before, self.reference), 2),
            "landmark_error_after": round(_err(self.after, self.reference), 2),
            "max_grey_shift": self.max_shift,
            "identity": self.identity,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        if self.identity:
            return "the tissue grey levels already match the reference: identity mapping (no change)"
        mid = self.percentiles.index(50.0) if 50.0 in self.percentiles else len(self.percentiles) // 2
        return (
            f"median tissue grey {self.before[mid]:.1f} -> {self.after[mid]:.1f} (reference "
            f"{self.reference[mid]:.1f}); mean landmark error {_err(self.before, self.reference):.1f} -> "
            f"{_err(self.after, self.reference):.1f} grey levels; largest grey shift {self.max_shift}"
        )


def _r2(values: Iterable[float]) -> list[float]:
    return [round(float(v), 2) for v in values]


def _err(a: Iterable[float], b: Iterable[float]) -> float:
    return float(np.mean(np.abs(np.asarray(tuple(a)) - np.asarray(tuple(b)))))


def fit_site(
    checks: Iterable[FrameCheck],
    reference: IntensityReference,
    guard: GuardConfig = GuardConfig(),
    source: str = "the source",
) -> SiteFit:
    """Pool the usable frames, fit the bounded map onto ``reference``; DataError (a clear reason) when refused."""
    pooled, counts = np.zeros(256, np.int64), Counter[str]()
    for check in checks:
        counts[check.verdict] += 1
        if check.verdict == FRAME_OK:
            pooled += check.hist
    total, used = sum(counts.values()), counts.pop(FRAME_OK, 0)
    rejected = dict(sorted(counts.items()))
    _guard_frames(total, used, rejected, guard, source)
    before = landmarks(pooled, reference.percentiles)
    mapping = fit_mapping(
        before, np.asarray(reference.landmarks), guard.slope_bounds, guard.tolerance, guard.end_slope_max
    )
    if mapping.residual > guard.max_residual:
        raise DataError(
            f"{source}: refused: the tissue grey levels do not look like the model's training images "
            f"(landmarks {np.round(before).astype(int).tolist()} vs reference "
            f"{np.round(reference.landmarks).astype(int).tolist()} at percentiles {list(reference.percentiles)}); "
            f"a grey-level map with slopes {guard.slope_bounds[0]}-{guard.slope_bounds[1]} still leaves "
            f"{mapping.residual:.0f} grey levels (limit {guard.max_residual:g}). Is this liver B-mode of the "
            "model's kind (not another organ, a cardiac or Doppler clip, a wrong preset)?"
        )
    mapped = np.bincount(mapping.lut, weights=pooled, minlength=256)
    after = landmarks(mapped, reference.percentiles)
    shift = int(np.max(np.abs(mapping.lut.astype(int) - np.arange(256))))
    return SiteFit(
        mapping.lut,
        reference.percentiles,
        reference.landmarks,
        tuple(float(v) for v in before),
        tuple(float(v) for v in after),
        mapping.residual,
        shift,
        shift == 0,
        used,
        rejected,
    )


def _guard_frames(total: int, used: int, rejected: dict[str, int], guard: GuardConfig, source: str) -> None:
    why = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in rejected.items()) or "none rejected"
    if total == 0:
        raise DataError(f"{source}: refused: no frames were read")
    if used < guard.min_frames or used < guard.min_usable_fraction * total:
        raise DataError(
            f"{source}: refused: only {used} of {total} frames show enough liver tissue (need >= {guard.min_frames} "
            f"and >= {guard.min_usable_fraction:.0%}; rejected: {why}). Scan the liver parenchyma (not fluid, "
            "shadow or air), with the probe on the patient and the region visible, and try again."
        )


def compose(input_lut: np.ndarray, site_lut: np.ndarray) -> np.ndarray:
    """The preprocessing table with the site map in front: ``input_lut[site_lut]`` (256 entries, same dtype)."""
    site = check_lut(site_lut, "site LUT")
    table = np.asarray(input_lut)
    if table.shape != (256,):
        raise ConfigError(f"the preprocessing table must have 256 entries, got shape {table.shape}")
    return table[site]


def check_lut(lut: Any, name: str) -> np.ndarray:
    """A 256-entry non-decreasing uint8 table, or ConfigError naming ``name``."""
    arr = np.asarray(lut)
    if arr.shape != (256,) or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() > 255:
        raise ConfigError(f"{name} must be 256 integers in 0..255, got shape {arr.shape} dtype {arr.dtype}")
    if np.any(np.diff(arr.astype(int)) < 0):
        raise ConfigError(f"{name} must be non-decreasing (a grey-level map never reverses contrast)")
    return arr.astype(np.uint8)
