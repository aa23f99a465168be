"""Temperature scaling applied on the device (sans-I/O): probabilities at temperature ``T`` from the model's
probabilities at 1, ``p ** (1/T)`` renormalised — exactly ``softmax(logits / T)``, so a float or int8 model
needs no change and the temperature chosen on validation data lives in its operating point."""

from __future__ import annotations

import numpy as np


def tempered(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``probs`` (..., n) at ``temperature`` (float32); unchanged at 1."""
    if temperature == 1.0:
        return np.asarray(probs, np.float32)
    p = np.power(np.clip(np.asarray(probs, np.float64), 0.0, 1.0), 1.0 / temperature)
    return (p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-12)).astype(np.float32)
