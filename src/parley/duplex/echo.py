"""Echo guard: the agent must not hear itself.

On a speakerphone the agent's own voice comes back into the microphone, attenuated (~ −20 dB) and
delayed (30–60 ms). Left alone, the VAD takes it for the user and the agent interrupts itself. Two
layers, both using the reference the agent knows exactly — the audio it just played:

1. `EchoCanceller`: a partitioned-block frequency-domain NLMS adaptive filter (the MDF structure used
   by Speex and WebRTC's AEC) learns the echo path from the reference and subtracts the predicted
   echo. Adaptation freezes during double talk (the microphone much louder than the echo estimate),
   so the user's voice does not corrupt the filter; the path is kept across replies.
2. `EchoGuard.echo_only`: while the agent speaks, a frame whose residual is far below the reference
   level cannot be the user (who is as loud as the agent or louder at the microphone); such frames
   are scored as silence. This covers the first frames before the filter has converged.
User speech over the echo survives both: the filter removes the echo, not the user, and the user is
loud relative to the residual.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import FRAME_SAMPLES


class EchoCanceller:
    def __init__(self, block: int = FRAME_SAMPLES, partitions: int = 4, mu: float = 1.0) -> None:
        self.n = block
        self.k = partitions
        self.mu = mu
        self._x_prev = np.zeros(block, dtype=np.float64)
        self._X = np.zeros((partitions, block + 1), dtype=np.complex128)  # reference spectra, newest first
        self._W = np.zeros((partitions, block + 1), dtype=np.complex128)  # echo path, per partition
        self._power = np.full(block + 1, 1e-6)
        self._silent = partitions + 1  # blocks in a row with a silent reference (the spectra are all zero)

    def process(self, mic: np.ndarray, ref: np.ndarray, *, adapt: bool = True) -> np.ndarray:
        """Remove the echo of `ref` (what was played during this block) from `mic`."""
        n = self.n
        x = np.asarray(ref, dtype=np.float64)
        silent = not x.any()
        if silent and self._silent > self.k:
            # Nothing played within the filter's span: the predicted echo is exactly zero and there
            # is nothing to adapt to. Most frames of a call are so; skipping 3-5 FFTs on them is
            # most of the echo guard's cost per idle caller on a shared server.
            return np.asarray(mic, dtype=np.float32)
        self._silent = self._silent + 1 if silent else 0
        self._X = np.roll(self._X, 1, axis=0)
        self._X[0] = np.fft.rfft(np.concatenate([self._x_prev, x]))
        self._x_prev = x
        y_hat = np.fft.irfft((self._W * self._X).sum(axis=0))[n:]
        e = np.asarray(mic, dtype=np.float64) - y_hat
        if adapt and np.dot(x, x) > 1e-6:
            E = np.fft.rfft(np.concatenate([np.zeros(n), e]))
            current = (np.abs(self._X) ** 2).sum(axis=0)
            self._power = np.maximum(0.9 * self._power + 0.1 * current, current)
            grad = np.conj(self._X) * E / (self._power + 1e-6)
            g = np.fft.irfft(grad, axis=1)
            g[:, n:] = 0.0  # gradient constraint: keep the filter causal and linear (overlap-save)
            self._W += self.mu * np.fft.rfft(g, axis=1)
        return e.astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


class EchoGuard:
    """Echo cancellation plus a residual-level gate, fed with the frames the agent played."""

    def __init__(self, margin_db: float = 12.0, history_frames: int = 4) -> None:
        self.aec = EchoCanceller()
        self.margin = 10 ** (-margin_db / 20)
        self._ref_history: list[float] = [0.0] * history_frames

    def process(self, mic: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, bool]:
        """Return (mic without echo, True if the frame holds nothing but echo)."""
        level = _rms(ref)
        ref_level = max(self._ref_history[1:] + [level])  # echo lags the reference by up to ~100 ms
        self._ref_history = self._ref_history[1:] + [level]
        mic_level = _rms(mic)
        # Double talk: the microphone is much louder than the echo path can make the reference.
        double_talk = mic_level > 0.5 * ref_level
        clean = self.aec.process(mic, ref, adapt=not double_talk)
        # Judge the quieter of raw and cleaned: a filter disturbed by double talk can add error, but
        # the raw microphone alone still shows an echo-only frame for what it is.
        residual = min(_rms(clean), mic_level)
        echo_only = ref_level > 1e-4 and residual < self.margin * ref_level and not double_talk
        return clean, echo_only
