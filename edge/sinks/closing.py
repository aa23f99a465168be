"""Closing a run's sinks without losing track of anything: each sink is closed even when another fails, then the
records the storage sinks could not store are rescued (see :mod:`liveredge.edge.sinks.ledger`) and reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from liveredge.edge.sinks.examlog import ExamLog
from liveredge.edge.sinks.jsonl import JsonlSink
from liveredge.edge.sinks.ledger import StorageReport, rescue


@dataclass(frozen=True)
class Closed:
    """What closing found: one report per storage sink, and errors of sinks that failed to close."""

    reports: tuple[StorageReport, ...]
    errors: tuple[str, ...]

    @property
    def not_stored(self) -> int:
        return sum(r.not_stored for r in self.reports)


def close_sinks(sinks: Sequence[Any]) -> Closed:
    """Close every sink in order (an exception in one never stops the others), then write each storage sink's
    spill to the run's JSONL output (when it is another, healthy sink) or a fallback file."""
    errors = []
    for sink in sinks:
        try:
            sink.close()
        except Exception as exc:  # noqa: BLE001 - one sink failing must not keep the others open
            errors.append(f"{type(sink).__name__}: {type(exc).__name__}: {exc}")
    storage = [s for s in sinks if isinstance(s, (ExamLog, JsonlSink))]
    reports = []
    for sink in storage:
        if isinstance(sink, JsonlSink) and sink.close_error:
            errors.append(f"{sink.ledger.name}: close failed: {sink.close_error}")
        ledger = sink.ledger
        target = _rescue_target(storage, sink)
        written, where = rescue(list(ledger.spill), ledger.name, ledger.last_error, target)
        reports.append(ledger.report(sink.dropped, written, where))
    return Closed(tuple(reports), tuple(errors))


def _rescue_target(storage: list[Any], failing: Any) -> str | None:
    """The first JSONL sink other than ``failing`` that stored everything: its file, or '-' for stdout."""
    for sink in storage:
        if isinstance(sink, JsonlSink) and sink is not failing and not sink.report().lost:
            return sink.path or "-"
    return None
