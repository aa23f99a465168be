"""Decisions (sans-I/O): smoothing, hysteresis, quality gate, exam aggregation and CAM heatmaps.

Everything here is fed (time in seconds, probabilities 0..1, quality flags) and returns immutable records, so it
is tested on arrays. The runtime (:mod:`liveredge.edge.runtime`) wires it to frames and sinks.
"""

from liveredge.edge.decisions.cam import cam_heatmap
from liveredge.edge.decisions.engine import Decision, DecisionConfig, DecisionEngine
from liveredge.edge.decisions.exam import ExamAggregator
from liveredge.edge.decisions.quality import IMAGE_FLAGS, FrameStats, GateConfig, ImageGate, normalized_entropy
from liveredge.edge.decisions.smoothing import Hysteresis, TimeEma

__all__ = [
    "IMAGE_FLAGS",
    "Decision",
    "DecisionConfig",
    "DecisionEngine",
    "ExamAggregator",
    "FrameStats",
    "GateConfig",
    "Hysteresis",
    "ImageGate",
    "TimeEma",
    "cam_heatmap",
    "normalized_entropy",
]
