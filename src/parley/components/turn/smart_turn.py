"""Smart Turn v3.2 (Pipecat, BSD-2): an audio end-of-turn classifier on a Whisper-tiny encoder.

Input: the last 8 s of 16 kHz audio (zero-padded in front), normalised to zero mean and unit
variance, as 80×800 Whisper log-mel features; output: P(turn complete). The ONNX file ships inside
the `pipecat-ai` wheel, installed with `--no-deps` (we need the file, not the framework); features
come from faster-whisper's numpy extractor, which matches Pipecat's to 1e-6.
"""

from __future__ import annotations

from importlib import util
from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.cpu import ort_options
from parley.errors import ModelUnavailableError

WINDOW_S = 8


def model_path() -> Path:
    spec = util.find_spec("pipecat")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "Smart Turn is not installed; run `make install` (or `pip install --no-deps pipecat-ai==1.14.0`)."
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
    if not path.is_file():
        raise ModelUnavailableError(f"Smart Turn weights are missing at {path}; reinstall pipecat-ai==1.14.0 with --no-deps.")
    return path


class SmartTurn:
    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        opts = ort_options(threads)
        self._session = ort.InferenceSession(str(model_path()), sess_options=opts, providers=["CPUExecutionProvider"])
        self._features = FeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=160,
                                          chunk_length=WINDOW_S, n_fft=400)

    def predict(self, pcm: np.ndarray) -> float:
        n = WINDOW_S * SAMPLE_RATE
        x = np.asarray(pcm, dtype=np.float32)[-n:]
        if len(x) < n:
            x = np.pad(x, (n - len(x), 0))
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        feats = self._features(x, padding=0)[:, : WINDOW_S * 100]
        out = self._session.run(None, {"input_features": feats[None].astype(np.float32)})[0]
        return float(np.asarray(out).reshape(-1)[0])
