"""Thread counts chosen by the usable core count (``--threads`` / ``LoadOptions.num_threads`` override them)."""

from __future__ import annotations

import os

MAX_THREADS = 256
"""Most interpreter threads a run accepts (``--threads``, ``[model] threads``)."""
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
    :data:`MAX_DEFAULT_THREADS`."""
    return max(1, min(MAX_DEFAULT_THREADS, usable_cores() if cores is None else cores))


def pipeline_mode(cores: int | None = None) -> str:
    """How the pipeline runs its stages by default (see :mod:`liveredge.edge.runtime.stages`): ``"serial"`` on one
    core, else ``"staged"`` (queued frames prepared while the model runs the previous one; a frame with nothing
    queued behind it runs latency-first, the checks beside ``invoke()``). On the 2-core development machine with
    2 interpreter threads, staged/serial frames/s had a median of 1.07 over 6 alternated comparisons (0.79-1.77,
    under other jobs' load; docs/performance.md). ``make bench`` reports every mode each round
    (``pipeline_mode_fps``); ``PipelineConfig(mode=...)`` overrides."""
    return "serial" if (usable_cores() if cores is None else cores) < 2 else "staged"
