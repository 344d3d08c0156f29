"""Median fundamental frequency of a voice: how `parley voices` tells its speakers apart."""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE


def median_f0(x: np.ndarray, sr: int = SAMPLE_RATE, fmin: float = 60.0, fmax: float = 400.0) -> float | None:
    """Median F0 (Hz) over voiced 40 ms frames: the autocorrelation peak between `fmin` and `fmax`,
    kept when it holds at least half the frame's energy. None when fewer than 10 frames are voiced."""
    win, hop, found = int(0.04 * sr), int(0.02 * sr), []
    lo, hi = int(sr // fmax), int(sr // fmin)
    x = np.asarray(x, dtype=np.float64)
    for i in range(0, len(x) - win, hop):
        f = x[i:i + win] - x[i:i + win].mean()
        if np.sqrt(np.mean(f**2)) < 0.02:
            continue
        ac = np.correlate(f, f, "full")[win - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            found.append(sr / lag)
    return float(np.median(found)) if len(found) >= 10 else None
