"""Pre-rendered clips held in memory (bench and tests) and the simulated probe (``sim://``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from liveredge.edge.errors import ConfigError, SourceError
from liveredge.edge.sources.base import ReadResult, Source, SourceStatus, as_bgr
from liveredge.edge.sources.paced import PacedSource, Produced

SIM_KEYS = (
    "condition",
    "site",
    "fps",
    "seed",
    "severity",
    "lesion",
    "size",
    "freeze",
    "patient",
    "dual",
    "view",
    "scene",
    "lesion_mm",
)


@dataclass(frozen=True)
class SimOptions:
    """``sim://`` query parameters. ``size`` is (height, width) in pixels; ``freeze`` a per-frame probability;
    ``view`` subcostal (default) | intercostal | sagittal; ``scene`` a NON-liver scene (cardiac, bladder, ...,
    air) instead of a liver patient; ``lesion_mm`` one focal lesion of that diameter."""

    condition: str = "normal"
    site: str = "S1"
    fps: float = 30.0
    seed: int = 0
    severity: int | None = None
    lesion: str | None = None
    size: tuple[int, int] = (480, 640)
    freeze: float = 0.0
    patient: str = "sim"
    dual: bool = False
    view: str = "subcostal"
    scene: str | None = None
    lesion_mm: float | None = None


def sim_options(params: dict[str, str], uri: str = "sim://") -> SimOptions:
    """Validate ``sim://`` parameters (sans-I/O). Raises ``ConfigError`` naming the bad one."""
    unknown = sorted(set(params) - set(SIM_KEYS))
    if unknown:
        raise ConfigError(f"source {uri}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(SIM_KEYS)}")
    try:
        size = tuple(int(v) for v in params.get("size", "480x640").lower().split("x"))
        options = SimOptions(
            condition=params.get("condition", "normal"),
            site=params.get("site", "S1"),
            fps=float(params.get("fps", "30")),
            seed=int(params.get("seed", "0")),
            severity=int(params["severity"]) if params.get("severity") else None,
            lesion=params.get("lesion") or None,
            size=(size[0], size[1]) if len(size) == 2 else (0, 0),
            freeze=float(params.get("freeze", "0")),
            patient=params.get("patient", "sim"),
            dual=params.get("dual", "0").lower() in ("1", "true", "yes"),
            view=params.get("view", "subcostal"),
            scene=params.get("scene") or None,
            lesion_mm=float(params["lesion_mm"]) if params.get("lesion_mm") else None,
        )
    except ValueError as exc:
        raise ConfigError(f"source {uri}: bad parameter value ({exc}); e.g. fps=30&seed=1&size=480x640") from exc
    if min(options.size) < 32 or options.fps <= 0 or not 0.0 <= options.freeze <= 1.0:
        raise ConfigError(f"source {uri}: need size >= 32x32 (HxW), fps > 0 and 0 <= freeze <= 1")
    return options


class SimSource(PacedSource):
    """The simulated probe (``liveredge.edge.sim.Scanner``): an endless live-like stream at ``fps``.

    SIMULATED phantom images, not patient data. ``source_index`` is the scanner frame index.
    """

    def __init__(
        self,
        options: SimOptions,
        *,
        uri: str = "sim://",
        rate: str = "realtime",
        fps: float | None = None,
        loop: bool = False,
    ) -> None:
        super().__init__(uri, uri, rate=rate, fps=fps or options.fps, loop=loop)
        self.options = options
        self._scanner: Any = None
        self._index = 0

    def _open(self) -> None:
        from liveredge.edge import sim  # lazy: the simulator is only needed for sim://

        o = self.options
        try:
            profile = sim.get_profile(o.site)
            if o.scene:
                from liveredge.edge.sim.scenes import make_scene

                patient = make_scene(o.patient, o.scene, seed=o.seed)
            else:
                patient = sim.make_patient(
                    o.patient,
                    o.condition,
                    severity=o.severity,
                    lesion=o.lesion,
                    seed=o.seed,
                    view=o.view,
                    profile=profile,
                    lesion_mm=o.lesion_mm,
                )
            self._scanner = sim.Scanner(
                patient, profile, seed=o.seed, fps=o.fps, size=o.size, dual_panel=o.dual, freeze_prob=o.freeze
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"source {self.uri}: the simulator refused these options: {exc}") from exc
        self._index = 0

    def _seek(self, index: int) -> None:
        self._index = max(0, index)

    def _produce(self) -> Produced | ReadResult:
        if self._scanner is None:
            return ReadResult(SourceStatus.ERROR, detail=f"{self.uri}: not open")
        index = self._index
        self._index += 1
        return as_bgr(self._scanner.frame(index).image), index


class PrerenderedClip(PacedSource):
    """Frames held in memory, replayed at ``fps`` (``rate="realtime"``) or as fast as possible (``"max"``).

    Frames are (H, W, 3) uint8 BGR and are handed out without copying: consumers must not modify them.
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        *,
        fps: float = 60.0,
        rate: str = "realtime",
        loop: bool = False,
        uri: str = "clip://prerendered",
    ) -> None:
        if len(frames) == 0:
            raise ConfigError("a pre-rendered clip needs at least one frame")
        super().__init__(uri, uri, rate=rate, fps=fps, loop=loop)
        self.frames = [as_bgr(f) for f in frames]
        self._index = 0

    @classmethod
    def from_source(
        cls,
        source: Source,
        n_frames: int,
        *,
        fps: float | None = None,
        rate: str = "realtime",
        loop: bool = False,
        progress: bool = True,
    ) -> PrerenderedClip:
        """Render ``n_frames`` from ``source`` once (as fast as possible for a stored source; a live one gives
        what it gives), progress bar on stderr."""
        from tqdm import tqdm

        from liveredge.edge.progress import bar_disabled

        frames: list[np.ndarray] = []
        if isinstance(source, PacedSource):
            source.rate = "max"
        source.open()
        try:
            for _ in tqdm(
                range(n_frames), desc=f"pre-render {source.uri}", file=sys.stderr, disable=bar_disabled(progress)
            ):
                result = source.read(timeout_s=5.0)
                if result.frame is None:
                    break
                frames.append(result.frame.image)
        finally:
            source.close()
        if not frames:
            raise SourceError(f"pre-render {source.uri}: the source gave no frames")
        return cls(frames, fps=fps or source.nominal_fps or 30.0, rate=rate, loop=loop, uri=f"clip://{source.uri}")

    @classmethod
    def from_sim(cls, uri: str, n_frames: int, **kwargs: Any) -> PrerenderedClip:
        """Pre-render ``n_frames`` of a ``sim://`` URI (the simulator's cost is paid here, once)."""
        from liveredge.edge.sources.uri import parse_uri

        spec = parse_uri(uri)
        if spec.kind != "sim":
            raise ConfigError(f"{uri}: from_sim needs a sim:// URI")
        options = sim_options(spec.params, uri)
        return cls.from_source(
            SimSource(options, uri=uri, rate="max"), n_frames, fps=kwargs.pop("fps", options.fps), **kwargs
        )

    def _open(self) -> None:
        self._index = 0

    def _seek(self, index: int) -> None:
        self._index = max(0, min(index, len(self.frames)))

    def _produce(self) -> Produced | ReadResult:
        if self._index >= len(self.frames):
            if not self.loop:
                return ReadResult(SourceStatus.END, detail=f"{self.uri}: end after {len(self.frames)} frames")
            self._index = 0
        index = self._index
        self._index += 1
        return self.frames[index], index
