"""`liveredge bridge emulate|monitor` as a user runs them, and the runtime hook's value checks."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from liveredge.cli.main import main
from liveredge.firmware_bridge.errors import BridgeValueError, ScriptError
from liveredge.firmware_bridge.messages import Result
from liveredge.firmware_bridge.runtime import NullBridge, RuntimeBridge, make_alert, make_result
from liveredge.firmware_bridge.script import Step, parse_script

pytestmark = pytest.mark.timeout(30)
CLI = [sys.executable, "-m", "liveredge.cli.main"]


def _default_sigint() -> None:
    """A job started in the background by a non-interactive shell (CI runners, `cmd &`) inherits SIGINT as
    *ignored*, and Python then installs no KeyboardInterrupt handler: give the child the default back, as a
    terminal would, so the Ctrl-C below means what it means for a user."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_emulate_then_monitor_shows_decoded_traffic(tmp_path: Path) -> None:
    script = tmp_path / "exam.txt"
    script.write_text("# a short exam\n0 wait_link\n0.1 exam_start 5\n0.05 freeze\n0.05 depth 120\n0.05 exam_end 5\n")
    link = tmp_path / "ttyMCU"
    emu = subprocess.Popen(
        [*CLI, "bridge", "emulate", "--link", str(link), "--script", str(script), "--duration", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    try:
        assert emu.stdout is not None
        first = emu.stdout.readline()
        assert first.startswith("emulator: /dev/pts/") and link.is_symlink()
        mon = subprocess.run(
            [*CLI, "bridge", "monitor", str(link), "--handshake", "--duration", "1.2"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        emu.send_signal(signal.SIGINT)  # Ctrl-C: the emulator closes its pty and exits 130
        out, err = emu.communicate(timeout=20)
    finally:
        emu.kill()
    assert mon.returncode == 0, mon.stderr
    lines = mon.stdout.splitlines()
    assert any("HELLO_ACK" in line and "device_id=0x00e1000000000001" in line for line in lines)
    assert any("PROBE_EVENT" in line and "kind=DEPTH" in line and "depth_mm=120" in line for line in lines)
    assert any("EXAM_END exam_id=5" in line for line in lines)
    assert "not for clinical use" in mon.stderr and "frames, 0 errors" in mon.stderr
    assert "rx LinkUp" in out and "tx exam_end 5" in out and emu.returncode == 130, err
    assert not link.exists() and not link.is_symlink(), "the emulator removes its link when it stops"


def test_emulator_stops_cleanly_on_sigterm_and_removes_its_link(tmp_path: Path) -> None:
    link = tmp_path / "ttyMCU"
    emu = subprocess.Popen(
        [*CLI, "bridge", "emulate", "--link", str(link)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert emu.stdout is not None
        assert emu.stdout.readline().startswith("emulator: /dev/pts/") and link.is_symlink()
        emu.send_signal(signal.SIGTERM)  # systemd / kill
        _, err = emu.communicate(timeout=20)
    finally:
        emu.kill()
    assert emu.returncode == 0, err
    assert not link.is_symlink(), "no dangling --link after SIGTERM"


def test_emulate_help_lists_the_script_actions(capsys: pytest.CaptureFixture[str]) -> None:
    from liveredge.firmware_bridge.script import ACTIONS

    with pytest.raises(SystemExit):
        main(["bridge", "emulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(action in text for action in ACTIONS) and "SIGTERM" in text


def test_bad_script_and_bad_port_fail_with_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("0.1 freeze\nsoon depth 5\n")
    assert main(["bridge", "emulate", "--script", str(script), "--duration", "1"]) == 2
    assert "bad.txt:2" in capsys.readouterr().err
    assert main(["bridge", "monitor", str(tmp_path / "no-such-tty"), "--duration", "1"]) == 1
    assert "cannot open" in capsys.readouterr().err
    assert main(["bridge", "monitor", "loop://", "--count", "0"]) == 2


def test_script_parser_accepts_and_names_errors() -> None:
    assert parse_script("0.5 exam_start\n1 depth 0x78 # hex ok\n0 reset\n") == [
        Step(0.5, "exam_start"),
        Step(1.0, "depth", 120),
        Step(0.0, "reset"),
    ]
    for bad in ("1 explode", "1 depth", "1 freeze 3", "-1 freeze", "1 gain loud"):
        with pytest.raises(ScriptError, match="s:1"):
            parse_script(bad, "s")


def test_runtime_values_are_checked_and_converted() -> None:
    assert isinstance(NullBridge(), RuntimeBridge)
    assert make_result(
        frame_seq=3, timestamp_ns=10, class_index=1, confidence=0.91234, quality_flags=5, class_name="steatosis"
    ) == Result(3, 10, 1, 9123, 5)
    assert make_result(
        frame_seq=4, timestamp_ns=11, class_index=4, confidence=0.96, quality_flags=1 << 6, class_name="not_liver"
    ) == Result(4, 11, 4, 9600, 64)
    for bad in (
        {"class_index": 5},
        {"confidence": 1.5},
        {"frame_seq": -1},
        {"class_name": "fibrosis"},
        {"quality_flags": 1 << 16},
    ):
        kwargs = {"frame_seq": 1, "timestamp_ns": 1, "class_index": 1, "confidence": 0.5, **bad}
        with pytest.raises(BridgeValueError):
            NullBridge().publish_result(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(BridgeValueError, match="alert code"):
        make_alert(9)
    assert make_alert(1, severity=2, timestamp_ns=5).severity == 2
    assert NullBridge().poll_events() == []


def test_public_surface_is_pinned_and_import_is_cheap() -> None:
    import liveredge.firmware_bridge as fb

    assert {
        "RuntimeBridge",
        "SerialBridge",
        "NullBridge",
        "Session",
        "SerialLink",
        "FrameDecoder",
        "encode_frame",
        "Result",
        "ExamSummary",
        "Alert",
        "ProbeEvent",
        "ExamStart",
        "ExamEnd",
        "SCHEMA_HASH",
    } <= set(fb.__all__)
    assert all(hasattr(fb, name) for name in fb.__all__)
    code = "import sys, liveredge.firmware_bridge; print('serial' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
