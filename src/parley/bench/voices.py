"""The simulated user's voices: several speakers from two synthesis engines, deterministic and cached.

A bench that speaks only in the easiest voice for the ASR flatters the agent (Whisper tiny.en hears
Piper joe at ~2 % WER and eSpeak NG's formant voices at 16-22 %), so callers come in several voices:
Piper joe (neural, pitched up from the agent's own joe so the two are told apart) and eSpeak NG
variants (formant synthesis: US and British, male and female, two above 165 Hz). Every voice is
deterministic (Piper without sampling noise, eSpeak NG has none) and every line is cached on disk
under `$PARLEY_CACHE/voices/`, so a bench re-run synthesizes nothing. Lines are trimmed to the
speech, so their end is the true end of speech, the instant latency is measured from.
"""

from __future__ import annotations

import hashlib
import re
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.errors import ParleyError

DEFAULT_VOICE = "joe"
REFERENCE_LINE = "Hello, my name is Jordan and my order number is four seven one nine two."
_CACHE_VERSION = "2"  # bump when synthesis or trimming changes
SLOWER = 0.8  # speaking rate of a line said again on request: people slow down by about a fifth


class VoiceError(ParleyError):
    """An unknown voice, or one whose engine is not installed."""


@dataclass(frozen=True)
class Voice:
    name: str
    engine: str  # "piper" | "espeak-ng"
    description: str
    params: dict = field(default_factory=dict, hash=False)

    def synthesize(self, text: str) -> np.ndarray:
        """16 kHz mono float32, not trimmed."""
        text = letter_names(text, self.engine)
        if self.engine == "piper":
            from parley.components import registry

            return registry.piper(self.params["length_scale"], self.params["pitch"], deterministic=True).synthesize(text)
        return _espeak(text, **self.params)

    def slower(self) -> "Voice":
        """The same voice said more slowly, as a caller does when asked to say something again."""
        params = dict(self.params)
        if self.engine == "piper":
            params["length_scale"] = round(params["length_scale"] / SLOWER, 3)
        else:
            params["speed"] = int(params["speed"] * SLOWER)
        return Voice(self.name, self.engine, self.description, params)

    def cache_key(self, text: str) -> str:
        spec = repr((_CACHE_VERSION, self.engine, sorted(self.params.items()), text))
        return hashlib.sha256(spec.encode()).hexdigest()[:32]


VOICES: dict[str, Voice] = {v.name: v for v in (
    Voice("joe", "piper", "Piper joe (US English, male), pitched up ×1.2 and slower than the agent's joe",
          {"pitch": 1.2, "length_scale": 1.1}),
    Voice("espeak-us", "espeak-ng", "eSpeak NG US English, male, formant synthesis",
          {"voice": "en-us", "speed": 160, "pitch": 45}),
    Voice("espeak-us-f", "espeak-ng", "eSpeak NG US English, female variant f3 (high pitch)",
          {"voice": "en-us+f3", "speed": 165, "pitch": 50}),
    Voice("espeak-rp-f", "espeak-ng", "eSpeak NG British English (received pronunciation), female variant f2",
          {"voice": "en-gb-x-rp+f2", "speed": 155, "pitch": 50}),
    Voice("espeak-us-klatt", "espeak-ng", "eSpeak NG US English, Klatt glottal source, low and slow",
          {"voice": "en-us+klatt4", "speed": 150, "pitch": 30}),
)}


def voice(name: str) -> Voice:
    try:
        return VOICES[name]
    except KeyError:
        raise VoiceError(f"unknown voice {name!r}: use one of {', '.join(VOICES)}.") from None


def parse_voices(spec: str) -> list[str]:
    """`all` or a comma list of voice names, checked before anything runs."""
    names = list(VOICES) if spec.strip() == "all" else [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise VoiceError(f"--voices needs at least one name: use one of {', '.join(VOICES)}, or all.")
    for n in names:
        voice(n)
    return names


def check_engine(name: str) -> None:
    """One sentence, before any model loads, when a voice's engine is missing."""
    if voice(name).engine == "espeak-ng" and not _espeak_binary():
        raise VoiceError(f"voice {name!r} needs eSpeak NG, which is not installed; "
                         "install it with `apt-get install espeak-ng` (or pick --voices joe).")


# Both engines read a lone "A" as the article (a schwa), so a caller spelling "A L V A R E Z" said
# "uh L V uh R E Z"; inside a run of letters and digits it is the letter's name, in each engine's
# phoneme markup.
_LETTER_A = {"piper": "[[ ˈeɪ ]]", "espeak-ng": "[[eI]]"}
_IN_A_RUN = re.compile(r"(?<![\w'])A(?![\w'])(?=[\s,.-]+[A-Z0-9](?![\w']))|(?<=(?<![\w'])[A-Z0-9][\s,-])A(?![\w'])")


# a lower-case "a" is a letter only between two other single letters ("o k a f o r")
_IN_LOWER_RUN = re.compile(r"(?<=(?<![\w'])[a-z][\s-])a(?=[\s-][a-z](?![\w']))")


def letter_names(text: str, engine: str) -> str:
    """`text` with each spelled letter A written so the engine says "ay", not "uh"."""
    return _IN_LOWER_RUN.sub(_LETTER_A[engine], _IN_A_RUN.sub(_LETTER_A[engine], text))


def _espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def _espeak(text: str, *, voice: str, speed: int, pitch: int) -> np.ndarray:
    from parley.audio.wavio import read_wav

    exe = _espeak_binary()
    if exe is None:
        raise VoiceError("eSpeak NG is not installed; install it with `apt-get install espeak-ng`.")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "line.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), "--", text],
                       check=True, capture_output=True, timeout=60)
        return read_wav(wav, SAMPLE_RATE)


def trim_silence(pcm: np.ndarray, threshold_db: float = -45.0, pad_s: float = 0.02) -> np.ndarray:
    if len(pcm) == 0:
        return pcm
    win = int(0.01 * SAMPLE_RATE)
    n = len(pcm) // win
    if n == 0:
        return pcm
    frames = pcm[: n * win].reshape(n, win)
    level = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-6))
    loud = np.flatnonzero(level > threshold_db)
    if len(loud) == 0:
        return pcm[:0]
    pad = int(pad_s * SAMPLE_RATE)
    a = max(0, loud[0] * win - pad)
    b = min(len(pcm), (loud[-1] + 1) * win + pad)
    return pcm[a:b]


def _cache_dir() -> Path:
    from parley.components.llm.weights import cache_dir

    return cache_dir() / "voices"


@lru_cache(maxsize=64)  # a conversation's lines; the disk cache holds the rest (4096 lines were ~800 MB of RAM)
def _speak_cached(name: str, text: str, slower: bool = False) -> np.ndarray:
    v = voice(name).slower() if slower else voice(name)
    path = _cache_dir() / name / f"{v.cache_key(text)}.npy"
    try:
        pcm = np.load(path)
        if pcm.dtype == np.float32 and pcm.ndim == 1:
            return pcm
    except (OSError, ValueError):
        pass
    pcm = trim_silence(v.synthesize(text)).astype(np.float32)
    try:  # a read-only cache costs only speed
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            np.save(f, pcm)
        os.replace(tmp, path)
    except OSError:
        pass
    return pcm


def speak_as_user(text: str, voice_name: str = DEFAULT_VOICE, slower: bool = False) -> np.ndarray:
    """`text` said by the simulated user in voice `voice_name` (16 kHz, trimmed to the speech);
    `slower`: the way a caller says it again when asked to (`Voice.slower`)."""
    pcm = _speak_cached(voice_name, text, slower)
    pcm.setflags(write=False)  # shared by every caller through the cache
    return pcm


def voice_f0(name: str) -> float | None:
    """Median F0 (Hz) of the voice on a reference line, measured (and cached with the line)."""
    from parley.audio.pitch import median_f0

    f0 = median_f0(speak_as_user(REFERENCE_LINE, name))
    return round(f0, 1) if f0 is not None else None

