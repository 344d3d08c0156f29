"""Acoustic conditions: the line between the simulated caller and the agent.

The agent hears the caller through one of these, as a real caller's audio arrives: `clean` (as
synthesized), `phone` (a narrowband telephone line: 300-3400 Hz, 8 kHz G.711 μ-law, back to 16 kHz,
since the agent takes 16 kHz), `noisy` (steady speech-shaped background noise at 15 dB SNR, present
in the silences too, so the VAD has to tell speech from noise), `echo` (a speakerphone: the agent's
own voice comes back at −20 dB, 45 ms late; the loopback mixes it). Each line is a streaming,
stateful filter applied frame by frame to everything the agent hears, deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from parley.audio import g711
from parley.audio.frame import SAMPLE_RATE
from parley.errors import ParleyError

CONDITIONS = ("clean", "phone", "noisy", "echo")
DEFAULT_CONDITION = "clean"
ECHO_DB = -20.0
NOISE_SNR_DB = 15.0
PHONE_BAND_HZ = (300.0, 3400.0)


class ConditionError(ParleyError):
    """An unknown acoustic condition."""


def parse_conditions(spec: str) -> list[str]:
    names = list(CONDITIONS) if spec.strip() == "all" else [s.strip() for s in spec.split(",") if s.strip()]
    bad = [n for n in names if n not in CONDITIONS]
    if bad or not names:
        raise ConditionError(f"unknown condition {bad[0] if bad else ''!r}: use one of {', '.join(CONDITIONS)}, or all.")
    return names


class PhoneLine:
    """300-3400 Hz band-pass at 16 kHz, down to 8 kHz, G.711 μ-law, up to 16 kHz (zero-stuffing
    and a 3.6 kHz low-pass). Filter states carry across frames."""

    def __init__(self) -> None:
        self._band = signal.butter(6, PHONE_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
        self._up = signal.butter(8, 3600.0, btype="lowpass", fs=SAMPLE_RATE, output="sos")
        self._zb = signal.sosfilt_zi(self._band) * 0.0
        self._zu = signal.sosfilt_zi(self._up) * 0.0
        self._n = 0  # samples seen: the 8 kHz line keeps every other 16 kHz sample, counted globally

    def __call__(self, pcm: np.ndarray) -> np.ndarray:
        band, self._zb = signal.sosfilt(self._band, pcm, zi=self._zb)
        first = self._n % 2  # index in this frame of the first sample on the 8 kHz grid
        self._n += len(pcm)
        line = g711.ulaw_decode(g711.ulaw_encode(band[first::2]))  # the band-pass left nothing above 4 kHz
        stuffed = np.zeros(len(pcm))
        stuffed[first::2] = 2.0 * line
        out, self._zu = signal.sosfilt(self._up, stuffed, zi=self._zu)
        return out.astype(np.float32)


class NoisyRoom:
    """Speech-shaped noise (white noise through a −6 dB/octave slope above 500 Hz), `snr_db` below the
    caller's active speech level, continuous from the first frame."""

    def __init__(self, speech_rms: float, snr_db: float = NOISE_SNR_DB, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)
        self._shape = signal.butter(1, 500.0, btype="lowpass", fs=SAMPLE_RATE, output="sos")
        self._hp = signal.butter(2, 80.0, btype="highpass", fs=SAMPLE_RATE, output="sos")
        self._z = signal.sosfilt_zi(self._shape) * 0.0
        self._zh = signal.sosfilt_zi(self._hp) * 0.0
        self._gain = self._calibrate(speech_rms / 10 ** (snr_db / 20))

    def _calibrate(self, target_rms: float) -> float:
        probe = np.random.default_rng(12345).standard_normal(SAMPLE_RATE * 4)
        shaped = signal.sosfilt(self._hp, signal.sosfilt(self._shape, probe))[SAMPLE_RATE:]
        return target_rms / float(np.sqrt(np.mean(shaped**2)))

    def __call__(self, pcm: np.ndarray) -> np.ndarray:
        noise, self._z = signal.sosfilt(self._shape, self._rng.standard_normal(len(pcm)), zi=self._z)
        noise, self._zh = signal.sosfilt(self._hp, noise, zi=self._zh)
        return (pcm + self._gain * noise).astype(np.float32)


def active_rms(pcm: np.ndarray, floor_db: float = -40.0) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest (ITU P.56's idea, simplified): the
    level of the speech itself, not of the silences around it."""
    win = int(0.02 * SAMPLE_RATE)
    n = len(pcm) // win
    if n == 0:
        return 0.0
    rms = np.sqrt(np.mean(pcm[: n * win].reshape(n, win).astype(np.float64) ** 2, axis=1))
    keep = rms[rms >= max(10 ** (floor_db / 20), rms.max() * 10 ** (-30 / 20))]
    return float(np.sqrt(np.mean(keep**2))) if len(keep) else 0.0


def line_filter(name: str, speech_rms: float, seed: int = 0):
    """The frame filter for condition `name` (None: the audio passes unchanged; `echo` is mixed by
    the loopback, not filtered)."""
    if name == "phone":
        return PhoneLine()
    if name == "noisy":
        return NoisyRoom(speech_rms, seed=seed)
    if name in CONDITIONS:
        return None
    raise ConditionError(f"unknown condition {name!r}: use one of {', '.join(CONDITIONS)}.")
