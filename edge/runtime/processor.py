"""Per-frame work, without threads: region → preprocess (LUT to the model's input type) → invoke → decisions.

:class:`FrameProcessor` is what the pipeline's inference thread calls for every frame and what ``bench`` times
stage by stage. Stage timings (milliseconds) go into ``FrameResult.stage_ms``: ``wait`` (capture stamp → the
inference thread took the frame from the mailbox), ``preprocess``, ``invoke``, ``post`` (dequantise, quality,
decisions). ``t_result`` is stamped when the result is complete, just before it is handed to the sinks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from liveredge.edge.decisions import DecisionConfig, DecisionEngine, ExamAggregator, GateConfig, ImageGate, cam_heatmap
from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.decisions.colour import ColourFlowCheck
from liveredge.edge.events import ExamSummary, FrameResult, Quality
from liveredge.edge.runtime.model import LoadedModel
from liveredge.edge.runtime.region import RegionState
from liveredge.edge.sources.base import Frame


@dataclass(frozen=True)
class ProcessorConfig:
    """Decision and gate settings, warm-up window (frames) for the region fit, ``min_exam_frames``."""

    decisions: DecisionConfig = DecisionConfig()
    gate: GateConfig = GateConfig()
    warmup_frames: int = 15
    min_exam_frames: int = 5


class FrameProcessor:
    """Turns frames into :class:`FrameResult` s for one loaded model. Not thread-safe: one inference thread."""

    def __init__(self, model: LoadedModel, config: ProcessorConfig = ProcessorConfig(), heatmap: bool = False) -> None:
        self.model = model
        self.region = RegionState(model.meta.preprocess, config.warmup_frames)
        self.gate = ImageGate(config.gate)
        self.colour = ColourFlowCheck()
        self._colour_estimate = -1  # the region estimate the colour check's samples belong to
        op = model.meta.operating_point
        self.engine = DecisionEngine(model.meta.labels, op, config.decisions)
        self.exam = ExamAggregator(model.meta.labels, op.min_confidence, config.min_exam_frames, model.site_sha256)
        self.heatmap = heatmap and model.runner.cam_index is not None
        self.last_heatmap: np.ndarray | None = None  # uint8 (height, width) CAM of the last frame, when enabled

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, Quality]:
        """Model input (H, W, C) of the model's dtype (quantised via the LUT) and the frame's image flags."""
        pre = self.region.update(image)
        gray = pre.gray(image)
        if self.model.input_lut is not None:
            x = self.model.input_lut[gray]
        else:
            x = pre.spec.float_lut()[gray]
        x = x[..., None] if pre.spec.channels == 1 else np.repeat(x[..., None], pre.spec.channels, axis=-1)
        quality, _ = self.gate.check(gray, self.region.input_region if self.region.ok else None)
        if not self.region.ok:
            quality |= Quality.NO_REGION
        elif self._colour_flow(image):
            quality |= Quality.OUT_OF_DISTRIBUTION  # colour/power Doppler: not the grey B-mode the model knows
        return x, quality

    def _colour_flow(self, image: np.ndarray) -> bool:
        if self._colour_estimate != self.region.estimates:
            region = self.region.region
            self.colour.reset(region.mask if region is not None and region.ok else None)
            self._colour_estimate = self.region.estimates
        return self.colour.fires(image)

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Run the model on one prepared input; float32 probabilities (n_classes,) at the model's calibrated
        temperature (operating point)."""
        runner = self.model.runner
        runner.set_input(x)
        runner.invoke()
        return tempered(runner.probs(), self.model.meta.operating_point.temperature)

    def process(self, frame: Frame, t_taken: float | None = None, t_media: float | None = None) -> FrameResult:
        """One frame → its result; ``t_taken`` is when the inference thread took it (defaults to now).

        Smoothing and hysteresis run on ``t_media`` (seconds of media time, for offline ``--rate max`` replay
        where frames arrive faster than real time) when given, else on the capture stamp.
        """
        t0 = time.monotonic() if t_taken is None else t_taken
        x, quality = self.prepare(frame.image)
        t1 = time.monotonic()
        probs = self.infer(x)
        t2 = time.monotonic()
        if frame.frozen:
            quality |= Quality.FROZEN
        t_decide = frame.t_capture if t_media is None else t_media
        decision = self.engine.decide(t_decide, probs, quality | self.model.base_quality, self._logits())
        if self.heatmap:
            self.last_heatmap = self._heatmap(decision.class_index, decision.smoothed)
        t3 = time.monotonic()
        result = FrameResult(
            seq=frame.seq, t_capture=frame.t_capture, t_result=t3, wall_time=time.time(),
            probs=tuple(round(float(p), 6) for p in probs),
            smoothed=tuple(round(p, 6) for p in decision.smoothed),
            label=decision.label, confidence=round(decision.confidence, 6), quality=decision.quality,
            exam_id=self.exam.exam_id, site_sha256=self.model.site_sha256,
            stage_ms={"wait": _ms(frame.t_capture, t0), "preprocess": _ms(t0, t1), "invoke": _ms(t1, t2),
                      "post": _ms(t2, t3)},
        )
        self.exam.add(result)
        return result

    def _logits(self) -> np.ndarray | None:
        """The class logits (global average of the CAM output) when the liver gate's energy check needs them."""
        if not self.engine.liver_gate.needs_logits:
            return None
        cam = self.model.runner.cam()
        return None if cam is None else cam.reshape(-1, cam.shape[-1]).mean(axis=0)

    def _heatmap(self, reported: int | None, smoothed: tuple[float, ...]) -> np.ndarray | None:
        cam = self.model.runner.cam()
        top = reported if reported is not None else int(np.argmax(smoothed))
        return None if cam is None else cam_heatmap(cam, top, self.model.meta.preprocess.input_size)

    def reset(self) -> None:
        """Forget history and the region (reconnect, new device)."""
        self.engine.reset()
        self.gate.reset()
        self.region.invalidate()

    def start_exam(self, exam_id: str) -> None:
        self.exam.start(exam_id, time.monotonic())
        self.engine.reset()

    def end_exam(self) -> ExamSummary | None:
        """Summary of the open exam, or None when none is open."""
        return self.exam.end(time.monotonic()) if self.exam.active else None


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000.0, 4)
