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
    :data:`MAX_DEFAULT_THREADS`."""
    return max(1, min(MAX_DEFAULT_THREADS, usable_cores() if cores is None else cores))


def pipeline_mode(interpreter_threads: int, cores: int | None = None) -> str:
    """How the pipeline runs its stages by default (see :mod:`liveredge.edge.runtime.stages`): ``"serial"`` on
    one core; ``"staged"`` (queued frames prepared while the model runs the previous one) when the model runs on
    an accelerator (``interpreter_threads`` 0), so its ``invoke()`` leaves the CPU free; else ``"direct"`` (the
    geometry check and the gate run beside ``invoke()``, frames are not staged). On the 2-core reference machine
    staging measured no faster than the serial loop even with a core left free (``make bench`` reports every
    mode, ``pipeline_mode_fps``), so it is opt-in there: ``PipelineConfig(mode="staged")``."""
    n = usable_cores() if cores is None else cores
    if n < 2:
        return "serial"
    return "staged" if interpreter_threads == 0 else "direct"
