"""The unit of audio inside parley.

Everything inside runs at 16 kHz mono float32 in [-1, 1]; other rates and channel layouts are
converted once, at the edges (WAV files, TTS output, devices). A frame is 32 ms = 512 samples, the
window Silero VAD scores, so one frame is also the granularity of "stop within one frame".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


@dataclass(frozen=True)
class AudioFrame:
    pcm: np.ndarray  # float32, mono
    sample_rate: int
    t: float  # clock time of the first sample
