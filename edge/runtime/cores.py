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
    """Interpreter threads when ``--threads`` is not given: every core on 1-2 cores; from 3 cores on, one core is
    left to the other stages (preprocessing and decisions overlap the model there), at most
    :data:`MAX_DEFAULT_THREADS`."""
    n = usable_cores() if cores is None else cores
    return max(1, min(MAX_DEFAULT_THREADS, n if n <= 2 else n - 1))


def pipeline_mode(interpreter_threads: int, cores: int | None = None) -> str:
    """How the pipeline runs its stages by default (see :mod:`liveredge.edge.runtime.stages`): ``"serial"`` on
    one core; ``"staged"`` (queued frames prepared while the model runs the previous one) when a core is left
    beside the interpreter's threads; else ``"direct"`` (the geometry check and the gate run beside ``invoke()``,
    frames are not staged: with every core in the model, staging only adds thread switches — measured in
    ``make bench`` as ``staged_over_serial_pipeline``)."""
    n = usable_cores() if cores is None else cores
    if n < 2:
        return "serial"
    return "staged" if n > interpreter_threads else "direct"
