"""Serial bridge throughput and latency over a real pty → ``bench/results/bridge.json``.

Three paths, measured in the same run so the ratios mean something on a noisy machine:

- ``raw``: pre-built frames written to the pty master, the reader (pyserial on the slave) only splits on 0x00.
  The baseline: what the pty and pyserial cost without our codec.
- ``codec``: each RESULT is encoded (COBS + CRC) when sent; the reader decodes with :class:`FrameDecoder`.
- ``stack``: the runtime hook end to end: ``SerialBridge.publish_result`` (host session, link thread, pyserial)
  → pty → :class:`PtyEmulator` (MCU session) → event.

Throughput: N messages sent as fast as possible, messages decoded per second (target ≥ 2000/s).
Latency: messages paced at 500/s; each RESULT carries ``timestamp_ns`` (``time.monotonic_ns()`` at send),
the receiver subtracts it on decode; p50/p99 in ms, and the added latency = path minus raw baseline.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
import tty
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "bridge.json"
N_THROUGHPUT = 5000
N_LATENCY = 1000
PACE_HZ = 500.0
TARGET = 2000.0


def _pty() -> tuple[int, Any, int]:
    import serial

    master, slave = os.openpty()
    tty.setraw(slave)
    port = serial.Serial(os.ttyname(slave), 115200, timeout=0.01, exclusive=True)
    return master, port, slave


def _reader(port: Any, decode: bool, n: int, stamps: list[int], done: threading.Event) -> None:
    from liveredge.firmware_bridge.codec import Frame, FrameDecoder

    decoder, count, buf = FrameDecoder(), 0, b""
    while count < n and not done.is_set():
        data = port.read(port.in_waiting or 1)
        now = time.monotonic_ns()
        if decode:
            for out in decoder.feed(data):
                if isinstance(out, Frame):
                    stamps.append(now - out.message.timestamp_ns)
                    count += 1
        else:
            parts = (buf + data).split(b"\0")
            buf = parts.pop()
            for part in parts:
                stamps.append(now - int(part))
                count += 1
    done.set()


def _run_pty(decode: bool, n: int, pace_hz: float | None) -> tuple[float, list[int]]:
    from liveredge.firmware_bridge.codec import encode_frame
    from liveredge.firmware_bridge.messages import Result

    master, port, slave = _pty()
    stamps: list[int] = []
    done = threading.Event()
    reader = threading.Thread(target=_reader, args=(port, decode, n, stamps, done), daemon=True)
    reader.start()
    start = time.perf_counter()
    for i in range(n):
        stamp = time.monotonic_ns()
        frame = encode_frame(Result(i, stamp, i % 4, 9000, 0), i & 0xFFFF) if decode else b"%d\0" % stamp
        os.write(master, frame)
        if pace_hz:
            time.sleep(max(0.0, start + (i + 1) / pace_hz - time.perf_counter()))
    done.wait(30)
    elapsed = time.perf_counter() - start
    done.set()
    port.close()
    os.close(master)
    os.close(slave)
    return (len(stamps) / elapsed if elapsed > 0 else 0.0), stamps


def _run_stack(n: int, pace_hz: float | None, tmp: Path) -> tuple[float, list[int], dict[str, int]]:
    from liveredge.firmware_bridge.emulator import Handheld, PtyEmulator
    from liveredge.firmware_bridge.events import LinkState
    from liveredge.firmware_bridge.link import SerialLink
    from liveredge.firmware_bridge.messages import Result
    from liveredge.firmware_bridge.runtime import SerialBridge

    stamps: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, Result):
            stamps.append(time.monotonic_ns() - event.timestamp_ns)

    emulator = PtyEmulator(Handheld(seed=0), link_path=tmp / "ttyBENCH", on_event=on_event)
    bridge = SerialBridge(SerialLink(emulator.start()).start())
    try:
        if not bridge.link.wait_until_up(3.0):
            raise RuntimeError(f"bench: no handshake ({bridge.link.last_error})")
        while emulator.handheld.session.state is not LinkState.UP:  # the MCU end too
            time.sleep(0.001)
        start = time.perf_counter()
        for i in range(n):
            bridge.publish_result(frame_seq=i, timestamp_ns=time.monotonic_ns(), class_index=i % 4, confidence=0.9)
            if pace_hz:
                time.sleep(max(0.0, start + (i + 1) / pace_hz - time.perf_counter()))
        deadline = time.monotonic() + 30
        while len(stamps) < n and time.monotonic() < deadline:
            time.sleep(0.001)
        elapsed = time.perf_counter() - start
        stats = bridge.stats.counters
    finally:
        bridge.close()
        emulator.stop()
    return len(stamps) / elapsed, stamps, {k: stats[k] for k in ("frames_tx", "sequence_gaps", "crc_errors")}


def _pct(stamps: list[int]) -> dict[str, float]:
    if not stamps:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    ms = sorted(s / 1e6 for s in stamps)
    return {
        "p50": round(statistics.median(ms), 4),
        "p99": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 4),
        "max": round(ms[-1], 4),
        "n": len(ms),
    }


def main() -> int:
    import tempfile

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=6, desc="bench bridge", file=sys.stderr) as bar:
        for name, decode in (("raw", False), ("codec", True)):
            rate, got = _run_pty(decode, N_THROUGHPUT, None)
            bar.update(1)
            _, stamps = _run_pty(decode, N_LATENCY, PACE_HZ)
            bar.update(1)
            results[name] = {"msgs_per_s": round(rate, 1), "delivered": len(got), "latency_ms": _pct(stamps)}
        rate, got, counters = _run_stack(N_THROUGHPUT, None, Path(tmp))
        bar.update(1)
        _, stamps, _ = _run_stack(N_LATENCY, PACE_HZ, Path(tmp))
        bar.update(1)
        results["stack"] = {
            "msgs_per_s": round(rate, 1),
            "delivered": len(got),
            "latency_ms": _pct(stamps),
            "host_counters": counters,
        }
    raw = results["raw"]
    for name in ("codec", "stack"):
        res = results[name]
        res["ratio_vs_raw"] = round(res["msgs_per_s"] / raw["msgs_per_s"], 3)
        res["added_latency_ms"] = {k: round(res["latency_ms"][k] - raw["latency_ms"][k], 4) for k in ("p50", "p99")}
        res["meets_target"] = res["msgs_per_s"] >= TARGET and res["delivered"] == N_THROUGHPUT
    doc = {
        "part": "bridge",
        "target_msgs_per_s": TARGET,
        "throughput_messages": N_THROUGHPUT,
        "latency_messages": N_LATENCY,
        "latency_pace_hz": PACE_HZ,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "paths": results,
        "note": "RESULT messages (17-byte payload, 30 bytes on the wire) over a Linux pty; a real UART adds "
        "line time (115200 baud ≈ 2.6 ms per frame).",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    for name, res in results.items():
        print(
            f"{name:6s} {res['msgs_per_s']:9.1f} msg/s  latency p50 {res['latency_ms']['p50']:.3f} ms "
            f"p99 {res['latency_ms']['p99']:.3f} ms"
        )
    print(f"wrote {OUT}")
    return 0 if all(results[n]["meets_target"] for n in ("codec", "stack")) else 1


if __name__ == "__main__":
    sys.exit(main())
