"""Shared sink plumbing: the notice every output carries, event serialisation, and a bounded worker thread."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from liveredge.edge.events import NOTICE, Event

__all__ = ["NOTICE", "Worker", "dumps", "event_dict"]

T = TypeVar("T")
_STOP = object()


def event_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready dict of an event (its ``to_dict`` with non-finite floats made ``None``)."""
    return _finite(event.to_dict())


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(data: dict[str, Any]) -> str:
    """One compact JSON line (no trailing newline)."""
    return json.dumps(data, separators=(",", ":"), default=str)


class Worker(Generic[T]):
    """A thread that applies ``handle`` to submitted items through a bounded queue.

    ``submit(item)`` never blocks by default: when the queue is full the item is dropped and counted in
    :attr:`dropped` (the inference loop must never wait on a slow disk or window). ``submit(item, block=True)``
    waits up to ``block_timeout_s`` (for rare records that must not be lost). An exception in ``handle`` is
    counted in :attr:`errors` (last message in :attr:`last_error`) and the worker goes on. :meth:`close` is
    bounded: what is still queued when its timeout passes is dropped (counted), never waited for.
    """

    def __init__(
        self, name: str, handle: Callable[[T], None], *, maxsize: int = 1024, on_stop: Callable[[], None] | None = None
    ) -> None:
        self._handle, self._on_stop = handle, on_stop
        self._queue: queue.Queue[object] = queue.Queue(maxsize=maxsize)
        self._cond = threading.Condition()
        self._pending = 0
        self.dropped = 0
        self.handled = 0
        self.errors = 0
        self.last_error = ""
        self._closed = False
        self._abort = threading.Event()  # close() timed out: drop what is queued, stop after the item in hand
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T, *, block: bool = False, block_timeout_s: float = 5.0) -> bool:
        """Queue ``item``; False (and counted as dropped) when the queue stays full or the worker is closed."""
        if self._closed:
            self.dropped += 1
            return False
        with self._cond:
            self._pending += 1
        try:
            self._queue.put(item, block=block, timeout=block_timeout_s if block else None)
        except queue.Full:
            with self._cond:
                self._pending -= 1
                self.dropped += 1
                self._cond.notify_all()
            return False
        return True

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued item was handled; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout_s)

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if self._abort.is_set():
                    self._discard(item)
                    if self._queue.empty():
                        return  # close() could not queue its stop marker (the queue was full)
                    continue
                try:
                    self._handle(cast(T, item))  # the queue holds items and the stop marker
                    self.handled += 1
                except Exception as exc:  # noqa: BLE001 - a sink failure must not stop the runtime
                    self.errors += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                finally:
                    with self._cond:
                        self._pending -= 1
                        self._cond.notify_all()
        finally:
            if self._on_stop is not None:
                self._on_stop()

    def _discard(self, _item: object) -> None:
        with self._cond:
            self._pending -= 1
            self.dropped += 1
            self._cond.notify_all()

    def close(self, timeout_s: float = 10.0) -> bool:
        """Handle what is queued, then stop the thread (idempotent). Returns within about ``timeout_s`` even when
        ``handle`` hangs or the queue is full: the rest is then dropped (counted) and False returned."""
        if not self._closed:
            self._closed = True
            deadline = time.monotonic() + timeout_s
            try:
                self._queue.put(_STOP, timeout=max(0.0, timeout_s))
            except queue.Full:
                self._abort.set()
            self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            self._abort.set()
            return False
        return True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
