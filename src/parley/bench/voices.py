"""The simulated user's voice: Piper's joe, pitched up and paced differently from the agent.

Pitch ×1.2 with a slower length scale gives a clearly different (higher, brisker) voice that Whisper
still transcribes well; it is deterministic, so every run hears the same lines. Lines are trimmed to the speech so that their end is the true end of speech,
the instant latency is measured from.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.components import registry

USER_PITCH = 1.2
USER_LENGTH_SCALE = 1.1


def trim_silence(pcm: np.ndarray, threshold_db: float = -45.0, pad_s: float = 0.02) -> np.ndarray:
    if len(pcm) == 0:
        return pcm
    win = int(0.01 * SAMPLE_RATE)
    n = len(pcm) // win
    if n == 0:
        return pcm
    frames = pcm[: n * win].reshape(n, win)
    level = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-6))
    loud = np.flatnonzero(level > threshold_db)
    if len(loud) == 0:
        return pcm[:0]
    pad = int(pad_s * SAMPLE_RATE)
    a = max(0, loud[0] * win - pad)
    b = min(len(pcm), (loud[-1] + 1) * win + pad)
    return pcm[a:b]


def user_tts():
    return registry.piper(USER_LENGTH_SCALE, USER_PITCH, deterministic=True)


def speak_as_user(text: str) -> np.ndarray:
    return trim_silence(user_tts().synthesize(text))
