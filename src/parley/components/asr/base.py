from __future__ import annotations

from typing import Protocol

import numpy as np


class ASR(Protocol):
    """Transcribes a buffer of 16 kHz mono audio. Blocking; callers run it through the Clock.

    Streaming (partials while the user speaks, a final at end of speech) is built on top of this by
    `parley.components.asr.stream.StreamingTranscriber`, so any backend that can transcribe a buffer
    streams.
    """

    def transcribe(self, pcm: np.ndarray, prompt: str | None = None) -> str:
        """`prompt` biases the vocabulary (e.g. towards backchannels for speech over the agent)."""
