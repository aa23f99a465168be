"""A bounded one-slot "latest frame" mailbox between the capture thread and the inference thread.

``put`` replaces an unread item (counted in :attr:`LatestMailbox.dropped`) so latency never grows behind a slow
consumer; with ``block=True`` (offline ``--rate max`` replay) it waits for the slot instead, so nothing is lost.
``close`` wakes everyone; ``get`` then returns what is left and afterwards None.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestMailbox(Generic[T]):
    """One slot, thread-safe; ``dropped`` counts items replaced before they were read."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._has = False
        self.closed = False
        self.dropped = 0
        self.put_count = 0

    def put(self, item: T, block: bool = False, timeout_s: float | None = None) -> bool:
        """Offer ``item``; False when the mailbox is closed (or ``block`` timed out)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while block and self._has and not self.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            if self.closed:
                return False
            if self._has:
                self.dropped += 1
            self._item, self._has = item, True
            self.put_count += 1
            self._cond.notify_all()
            return True

    def get(self, timeout_s: float) -> T | None:
        """The latest item, or None after ``timeout_s`` seconds (or when closed and empty)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._has and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            if not self._has:
                return None
            item, self._item, self._has = self._item, None, False
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    @property
    def waiting(self) -> bool:
        """An item is in the slot right now (a hint: it may be taken or replaced at once)."""
        return self._has

    @property
    def drained(self) -> bool:
        """Closed and nothing left to read."""
        with self._cond:
            return self.closed and not self._has
