"""The I/O half of ``liveredge adapt``: read N frames from any source URI through the runtime's preprocessing.

Frames go through exactly what ``liveredge run`` does — :class:`~liveredge.edge.runtime.region.RegionState`
(detect the region, re-fit it over the warm-up window) and :meth:`Preprocessor.gray` — and each becomes a
:class:`~liveredge.edge.harmonize.FrameCheck` (tissue histogram inside the region, or why it is unusable).
The fit itself is :func:`liveredge.edge.harmonize.fit_site` (sans-I/O).
"""

from __future__ import annotations

import numpy as np

from liveredge.edge.errors import ConfigError, SourceError
from liveredge.edge.harmonize import FrameCheck, TissueRule, check_frame
from liveredge.edge.preprocess import PreprocessSpec
from liveredge.edge.runtime.region import RegionState

MAX_TIMEOUTS = 3


def check_frames(images: list[np.ndarray], spec: PreprocessSpec, rule: TissueRule) -> list[FrameCheck]:
    """One :class:`FrameCheck` per BGR frame, with the region tracked across them like the runtime does."""
    state = RegionState(spec)
    out = []
    for image in images:
        pre = state.update(image)
        if not state.ok or state.input_region is None:
            out.append(FrameCheck("no_region", np.zeros(256, np.int64)))
            continue
        out.append(check_frame(pre.gray(image).copy(), state.input_region, rule))
    return out


def read_frames(uri: str, n: int, timeout_s: float = 5.0) -> list[np.ndarray]:
    """Up to ``n`` frames (uint8 BGR) from ``uri`` as fast as the source gives them (stops early at its end)."""
    from liveredge.edge.sources import make_source

    if n < 1:
        raise ConfigError(f"--frames must be >= 1, got {n}")
    source = make_source(uri, rate="max")
    source.open()
    frames: list[np.ndarray] = []
    timeouts, detail = 0, ""
    try:
        while len(frames) < n and timeouts < MAX_TIMEOUTS:
            result = source.read(timeout_s)
            if result.frame is not None:
                frames.append(result.frame.image.copy())
            elif result.status.value == "timeout":
                timeouts += 1
            else:
                detail = result.detail
                break
    finally:
        source.close()
    if not frames:
        raise SourceError(f"--source {uri}: no frames could be read ({detail or 'timed out'})")
    return frames


def not_liver_fraction(data: bytes, sha256: str, path: str, images: list[np.ndarray]) -> float | None:
    """Fraction of the frames that show an image on which the model's own "not a liver" gate fires (the runtime's
    per-frame decision), or None when the model has no gate. Only a guard: nothing here is reported as a result."""
    from liveredge.edge.decisions.liver_gate import LiverGate
    from liveredge.edge.events import NOT_LIVER, Quality
    from liveredge.edge.model_meta import read_metadata
    from liveredge.edge.runtime.model import LoadOptions, build_model
    from liveredge.edge.runtime.processor import FrameProcessor
    from liveredge.edge.sources.base import Frame
    from liveredge.edge.trust import Trust

    meta = read_metadata(data)
    if meta is None or not LiverGate.for_model(meta.labels, meta.operating_point).active:
        return None
    model = build_model(data, Trust(path, sha256, verified=False), path, LoadOptions(num_threads=1))
    proc = FrameProcessor(model)
    shown = fired = 0
    for i, image in enumerate(images):
        result = proc.process(Frame(image, i, i / 30.0, i), t_media=i / 30.0)
        if not result.quality & (Quality.NO_REGION | Quality.DARK):
            shown += 1
            fired += result.label == NOT_LIVER
    return fired / shown if shown else None
