"""Sample-rate conversion with soxr (the maintained libsoxr binding), and channel down-mixing."""

from __future__ import annotations

import numpy as np
import soxr


def to_mono(pcm: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) → (n,) float32, averaging channels."""
    if pcm.ndim == 2:
        pcm = pcm.mean(axis=1)
    return np.ascontiguousarray(pcm, dtype=np.float32)


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    pcm = np.asarray(pcm, dtype=np.float32)
    if from_rate == to_rate or len(pcm) == 0:
        return pcm
    return soxr.resample(pcm, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


class StreamResampler:
    """Chunk-by-chunk resampling for live audio at the edges, with little delay and no jitter.

    soxr's streaming filters hold back 20-66 ms and release it in irregular blocks (16 → 24 kHz:
    450, 900, 900, 450 samples for four equal chunks), which a caller hears as added latency and
    which delays the frame a VAD is waiting for. Rates in a small integer ratio (8 / 16 / 24 / 48
    kHz: telephony, the Realtime protocol's 24 kHz, Opus) use a polyphase FIR instead: up by L,
    a linear-phase low-pass at 0.475 × the lower rate, down by M — every input sample yields its
    outputs at once, ~2 ms of filter delay. Other ratios use soxr's LQ filter.
    """

    TAPS_PER_16K = 63  # taps per 16 kHz of the filter's rate: a ~0.8 kHz transition band at any ratio

    def __init__(self, from_rate: int, to_rate: int) -> None:
        from math import gcd

        self.from_rate, self.to_rate = from_rate, to_rate
        self._soxr = None
        g = gcd(from_rate, to_rate)
        self._up, self._down = to_rate // g, from_rate // g
        self._phase = 0  # position of the next kept sample in the current decimation step
        if from_rate == to_rate:
            return
        if max(self._up, self._down) <= 6:
            from scipy.signal import firwin

            rate = from_rate * self._up
            taps = (self.TAPS_PER_16K * rate // 16000) | 1
            self._h = (firwin(taps, 0.475 * min(from_rate, to_rate), fs=rate) * self._up).astype(np.float64)
            self._tail = np.zeros(taps - 1)  # the last input samples the next chunk's first outputs need
        else:
            self._soxr = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality="LQ")

    def __call__(self, pcm: np.ndarray) -> np.ndarray:
        pcm = np.asarray(pcm, dtype=np.float32)
        if self.from_rate == self.to_rate or len(pcm) == 0:
            return pcm
        if self._soxr is not None:
            return self._soxr.resample_chunk(pcm)
        if self._up > 1:  # zero-stuff (the filter's gain of L restores the level)
            up = np.zeros(self._up * len(pcm))
            up[::self._up] = pcm
        else:
            up = pcm.astype(np.float64)
        # FIR filtering across chunks: the kept tail in front, only the fully covered outputs. (scipy's
        # lfilter gives the same numbers but costs several times more per 20 ms chunk, and a shared
        # server runs this for every caller's every chunk.)
        padded = np.concatenate([self._tail, up])
        out = np.convolve(padded, self._h, mode="valid")
        self._tail = padded[len(padded) - len(self._tail):]
        kept = out[self._phase::self._down]
        self._phase = (self._phase - len(up)) % self._down
        return kept.astype(np.float32)
