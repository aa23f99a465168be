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
    """Interpreter threads when ``--threads`` is not given: every core on 1-2 cores (the model is most of the
    frame); from 3 cores on, one core is left free for the other stages (see :func:`pipeline_mode`), at most
    :data:`MAX_DEFAULT_THREADS`."""
    n = usable_cores() if cores is None else cores
    return max(1, min(MAX_DEFAULT_THREADS, n if n <= 2 else n - 1))


def pipeline_mode(interpreter_threads: int, cores: int | None = None) -> str:
    """How the pipeline runs its stages by default (see :mod:`liveredge.edge.runtime.stages`): ``"staged"``
    (queued frames prepared while the model runs the previous one) when a core is free beside the interpreter's
    threads (``interpreter_threads`` 0: the model runs on an accelerator), else ``"serial"``. Anything run beside
    ``invoke()`` when every core is in its thread pool can preempt a pool thread, and the whole operator waits for
    it: on the 2-core development machine with 2 threads the staged and direct modes measured at or below the
    serial loop in 5 of 6 alternated comparisons (docs/performance.md; ``make bench`` reports every mode each
    round, ``pipeline_mode_fps``; ``PipelineConfig(mode=...)`` overrides)."""
    n = usable_cores() if cores is None else cores
    return "staged" if n >= 2 and n > interpreter_threads else "serial"
