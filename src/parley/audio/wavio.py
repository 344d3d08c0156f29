"""WAV read/write with errors people can act on.

Reading converts any rate and channel count to parley's 16 kHz mono float32; 8/16/24/32-bit PCM and
32-bit float files are accepted.
"""

from __future__ import annotations

import warnings
import wave
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from parley.audio.frame import SAMPLE_RATE
from parley.audio.resample import resample, to_mono
from parley.errors import AudioFileError, describe


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    if data.dtype == np.int16:
        return data.astype(np.float32) / 32768.0
    if data.dtype == np.int32:
        return data.astype(np.float32) / 2147483648.0
    if data.dtype in (np.float32, np.float64):
        return data.astype(np.float32)
    raise AudioFileError(f"unsupported sample format {data.dtype}")


def read_wav(path: str | Path, rate: int = SAMPLE_RATE, *, mono: bool = True) -> np.ndarray:
    """Read a WAV file as float32 at `rate`: mono (n,), or (n, channels) with `mono=False`.
    Raises AudioFileError with a clear sentence."""
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"{p}: no such file; check the path.")
    if p.stat().st_size == 0:
        raise AudioFileError(f"{p} is empty; give a WAV file with audio in it.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", wavfile.WavFileWarning)  # e.g. "Reached EOF prematurely"
            src_rate, data = wavfile.read(p)
    except wavfile.WavFileWarning as exc:
        raise AudioFileError(
            f"{p} is damaged ({exc}); its header promises more audio than the file holds. "
            "Re-export it, e.g. `ffmpeg -i in.wav -ar 16000 -ac 1 out.wav`."
        ) from None
    except Exception as exc:  # scipy raises ValueError/struct.error/EOFError on junk
        raise AudioFileError(
            f"{p} is not a readable WAV file ({describe(exc)}); "
            "convert it to PCM WAV, e.g. `ffmpeg -i in.mp3 -ar 16000 -ac 1 out.wav`."
        ) from None
    if data.size == 0:
        raise AudioFileError(f"{p} holds no audio samples; give a WAV file with audio in it.")
    try:
        pcm = _to_float(data)
    except AudioFileError as exc:
        raise AudioFileError(f"{p}: {exc}; convert it to 16-bit PCM WAV.") from None
    if not np.isfinite(pcm).all():
        bad = int((~np.isfinite(pcm)).sum())
        raise AudioFileError(f"{p} holds {bad} sample(s) that are not numbers (NaN or infinity); "
                             "the file is corrupt: re-export it as 16-bit PCM WAV.")
    if mono or pcm.ndim == 1:
        return resample(to_mono(pcm), int(src_rate), rate)
    return np.stack([resample(pcm[:, c], int(src_rate), rate) for c in range(pcm.shape[1])], axis=1)


def write_wav(path: str | Path, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write mono (n,) or multi-channel (n, ch) float audio as 16-bit PCM."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(pcm, dtype=np.float32)
    channels = 1 if arr.ndim == 1 else arr.shape[1]
    ints = (np.clip(arr, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(p), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(ints.tobytes())
