"""One rule for progress bars: drawn only when their stream (stderr) is a terminal, never with ``--quiet``, so logs,
pipes and systemd journals get no ``\\r`` lines. Standard library only."""

from __future__ import annotations


def bar_disabled(progress: bool = True) -> bool | None:
    """tqdm's ``disable``: True when progress is off (``--quiet``); None = tqdm draws only on a terminal."""
    return None if progress else True
