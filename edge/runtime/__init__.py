"""The edge runtime: model loading with integrity checks, the per-frame processor, the threaded pipeline, the
composition root (:func:`compose` builds a whole run from a typed :class:`RunConfig`), bench.

Sources and sinks are used only through :mod:`liveredge.edge.sources` and :mod:`liveredge.edge.sinks` interfaces.
"""

from liveredge.edge.runtime.compose import Run, RunConfig, StateRelay, compose
from liveredge.edge.runtime.mailbox import LatestMailbox
from liveredge.edge.runtime.model import LoadedModel, LoadOptions, load_model
from liveredge.edge.runtime.pipeline import Pipeline, PipelineConfig, RunStats
from liveredge.edge.runtime.processor import FrameProcessor, ProcessorConfig
from liveredge.edge.trust import TrustPolicy

__all__ = [
    "FrameProcessor",
    "LatestMailbox",
    "LoadOptions",
    "LoadedModel",
    "Pipeline",
    "PipelineConfig",
    "ProcessorConfig",
    "Run",
    "RunConfig",
    "RunStats",
    "StateRelay",
    "TrustPolicy",
    "compose",
    "load_model",
]
