"""``liveredge bridge emulate`` and ``liveredge bridge monitor``: the MCU emulator on a pty and a traffic decoder.

Module level imports stay argparse + stdlib; the handlers import the bridge (and pyserial) when they run.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

NOT_CLINICAL = "results come from models trained on SIMULATED data and are not for clinical use"


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``bridge emulate`` and ``bridge monitor``."""
    bridge = sub.add_parser(
        "bridge",
        help="serial link to the handheld's MCU: emulator and monitor",
        description="Serial protocol tools (docs/serial-protocol.md).",
    )
    cmds = bridge.add_subparsers(
        dest="bridge_command", metavar="BRIDGE_COMMAND", required=True, help="what to do (each has its own --help)"
    )
    from liveredge.firmware_bridge.script import SCRIPT_HELP  # standard library only

    emu = cmds.add_parser(
        "emulate", help="emulate the handheld's MCU on a pseudo-terminal; prints its path", epilog=SCRIPT_HELP
    )
    emu.add_argument("--link", metavar="PATH", help="also keep a symlink PATH pointing at the pty")
    mode = emu.add_mutually_exclusive_group()
    mode.add_argument("--script", metavar="FILE", help="actions '<delay_s> <action> [value]' per line")
    mode.add_argument("--random", metavar="RATE", type=float, default=0.0, help="random probe/exam actions per s")
    emu.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    emu.add_argument("--seed", type=int, default=None, help="seed for --random and exam ids")
    emu.set_defaults(handler=_emulate)
    mon = cmds.add_parser("monitor", help="decode live traffic on PORT to readable lines")
    mon.add_argument("port", metavar="PORT", help="device path or pyserial URL (e.g. /dev/ttyACM0)")
    mon.add_argument("--baud", type=int, default=115200, help="serial baud rate")
    mon.add_argument("--handshake", action="store_true", help="answer HELLO like a host so the device streams")
    mon.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    mon.add_argument("--count", type=int, default=None, metavar="N", help="stop after N frames/errors")
    mon.set_defaults(handler=_monitor)


def _positive(name: str, value: float | None) -> None:
    from liveredge.edge.errors import ConfigError

    if value is not None and value <= 0:
        raise ConfigError(f"{name} must be > 0, got {value}")


def _emulate(args: argparse.Namespace) -> int:
    from liveredge.edge.errors import DataError
    from liveredge.firmware_bridge.emulator import Handheld, PtyEmulator
    from liveredge.firmware_bridge.monitor import describe_event
    from liveredge.firmware_bridge.script import parse_script

    _positive("--duration", args.duration)
    steps = []
    if args.script:
        try:
            steps = parse_script(Path(args.script).read_text(), args.script)
        except OSError as exc:
            raise DataError(f"{args.script}: cannot read the script ({exc.strerror})") from exc
    emulator = PtyEmulator(
        Handheld(seed=args.seed), link_path=args.link, on_event=lambda e: print(f"rx {describe_event(e)}", flush=True)
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())  # systemd, kill: a clean stop
    path = emulator.start()
    print(f"emulator: {emulator.path}" + (f" (link {path})" if args.link else ""), flush=True)
    print(f"note: {NOT_CLINICAL}", file=sys.stderr, flush=True)
    try:
        _drive(emulator, steps, args.random, args.duration, stop)
    finally:
        emulator.stop()  # closes the pty and removes the --link symlink
        signal.signal(signal.SIGTERM, previous)
    return 0


def _drive(emulator: Any, steps: list[Any], rate: float, duration: float | None, stop: threading.Event) -> None:
    from liveredge.firmware_bridge.messages import ProbeKind

    start = time.monotonic()
    due = start
    queue = list(steps)
    while not stop.is_set() and (duration is None or time.monotonic() - start < duration):
        now = time.monotonic()
        if queue and now >= due + queue[0].delay_s:
            step = queue.pop(0)
            due = now
            if step.action == "wait_link":
                if not _wait_link(emulator, start, duration):
                    return
            elif step.action == "reset":
                emulator.reset()
            elif step.action in ("exam_start", "exam_end"):
                emulator.act(lambda h, t, s=step: getattr(h, s.action)(t, s.value))
            else:
                kind = ProbeKind[step.action.upper()]
                emulator.act(lambda h, t, k=kind, v=step.value: h.probe(k, t, v or 0))
            print(f"tx {step.action}" + (f" {step.value}" if step.value is not None else ""), flush=True)
        elif rate > 0 and now - due >= 1.0 / rate:
            due = now
            msg = emulator.act(lambda h, t: h.random_action(t))
            print(f"tx {type(msg).__name__}", flush=True)
        stop.wait(0.005)


def _wait_link(emulator: Any, start: float, duration: float | None) -> bool:
    from liveredge.firmware_bridge.events import LinkState

    while emulator.handheld.session.state is not LinkState.UP:
        if duration is not None and time.monotonic() - start >= duration:
            return False
        time.sleep(0.005)
    return True


def _monitor(args: argparse.Namespace) -> int:
    from liveredge.firmware_bridge.monitor import monitor, open_port

    _positive("--duration", args.duration)
    _positive("--count", args.count)
    port = open_port(args.port, args.baud)
    print(f"monitor: {args.port} at {args.baud} baud; {NOT_CLINICAL}", file=sys.stderr, flush=True)
    try:
        summary = monitor(
            port,
            lambda line: print(line, flush=True),
            duration_s=args.duration,
            count=args.count,
            handshake=args.handshake,
        )
    finally:
        port.close()
    print(
        f"monitor: {summary.frames} frames, {summary.errors} errors in {summary.seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return 0
