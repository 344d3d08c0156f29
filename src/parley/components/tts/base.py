from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class SpeechChunk:
    """Synthesized audio for characters [start, end) of a reply, so "what the user heard" is exact."""

    pcm: np.ndarray  # 16 kHz mono float32
    text: str
    start: int
    end: int


class TTS(Protocol):
    """Synthesizes one clause to 16 kHz mono float32. Blocking; callers run it through the Clock.

    Streaming happens one level up: the reply is cut into clauses as tokens arrive
    (`parley.components.tts.clauses`) and each clause becomes one `SpeechChunk`.
    """

    def synthesize(self, text: str) -> np.ndarray: ...
