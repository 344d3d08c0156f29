"""Sample-rate conversion with soxr (the maintained libsoxr binding), and channel down-mixing."""

from __future__ import annotations

import numpy as np
import soxr


def to_mono(pcm: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) → (n,) float32, averaging channels."""
    if pcm.ndim == 2:
        pcm = pcm.mean(axis=1)
    return np.ascontiguousarray(pcm, dtype=np.float32)


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    pcm = np.asarray(pcm, dtype=np.float32)
    if from_rate == to_rate or len(pcm) == 0:
        return pcm
    return soxr.resample(pcm, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)
