"""Thread counts chosen by the usable core count (``--threads`` / ``LoadOptions.num_threads`` override them)."""

from __future__ import annotations

import os

MAX_DEFAULT_THREADS = 4
"""Interpreter threads chosen by default never exceed this (XNNPACK gains little beyond it on small cores)."""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads(cores: int | None = None) -> int:
    """Interpreter threads when ``--threads`` is not given: one per usable core, at most
    :data:`MAX_DEFAULT_THREADS` (the overlapped preprocessing shares those cores; measured in ``make bench``)."""
    return max(1, min(MAX_DEFAULT_THREADS, usable_cores() if cores is None else cores))


def overlap_by_default(cores: int | None = None) -> bool:
    """Overlap preprocessing with ``invoke()`` when there are at least two usable cores."""
    return (usable_cores() if cores is None else cores) >= 2
