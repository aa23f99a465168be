"""Per-frame work, without threads: region → preprocess (LUT to the model's input type) → invoke → decisions.

:class:`FrameProcessor` is what the pipeline's inference thread calls for every frame and what ``bench`` times
stage by stage. It runs in three steps so that the pipeline can overlap them across frames (see
:mod:`liveredge.edge.runtime.stages`): :meth:`~FrameProcessor.prepare` (region check, ``Preprocessor.apply_table``
into a reused buffer, image-quality gate), the model (``set_input`` + ``invoke``), :meth:`~FrameProcessor.finish`
(outputs read by :meth:`~FrameProcessor.outputs`, temperature, decisions, the record); :meth:`process` runs the
three back to back. Stage timings (milliseconds) go into ``FrameResult.stage_ms``: ``wait`` (capture stamp →
the inference thread took the frame from the mailbox), ``preprocess``, ``invoke`` (input ready → model output
ready; in the staged mode this includes any wait for the model to finish the previous frame), ``post``
(dequantise, quality, decisions). ``t_result`` is stamped when the result is complete, just before it is handed
to the sinks; the four stages add up to the latency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from liveredge.edge.decisions import DecisionConfig, DecisionEngine, ExamAggregator, GateConfig, ImageGate, cam_heatmap
from liveredge.edge.decisions.calibration import tempered
from liveredge.edge.decisions.colour import ColourFlowCheck
from liveredge.edge.events import ExamSummary, FrameResult, Quality
from liveredge.edge.preprocess import Preprocessor
from liveredge.edge.runtime.model import LoadedModel
from liveredge.edge.runtime.region import RegionState
from liveredge.edge.sources.base import Frame


@dataclass(frozen=True)
class ModelOutputs:
    """One frame's model outputs, copied out of the interpreter: tempered probabilities float32 (n_classes,) and
    the class-activation map float32 (h, w, n_classes) when it is needed (else None)."""

    probs: np.ndarray
    cam: np.ndarray | None


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
        self._needs_cam = model.runner.cam_index is not None and (self.heatmap or self.engine.liver_gate.needs_logits)
        self._float_table: np.ndarray | None = None
        self._speculated: np.ndarray | None = None  # the grey input made by speculate(), until check()

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, Quality]:
        """Model input (H, W, C) of the model's dtype (quantised via the LUT) and the frame's image flags.

        The input is a view of a buffer the next ``prepare`` overwrites: hand it to the model (``set_input``
        copies) before preparing another frame."""
        pre = self.region.update(image)
        gray = pre.gray(image)
        x = pre.lookup(gray, self._table(pre), reuse=True)
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

    def speculate(self, image: np.ndarray) -> np.ndarray | None:
        """The model input made with the settled region BEFORE its geometry check (None when the region is not
        settled): the caller runs :meth:`check` (e.g. while the model runs) and uses the input only when that
        returns flags; on None it must redo the frame with :meth:`prepare`. Same numbers as :meth:`prepare`."""
        pre = self.region.settled(image)
        if pre is None:
            return None
        self._speculated = pre.gray(image)
        return pre.lookup(self._speculated, self._table(pre), reuse=True)

    def check(self, image: np.ndarray) -> Quality | None:
        """After :meth:`speculate`: None when the geometry moved (nothing changed here; redo with :meth:`prepare`),
        else the frame's image flags, exactly as :meth:`prepare` computes them."""
        if self._speculated is None or self.region.moved(image):
            return None
        quality, _ = self.gate.check(self._speculated, self.region.input_region if self.region.ok else None)
        self._speculated = None
        if not self.region.ok:
            return quality | Quality.NO_REGION
        return quality | Quality.OUT_OF_DISTRIBUTION if self._colour_flow(image) else quality

    def _table(self, pre: Preprocessor) -> np.ndarray:
        """The pixel → model input table: the model's (quantised, or with a site map), else the spec's float one."""
        if self.model.input_lut is not None:
            return self.model.input_lut
        if self._float_table is None:
            self._float_table = pre.spec.float_lut()
        return self._float_table

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Run the model on one prepared input; float32 probabilities (n_classes,) at the model's calibrated
        temperature (operating point)."""
        runner = self.model.runner
        runner.set_input(x)
        runner.invoke()
        return self.outputs().probs

    def outputs(self) -> ModelOutputs:
        """Read the last ``invoke``'s outputs (copies): tempered probabilities and, when decisions or the heatmap
        need it, the class-activation map. Call before the model runs the next frame."""
        runner = self.model.runner
        probs = tempered(runner.probs(), self.model.meta.operating_point.temperature)
        return ModelOutputs(probs, runner.cam() if self._needs_cam else None)

    def process(self, frame: Frame, t_taken: float | None = None, t_media: float | None = None) -> FrameResult:
        """One frame → its result; ``t_taken`` is when the inference thread took it (defaults to now).

        Smoothing and hysteresis run on ``t_media`` (seconds of media time, for offline ``--rate max`` replay
        where frames arrive faster than real time) when given, else on the capture stamp.
        """
        t0 = time.monotonic() if t_taken is None else t_taken
        x, quality = self.prepare(frame.image)
        t1 = time.monotonic()
        runner = self.model.runner
        runner.set_input(x)
        runner.invoke()
        t2 = time.monotonic()
        return self.finish(frame, quality, self.outputs(), (t0, t1, t2), t_media)

    def finish(
        self,
        frame: Frame,
        quality: Quality,
        out: ModelOutputs,
        stamps: tuple[float, float, float],
        t_media: float | None = None,
    ) -> FrameResult:
        """Decisions and the record for a frame whose model outputs are ``out``; ``stamps`` = (taken, input
        ready, output ready) in ``time.monotonic()`` seconds."""
        t0, t1, t2 = stamps
        if frame.frozen:
            quality |= Quality.FROZEN
        t_decide = frame.t_capture if t_media is None else t_media
        decision = self.engine.decide(t_decide, out.probs, quality | self.model.base_quality, self._logits(out.cam))
        if self.heatmap:
            self.last_heatmap = self._heatmap(out.cam, decision.class_index, decision.smoothed)
        t3 = time.monotonic()
        result = FrameResult(
            seq=frame.seq,
            t_capture=frame.t_capture,
            t_result=t3,
            wall_time=time.time(),
            probs=tuple(round(p, 6) for p in out.probs.tolist()),
            smoothed=tuple(round(p, 6) for p in decision.smoothed),
            label=decision.label,
            confidence=round(decision.confidence, 6),
            quality=decision.quality,
            exam_id=self.exam.exam_id,
            site_sha256=self.model.site_sha256,
            stage_ms={
                "wait": _ms(frame.t_capture, t0),
                "preprocess": _ms(t0, t1),
                "invoke": _ms(t1, t2),
                "post": _ms(t2, t3),
            },
        )
        self.exam.add(result)
        return result

    def _logits(self, cam: np.ndarray | None) -> np.ndarray | None:
        """The class logits (global average of the CAM output) when the liver gate's energy check needs them."""
        if not self.engine.liver_gate.needs_logits or cam is None:
            return None
        return cam.reshape(-1, cam.shape[-1]).mean(axis=0)

    def _heatmap(self, cam: np.ndarray | None, reported: int | None, smoothed: tuple[float, ...]) -> np.ndarray | None:
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
