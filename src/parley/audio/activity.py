"""Where a clean, synthesized track is audible: the agent's own output, sample-exact.

The agent's channel holds nothing but what it played (digital silence between replies), so an
energy gate finds its speech exactly; no VAD padding moves the edges. Full-Duplex-Bench measures
latency from the first word's timestamp, so the export anchors words to these runs.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE

AUDIBLE_DB = -45.0  # a sample this loud (re full scale) is sound, not silence or dither


def audible_runs(pcm: np.ndarray, *, threshold_db: float = AUDIBLE_DB, join_gap_s: float = 0.3,
                 min_run_s: float = 0.04, rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """(start s, end s) of each stretch of sound: from its first sample at or above the threshold
    to its last, gaps shorter than `join_gap_s` bridged (the pauses inside a sentence), stretches
    shorter than `min_run_s` dropped (clicks)."""
    level = 10 ** (threshold_db / 20)
    loud = np.flatnonzero(np.abs(np.asarray(pcm, dtype=np.float32)) >= level)
    if len(loud) == 0:
        return []
    breaks = np.flatnonzero(np.diff(loud) > join_gap_s * rate)
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]]) + 1
    return [(a / rate, b / rate) for a, b in zip(starts, ends) if (b - a) >= min_run_s * rate]

