"""The simulated user's voices: several speakers from two synthesis engines, deterministic and cached.

A bench that speaks only in the easiest voice for the ASR flatters the agent (Whisper tiny.en hears
Piper joe at ~2 % WER and eSpeak NG's formant voices at 16-22 %), so callers come in several voices:
Piper joe (neural, pitched up from the agent's own joe so the two are told apart) and eSpeak NG
variants (formant synthesis: US and British, male and female, two above 165 Hz). Every voice is
deterministic (Piper without sampling noise, eSpeak NG has none) and every line is cached on disk
under `$PARLEY_CACHE/voices/`, so a bench re-run synthesizes nothing. Lines are trimmed to the
speech, so their end is the true end of speech, the instant latency is measured from.

A line with mid-utterance pauses is said whole and cut where the caller pauses (`speak_in_pieces`):
each piece keeps the pitch of a sentence that goes on. Said alone, the words before a pause ended on
a sentence's final fall, which no caller who is still talking makes, and Smart Turn heard them as a
finished turn.
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

            return self._piper().synthesize(text)
        return _espeak(text, **self.params)

    def synthesize_pieces(self, pieces: list[str]) -> list[np.ndarray] | None:
        """The pieces said as one line, cut between them (16 kHz, not trimmed); None where the
        engine's timing cannot place a cut (then the caller says each piece alone)."""
        pieces = [letter_names(piece, self.engine) for piece in pieces]
        if self.engine == "piper":
            return _piper_pieces(self._piper(), pieces)
        return _espeak_pieces(pieces, **self.params)

    def _piper(self):
        from parley.components import registry

        return registry.piper(self.params["length_scale"], self.params["pitch"], deterministic=True, aligned=True)

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


def _espeak(text: str, *, voice: str, speed: int, pitch: int, ssml: bool = False) -> np.ndarray:
    from parley.audio.wavio import read_wav

    exe = _espeak_binary()
    if exe is None:
        raise VoiceError("eSpeak NG is not installed; install it with `apt-get install espeak-ng`.")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "line.wav"
        subprocess.run([exe, *(["-m"] if ssml else []), "-v", voice, "-s", str(speed), "-p", str(pitch),
                        "-w", str(wav), "--", text],
                       check=True, capture_output=True, timeout=60)
        return read_wav(wav, SAMPLE_RATE)


def _espeak_pieces(pieces: list[str], **params) -> list[np.ndarray] | None:
    """eSpeak NG says the pieces as one SSML line with a break between them; the breaks are its only
    runs of digital silence that long, so the line is cut there."""
    from xml.sax.saxutils import escape

    brk = '<break time="1000ms"/>'
    pcm = _espeak(f" {brk} ".join(escape(piece) for piece in pieces), ssml=True, **params)
    quiet = np.concatenate([[False], np.abs(pcm) < 1e-4, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= int(0.8 * SAMPLE_RATE)]
    if len(runs) != len(pieces) - 1:
        return None
    cuts = [0, *[x for run in runs for x in run], len(pcm)]
    return [pcm[a:b] for a, b in zip(cuts[::2], cuts[1::2])]


def _piper_pieces(tts, pieces: list[str]) -> list[np.ndarray] | None:
    """Piper says the line whole; its per-phoneme durations place each cut between two words."""
    try:
        pcm, words = tts.synthesize_words(" ".join(pieces))
    except ValueError:  # piper could not align this line's phonemes
        return None
    ends = [tts.word_count(" ".join(pieces[: i + 1])) for i in range(len(pieces) - 1)]
    if not all(0 < n < len(words) for n in ends) or ends != sorted(set(ends)):
        return None
    cuts = [0, *[x for n in ends for x in (words[n - 1][1], words[n][0])], len(pcm)]
    return [pcm[a:b] for a, b in zip(cuts[::2], cuts[1::2])]


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
    from parley.components.weights import cache_dir

    return cache_dir() / "voices"


@lru_cache(maxsize=64)  # a conversation's lines; the disk cache holds the rest (4096 lines were ~800 MB of RAM)
def _speak_cached(name: str, text: str, slower: bool = False) -> np.ndarray:
    v = voice(name).slower() if slower else voice(name)
    path = _cache_dir() / name / f"{v.cache_key(text)}.npy"
    pcm = _load(path)
    if pcm is None:
        pcm = trim_silence(v.synthesize(text)).astype(np.float32)
        _store(path, pcm)
    return pcm


@lru_cache(maxsize=16)
def _pieces_cached(name: str, pieces: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    v = voice(name)
    key = v.cache_key("\x1f".join(pieces))
    paths = [_cache_dir() / name / f"{key}-{i}.npy" for i in range(len(pieces))]
    loaded = [_load(path) for path in paths]
    if all(pcm is not None for pcm in loaded):
        return tuple(loaded)
    cut = v.synthesize_pieces(list(pieces))
    if cut is None:
        return tuple(_speak_cached(name, piece) for piece in pieces)
    out = tuple(trim_silence(_ramped(pcm, i > 0, i < len(cut) - 1)).astype(np.float32) for i, pcm in enumerate(cut))
    for path, pcm in zip(paths, out):
        _store(path, pcm)
    return out


def _ramped(pcm: np.ndarray, fade_in: bool, fade_out: bool, ms: float = 5.0) -> np.ndarray:
    """A cut in the middle of a line, faded over a few ms so it does not click."""
    pcm = pcm.astype(np.float32).copy()
    n = min(int(ms / 1000 * SAMPLE_RATE), len(pcm) // 2)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    if fade_in and n:
        pcm[:n] *= ramp
    if fade_out and n:
        pcm[-n:] *= ramp[::-1]
    return pcm


def _load(path: Path) -> np.ndarray | None:
    try:
        pcm = np.load(path)
    except (OSError, ValueError):
        return None
    return pcm if pcm.dtype == np.float32 and pcm.ndim == 1 else None


def _store(path: Path, pcm: np.ndarray) -> None:
    try:  # a read-only cache costs only speed
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            np.save(f, pcm)
        os.replace(tmp, path)
    except OSError:
        pass


def speak_as_user(text: str, voice_name: str = DEFAULT_VOICE, slower: bool = False) -> np.ndarray:
    """`text` said by the simulated user in voice `voice_name` (16 kHz, trimmed to the speech);
    `slower`: the way a caller says it again when asked to (`Voice.slower`)."""
    pcm = _speak_cached(voice_name, text, slower)
    pcm.setflags(write=False)  # shared by every caller through the cache
    return pcm


def speak_in_pieces(pieces: list[str], voice_name: str = DEFAULT_VOICE) -> list[np.ndarray]:
    """A line with pauses, said whole and cut between `pieces` (each trimmed to its speech), so the
    words before a pause sound like a sentence that goes on."""
    out = list(_pieces_cached(voice_name, tuple(pieces)))
    for pcm in out:
        pcm.setflags(write=False)
    return out


def voice_f0(name: str) -> float | None:
    """Median F0 (Hz) of the voice on a reference line, measured (and cached with the line)."""
    from parley.audio.pitch import median_f0

    f0 = median_f0(speak_as_user(REFERENCE_LINE, name))
    return round(f0, 1) if f0 is not None else None

