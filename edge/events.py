"""Events the runtime emits — the frame-result contract shared by sinks, the bench and the serial bridge.

Times: ``t_capture`` and ``t_result`` are ``time.monotonic()`` seconds on the device (the capture thread stamps a
frame when it dequeues it); ``wall_time`` is UNIX seconds for logs. Probabilities are 0..1 in the model's label
order. ``label`` is the reported (smoothed, gated) class, or :data:`UNCERTAIN` when quality gating refuses to
commit to one. Quality flags are a bit set; the serial RESULT message carries its own bit layout (see
``liveredge.edge.runtime.bridge.WIRE_QUALITY`` and docs/serial-protocol.md), mapped when results are sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntFlag
from typing import Any

UNCERTAIN = "uncertain"
NOT_LIVER = "not_liver"  # the reported label when the "not a liver" gate fires (and the sim's negative class)
CLASSES: tuple[str, ...] = ("normal", "steatosis", "fibrosis", "focal_lesion")
"""The liver classes of the shipped models, in their label order (the one home of these names; the serial wire's
fixed codes, ``firmware_bridge.messages.CLASS_NAMES``, are built from them, then :data:`NOT_LIVER` and
:data:`UNCERTAIN`)."""
NOTICE = "Models are trained on SIMULATED ultrasound data; results are not for clinical use."
"""The notice every output carries (JSONL header, exam log, recordings, reports, console)."""


class Quality(IntFlag):
    """Why a frame's result may not be trusted (0 = good)."""

    OK = 0
    FROZEN = 1  # the frame repeats the previous one (scanner freeze or a stuck source)
    DARK = 2  # too little signal in the region
    SATURATED = 4  # too many clipped pixels
    NO_REGION = 8  # no ultrasound region found in the frame
    OUT_OF_DISTRIBUTION = 16  # input unlike the training data
    LOW_CONFIDENCE = 32  # below the model's operating-point confidence
    UNVERIFIED_MODEL = 64  # the model ran with --allow-unverified

    def names(self) -> list[str]:
        return [flag.name.lower() for flag in Quality if flag and flag in self and flag.name]


@dataclass(frozen=True)
class FrameResult:
    """One classified frame."""

    seq: int
    t_capture: float
    t_result: float
    wall_time: float
    probs: tuple[float, ...]
    smoothed: tuple[float, ...]
    label: str
    confidence: float
    quality: Quality = Quality.OK
    exam_id: str | None = None
    stage_ms: dict[str, float] = field(default_factory=dict)
    site_sha256: str | None = None  # the site file (scanner harmonisation) the frame went through, if any

    @property
    def latency_ms(self) -> float:
        """Frame arrival (capture stamp) → result emitted, in milliseconds."""
        return (self.t_result - self.t_capture) * 1000.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(type="result", quality=int(self.quality), quality_flags=self.quality.names())
        data["latency_ms"] = round(self.latency_ms, 3)
        return data


@dataclass(frozen=True)
class ExamSummary:
    """The aggregate of one exam (start/end from the CLI, a key, or the microcontroller)."""

    exam_id: str
    label: str
    confidence: float
    class_probs: dict[str, float]
    frames_total: int
    frames_used: int
    quality_counts: dict[str, int]
    t_start: float
    t_end: float
    wall_time: float
    site_sha256: str | None = None  # the site file (scanner harmonisation) the exam's frames went through, if any

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = "exam_summary"
        return data


@dataclass(frozen=True)
class StateEvent:
    """A change of runtime state: source opened/lost/reconnecting, model loaded, exam started/ended, ..."""

    state: str
    detail: str
    wall_time: float
    t: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = "state"
        return data


Event = FrameResult | ExamSummary | StateEvent
