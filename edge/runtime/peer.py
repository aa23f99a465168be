"""The best-practice peer for ``liveredge bench``: the minimal loop a skilled engineer writes in an afternoon.

Following pycoral's examples-camera and jetson-inference practice: a capture thread posting into a latest-frame
mailbox (one slot, newest wins), and one inference thread that, per frame, crops the region found ONCE on the
first frame, converts it to grey, masks it, letterboxes it with ``INTER_AREA`` into a reused canvas, maps it to
int8 with ``cv2.LUT`` into a reused buffer, and runs LiteRT (same model bytes, same thread count) — then takes
the softmax top-1. It does none of liveredge's extra work (geometry tracking, quality flags, smoothing and
decisions, exam records, sinks), so it is the honest bar for "as fast as a good hand-written loop".

Written independently of :class:`~liveredge.edge.preprocess.Preprocessor` on purpose (the same arithmetic,
``tests/test_runtime_bench.py`` checks its input equals the runtime's), and only used by the bench.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from liveredge.edge.interpreter import make_interpreter
from liveredge.edge.preprocess import PreprocessSpec, detect_region
from liveredge.edge.runtime.mailbox import LatestMailbox
from liveredge.edge.sources.base import Frame, SourceStatus


@dataclass(frozen=True)
class PeerRun:
    """One peer run: per-frame latency (capture → top-1, ms), per-stage ms, counts and wall seconds."""

    latency_ms: list[float]
    stage_ms: dict[str, list[float]]
    processed: int
    dropped: int
    elapsed_s: float


class PeerLoop:
    """The peer's per-frame work for one model (``model_bytes``, int8 or uint8 input) and preprocessing spec."""

    def __init__(self, model_bytes: bytes, spec: PreprocessSpec, threads: int) -> None:
        self.interpreter, _ = make_interpreter(model_bytes, num_threads=threads)
        inp = self.interpreter.get_input_details()[0]
        scale, zero_point = inp["quantization"]
        self.input_index = int(inp["index"])
        probs = [d for d in self.interpreter.get_output_details() if len(d["shape"]) == 2]  # not the CAM map
        self.output_index = int(probs[0]["index"])
        self.spec = spec
        self.lut = spec.lut(scale, zero_point, np.dtype(inp["dtype"]).name)
        self.x = np.zeros((1, *spec.input_size, 1), dtype=self.lut.dtype)
        self.canvas = np.zeros(spec.input_size, np.uint8)
        self.box: tuple[int, int, int, int] | None = None

    def fit(self, image: np.ndarray) -> None:
        """Find the region once: crop box, cropped mask and letterbox placement (scale to fit, centred)."""
        region = detect_region(image)
        mask = region.mask if region.ok else np.full(image.shape[:2], 255, np.uint8)
        x, y, w, h = cv2.boundingRect(cv2.findNonZero((mask > 0).astype(np.uint8)))
        out_h, out_w = self.spec.input_size
        s = min(out_w / w, out_h / h)
        tw, th = max(1, min(out_w, round(w * s))), max(1, min(out_h, round(h * s)))
        self.box, self.target = (x, y, w, h), ((out_w - tw) // 2, (out_h - th) // 2, tw, th)
        self.mask = (mask[y : y + h, x : x + w] > 0).astype(np.uint8) * 255
        self.gray = np.empty((h, w), np.uint8)

    def preprocess(self, image: np.ndarray) -> None:
        if self.box is None:
            self.fit(image)
        x, y, w, h = self.box  # type: ignore[misc]  # set by fit
        cv2.cvtColor(image[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY, dst=self.gray)
        cv2.bitwise_and(self.gray, self.mask, dst=self.gray)
        tx, ty, tw, th = self.target
        cv2.resize(self.gray, (tw, th), dst=self.canvas[ty : ty + th, tx : tx + tw], interpolation=cv2.INTER_AREA)
        cv2.LUT(self.canvas, self.lut, dst=self.x[0, ..., 0])

    def infer(self) -> None:
        self.interpreter.set_tensor(self.input_index, self.x)
        self.interpreter.invoke()

    def top1(self) -> int:
        return int(np.argmax(self.interpreter.get_tensor(self.output_index)[0]))

    def run(self, source: Any, backpressure: bool, read_timeout_s: float = 0.25) -> PeerRun:
        """Replay ``source`` (opened and closed here) through capture thread → mailbox → this loop."""
        box: LatestMailbox[Frame] = LatestMailbox()
        lat: list[float] = []
        stages: dict[str, list[float]] = {"wait": [], "preprocess": [], "invoke": [], "post": []}
        source.open()
        t_start = time.monotonic()
        capture = threading.Thread(target=_capture, args=(source, box, backpressure, read_timeout_s), daemon=True)
        capture.start()
        try:
            while (frame := box.get(0.05)) is not None or not box.drained:
                if frame is None:
                    continue
                t0 = time.monotonic()
                self.preprocess(frame.image)
                t1 = time.monotonic()
                self.infer()
                t2 = time.monotonic()
                self.top1()
                t3 = time.monotonic()
                for key, (a, b) in zip(stages, ((frame.t_capture, t0), (t0, t1), (t1, t2), (t2, t3)), strict=True):
                    stages[key].append((b - a) * 1000.0)
                lat.append((t3 - frame.t_capture) * 1000.0)
        finally:
            box.close()
            capture.join(2.0)
            source.close()
        return PeerRun(lat, stages, len(lat), box.dropped, time.monotonic() - t_start)


def _capture(source: Any, box: LatestMailbox[Frame], backpressure: bool, timeout_s: float) -> None:
    try:
        while True:
            result = source.read(timeout_s)
            if result.status is SourceStatus.OK and result.frame is not None:
                if not box.put(result.frame, block=backpressure):
                    return
            elif result.status is not SourceStatus.TIMEOUT:
                return
    finally:
        box.close()
