"""Layer 4: the link against a real handheld. Skipped unless LIVEREDGE_BRIDGE_PORT names its port.

LIVEREDGE_BRIDGE_PORT=/dev/serial/by-id/usb-... .venv/bin/python -m pytest -q tests/test_bridge_hw.py
"""

from __future__ import annotations

import os
import time

import pytest

from liveredge.firmware_bridge.link import LinkConfig
from liveredge.firmware_bridge.runtime import SerialBridge

PORT = os.environ.get("LIVEREDGE_BRIDGE_PORT", "")
pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(not PORT, reason="set LIVEREDGE_BRIDGE_PORT to a real device to run"),
]


def test_real_device_handshakes_and_keeps_the_link_up() -> None:
    delay = float(os.environ.get("LIVEREDGE_BRIDGE_OPEN_DELAY", "0"))
    with SerialBridge.open(PORT, link_config=LinkConfig(open_delay_s=delay), wait_s=5.0 + delay) as bridge:
        peer = bridge.link.session.peer
        assert peer is not None and peer.protocol_version == 1
        time.sleep(2.0)  # eight heartbeat intervals
        assert bridge.link_up and bridge.stats.link_downs == 0
        assert bridge.publish_result(frame_seq=1, timestamp_ns=time.monotonic_ns(), class_index=255, confidence=0.0)
