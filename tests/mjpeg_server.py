"""A real MJPEG-over-HTTP server on 127.0.0.1 for stream-source tests (multipart/x-mixed-replace)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


def numbered_frame(i: int, size: tuple[int, int] = (120, 160)) -> np.ndarray:
    """A BGR frame whose mean grey level encodes ``i`` (mod 200) and that differs from its neighbours."""
    img = np.full((*size, 3), 20 + (i * 7) % 200, np.uint8)
    cv2.putText(img, str(i), (10, size[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    return img


class MjpegServer:
    """Serves numbered JPEG frames at ``fps`` on ``http://127.0.0.1:PORT/video.mjpg`` until :meth:`stop`."""

    def __init__(self, fps: float = 30.0, port: int = 0) -> None:
        self.fps = fps
        self.stopping = threading.Event()
        self.stalled = threading.Event()
        self.frames_sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while not server.stopping.is_set():
                        if server.stalled.is_set():  # connection stays open, nothing is sent
                            server.stopping.wait(0.05)
                            continue
                        ok, jpg = cv2.imencode(".jpg", numbered_frame(i))
                        data = jpg.tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                        server.frames_sent += 1
                        i += 1
                        time.sleep(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/video.mjpg"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: open streams end and new connections are refused."""
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
