"""Live sources: network streams (rtsp://, http(s):// MJPEG, ...) through FFmpeg and V4L2 devices.

A capture thread owns the ``cv2.VideoCapture`` and keeps only the newest frame in a one-slot buffer (frames the
consumer did not take are counted in :attr:`LiveSource.dropped`), so latency never grows behind a slow
consumer. ``t_capture`` is stamped when ``VideoCapture.read`` returns in that thread; ``seq`` counts every
frame it grabbed (gaps = drops). The thread alone touches the capture object (OpenCV captures are not
thread-safe) and releases it when it stops.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import cv2

from liveredge.edge.sources.base import Frame, ReadResult, SourceStatus, SourceUnavailable, as_bgr

OPEN_TIMEOUT_MS = 4000
READ_TIMEOUT_MS = 3000


class LiveSource:
    """Base for live captures; subclasses implement :meth:`_make_capture`."""

    def __init__(self, uri: str, identity: str) -> None:
        self.uri = uri
        self.identity = identity
        self.nominal_fps: float | None = None
        self.dropped = 0
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._taken_seq = -1
        self._failure = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _make_capture(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def open(self) -> None:
        """Open the capture (raises ``SourceUnavailable`` naming the URI) and start the capture thread."""
        self.close()
        cap = self._make_capture()
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(self._open_failure())
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = float(fps) if 0.5 < fps < 1000 else None
        self._stop = threading.Event()
        self._slot, self._taken_seq, self._failure, self.dropped = None, -1, "", 0
        self._thread = threading.Thread(
            target=self._run, args=(cap, self._stop), name=f"capture {self.uri}", daemon=True
        )
        self._thread.start()

    def _open_failure(self) -> str:
        return (
            f"stream {self.uri}: cannot open (server down, wrong URL or unsupported format); check it plays in ffplay"
        )

    def _run(self, cap: cv2.VideoCapture, stop: threading.Event) -> None:
        seq = 0
        try:
            while not stop.is_set():
                try:
                    good, image = cap.read()
                except cv2.error as exc:
                    good, image = False, None
                    self._fail(f"stream {self.uri}: decoder error: {exc}")
                if not good or image is None:
                    self._fail(f"stream {self.uri}: no more frames (stream ended, lost or timed out)")
                    return
                self._put(Frame(as_bgr(image), seq, time.monotonic(), seq))
                seq += 1
        finally:
            cap.release()

    def _put(self, frame: Frame) -> None:
        with self._cond:
            if self._slot is not None and self._slot.seq > self._taken_seq:
                self.dropped += 1
            self._slot = frame
            self._cond.notify_all()

    def _fail(self, detail: str) -> None:
        with self._cond:
            if not self._failure:
                self._failure = detail
            self._cond.notify_all()

    def read(self, timeout_s: float) -> ReadResult:
        """Newest frame not yet returned; TIMEOUT when none arrives in ``timeout_s``; ERROR once the stream died."""
        with self._cond:
            if self._thread is None:
                return ReadResult(SourceStatus.ERROR, detail=f"stream {self.uri}: read before open()")
            self._cond.wait_for(self._has_news, timeout=max(0.0, timeout_s))
            slot = self._slot
            if slot is not None and slot.seq > self._taken_seq:
                self._taken_seq = slot.seq
                return ReadResult(SourceStatus.OK, slot)
            if self._failure:
                return ReadResult(SourceStatus.ERROR, detail=self._failure)
        return ReadResult(SourceStatus.TIMEOUT, detail=f"stream {self.uri}: no frame for {timeout_s:.2f} s")

    def _has_news(self) -> bool:
        return bool(self._failure) or (self._slot is not None and self._slot.seq > self._taken_seq)

    def close(self, join_timeout_s: float = 0.5) -> None:
        """Stop the capture thread. It releases the capture itself; one stuck in a read (a stalled stream) is not
        waited for beyond ``join_timeout_s``: it ends within ``READ_TIMEOUT_MS`` on its own."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=join_timeout_s)


class StreamSource(LiveSource):
    """rtsp://, http(s):// (MJPEG, HLS, ...) and other FFmpeg URLs."""

    def __init__(self, url: str) -> None:
        super().__init__(url, url)

    def _make_capture(self) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        return cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, params)


def device_identity(target: str, by_id_dir: Path = Path("/dev/v4l/by-id")) -> str:
    """A stable name for a V4L2 device: its ``/dev/v4l/by-id`` link when one points at it, else the path/index."""
    path = Path(f"/dev/video{target}") if target.isdigit() else Path(target)
    try:
        real = path.resolve()
        for link in sorted(by_id_dir.iterdir()) if by_id_dir.is_dir() else []:
            if link.resolve() == real:
                return str(link)
    except OSError:
        pass
    return str(path)


class V4L2Source(LiveSource):
    """A V4L2 device (UVC probe, HDMI capture) by path, by-id link or index; asks the driver for 1 buffer."""

    def __init__(self, target: str, *, uri: str | None = None) -> None:
        super().__init__(uri or f"v4l2://{target}", device_identity(target))
        self.target = target

    def _device_path(self) -> Path:
        return Path(self.identity)

    def _make_capture(self) -> cv2.VideoCapture:
        path = self._device_path()
        if not sys.platform.startswith("linux"):
            if self.target.isdigit():  # elsewhere an index opens with the OS's own backend
                return cv2.VideoCapture(int(self.target))
            raise SourceUnavailable(f"source {self.uri}: V4L2 device paths exist only on Linux; give a device index")
        if not path.exists():
            raise SourceUnavailable(
                f"source {self.uri}: no video device {path}; is the probe or capture card plugged in? "
                "(list devices with: ls /dev/video* /dev/v4l/by-id)"
            )
        cap = cv2.VideoCapture(str(path), cv2.CAP_V4L2)
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # not every driver honours it; the capture thread drains anyway
        return cap

    def _open_failure(self) -> str:
        return f"source {self.uri}: {self._device_path()} exists but cannot be opened (busy, no permission or not a capture device)"
