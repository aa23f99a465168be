"""Training callbacks: a tqdm progress bar (stderr) and a resumable checkpoint + early-stopping state.

Checkpoint folder layout (``RUN_DIR/checkpoints/``): ``last.keras`` (model + optimizer state after the last
finished epoch), ``best.weights.h5`` (weights of the epoch with the lowest monitored value), ``state.json``
({"epoch": last finished epoch (1-based), "best": value, "best_epoch": int, "wait": epochs since best,
"stopped": bool}). Resuming loads ``last.keras`` and continues at ``epoch``; early stopping keeps its
patience counter across the restart.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import keras
from tqdm import tqdm


class TqdmProgress(keras.callbacks.Callback):
    """One bar per run over all epochs' steps; postfix shows loss and the validation numbers."""

    def __init__(self, epochs: int, steps: int, initial_epoch: int = 0) -> None:
        super().__init__()
        self._epochs = epochs
        # disable=None: no bar when stderr is not a terminal (a log file gets one line per epoch instead).
        self._bar = tqdm(
            total=epochs * steps,
            initial=initial_epoch * steps,
            desc="train",
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._bar.update(1)
        if logs and batch % 10 == 0:
            self._bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.3f}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        shown = {k: f"{v:.3f}" for k, v in logs.items() if isinstance(v, float) and k != "learning_rate"}
        self._bar.set_postfix(epoch=epoch + 1, **shown)
        if self._bar.disable:
            print(
                f"epoch {epoch + 1}/{self._epochs}: " + ", ".join(f"{k} {v}" for k, v in shown.items()),
                file=sys.stderr,
                flush=True,
            )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._bar.close()


class TimeBudget(keras.callbacks.Callback):
    """Stops training before the epoch that would end past ``seconds`` of wall time (judged by the slowest epoch
    so far); the best checkpoint is then restored and exported as usual."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.stopped_early = False
        self._start = time.perf_counter()
        self._last = self._start
        self._slowest = 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.perf_counter()
        self._slowest = max(self._slowest, now - self._last)
        self._last = now
        if now - self._start + self._slowest > self.seconds:
            self.stopped_early = True
            self.model.stop_training = True
            print(f"time budget of {self.seconds:.0f} s reached after epoch {epoch + 1}: stopping", file=sys.stderr)


class ResumableCheckpoint(keras.callbacks.Callback):
    """Saves ``last.keras`` every epoch, the best weights by ``monitor`` (lower is better), and stops after
    ``patience`` epochs without improvement (by ``min_delta``). State survives restarts (see module doc)."""

    def __init__(
        self, folder: str | Path, monitor: str = "val_loss", patience: int = 5, min_delta: float = 1e-4
    ) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.state: dict[str, Any] = load_state(self.folder) or {
            "epoch": 0,
            "best": math.inf,
            "best_epoch": 0,
            "wait": 0,
            "stopped": False,
        }

    @property
    def best_weights(self) -> Path:
        return self.folder / "best.weights.h5"

    @property
    def last_model(self) -> Path:
        return self.folder / "last.keras"

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = float((logs or {}).get(self.monitor, math.nan))
        if not math.isnan(value) and value < self.state["best"] - self.min_delta:
            self.state.update(best=value, best_epoch=epoch + 1, wait=0)
            self.model.save_weights(self.best_weights)
        else:
            self.state["wait"] += 1
        self.state["epoch"] = epoch + 1
        if self.state["wait"] >= self.patience:
            self.state["stopped"] = True
            self.model.stop_training = True
        self.model.save(self.last_model)
        (self.folder / "state.json").write_text(json.dumps(self.state, indent=2))


def load_state(folder: str | Path) -> dict[str, Any] | None:
    """The checkpoint state of a run, or None if it has none."""
    path = Path(folder) / "state.json"
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    state["best"] = math.inf if state.get("best") is None else float(state["best"])
    return state
