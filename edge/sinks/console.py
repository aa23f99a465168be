"""Alerts for the person at the device, on stderr: storage and recording failures as they happen (the end of the
run repeats the counts). Text from outside (paths, exam ids) is escaped, so a crafted name cannot drive the
terminal."""

from __future__ import annotations

import sys
from typing import TextIO

from liveredge.edge.bounds import console_safe
from liveredge.edge.events import Event, StateEvent

ALERT_STATES = frozenset(
    {
        "storage_failed",
        "storage_resumed",
        "recording_failed",
        "recording_resumed",
        "exam_refused",
        "bridge_unknown_label",
        "bridge_error",
        "bridge_dropped",
    }
)


class ConsoleAlerts:
    """Prints the state events in :data:`ALERT_STATES` as one escaped line each (never blocks for long)."""

    def __init__(self, stream: TextIO | None = None, prefix: str = "liveredge run") -> None:
        self._stream = stream
        self.prefix = prefix

    def emit(self, event: Event) -> None:
        if isinstance(event, StateEvent) and event.state in ALERT_STATES:
            stream = self._stream or sys.stderr
            try:
                print(f"{self.prefix}: {event.state}: {console_safe(event.detail)}", file=stream, flush=True)
            except (OSError, ValueError):
                pass  # a closed console must not stop the run

    def close(self) -> None:
        return None
