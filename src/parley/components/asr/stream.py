"""Streaming transcription over any buffer-transcribing ASR.

While the user speaks, the utterance is re-transcribed at most every `partial_interval_s` (only when
the ASR worker is idle, so partials never queue up behind each other); at end of speech the whole
utterance is transcribed once more for the final text. Whisper's encoder cost is fixed per call,
so re-decoding growing audio is cheap enough for partials but saves nothing on the final.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.clock import Clock
from parley.components.asr.base import ASR


@dataclass
class Transcript:
    text: str
    audio_s: float
    compute_s: float


class StreamingTranscriber:
    """One utterance stream over `asr`, on its own worker thread."""

    def __init__(self, asr: ASR, clock: Clock, partial_interval_s: float = 1.0) -> None:
        self.asr = asr
        self.clock = clock
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")
        self.partial_interval_s = partial_interval_s
        self._busy = False
        self._last_partial_len = 0

    async def warm(self) -> None:
        await self.clock.compute(self.executor, self.asr.transcribe, np.zeros(SAMPLE_RATE, dtype=np.float32))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def reset(self) -> None:
        self._last_partial_len = 0

    def wants_partial(self, n_samples: int) -> bool:
        due = n_samples - self._last_partial_len >= self.partial_interval_s * SAMPLE_RATE
        return due and not self._busy

    def _final(self, pcm: np.ndarray, prompt: str | None) -> str:
        """The final pass: an ASR that can re-decode an announced spelling letters only does so."""
        text = self.asr.transcribe(pcm, prompt)
        respell = getattr(self.asr, "respell", None)
        return respell(pcm, text) if respell is not None and text else text

    async def transcribe(self, pcm: np.ndarray, *, partial: bool = False, prompt: str | None = None) -> Transcript:
        self._busy = True
        if partial:
            self._last_partial_len = len(pcm)
        t0 = self.clock.now()
        try:
            text = await self.clock.compute(self.executor, self._final if not partial else self.asr.transcribe,
                                            pcm, prompt)
        finally:
            self._busy = False
        return Transcript(text=text, audio_s=len(pcm) / SAMPLE_RATE, compute_s=self.clock.now() - t0)
