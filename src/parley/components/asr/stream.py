"""Streaming transcription over any buffer-transcribing ASR.

While the user speaks, the utterance is re-transcribed at most every `partial_interval_s` (only when
the ASR worker is idle, so partials never queue up behind each other); at end of speech the whole
utterance is transcribed once more for the final text. Whisper's encoder cost is fixed per call,
so re-decoding growing audio is cheap enough for partials but saves nothing on the final.

A long turn is transcribed in segments: once COMMIT_S of audio is waiting, the engine hands its head
(cut at a quiet frame) to `commit`, whose text is kept and prefixes every later transcript. Partials
and the final pass then decode at most ~COMMIT_S of audio whatever the turn's length (a 5-minute
telling re-decoded whole took 4-6 s a partial and 12 s for the final), and the engine's buffer stays
bounded.

A final pass that heard nothing after a pause inside the turn, where the pass made at that pause
was the same, is checked on the audio after the pause alone (`TAIL_MIN_S`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Callable

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.clock import Clock
from parley.components.asr.base import ASR
from parley.components.registry import lane
from parley.components.watchdog import answered
from parley.cpu import LATER, URGENT, at
from parley.textnorm import digits_of


@dataclass
class Transcript:
    text: str
    audio_s: float
    compute_s: float
    confidence: float | None = None  # a final pass's mean token log-probability, where the ASR tells


# Whisper often ends a transcript at a long pause inside the turn ("my order number is … four four
# one seven two" → "…my order number is."; 54 of 492 paused lines in `benchmarks/asr_tail.py`,
# eSpeak voices mostly). The pass made at that pause (the speculative reply's) is the head: a whole-turn
# pass that adds under TAIL_NEW_CHARS letters or digits to it, over at least TAIL_MIN_S more audio,
# gets the audio after the pause transcribed alone, and what that hears joined on unless the end
# of the whole pass already says it.
TAIL_NEW_CHARS = 3
TAIL_MIN_S = 0.8
COMMIT_S = 24.0  # uncommitted audio that makes a segment of a long turn final
COMMIT_LOOK_S = 3.0  # a long turn's head is cut at the quietest frame of its last 3 s


def quiet_cut(frames: list[np.ndarray], look: int) -> int:
    """How many of `frames` to commit: up to the quietest of the last `look` (between words, not
    inside one)."""
    look = min(len(frames) - 1, look)
    energy = [float(np.mean(f * f)) for f in frames[-look:]]
    return len(frames) - look + int(np.argmin(energy)) + 1


def _chars(text: str) -> str:
    """Letters and digits only, numbers as digits: "four four one" and "4-4-1" compare equal."""
    return re.sub(r"[^a-z0-9]", "", digits_of(text.lower()))


class StreamingTranscriber:
    """One utterance stream over `asr`, on its own worker thread."""

    def __init__(self, asr: ASR, clock: Clock, partial_interval_s: float = 1.0, timeout_s: float = 15.0,
                 beam_size: int = 5) -> None:
        self.asr = asr
        self.clock = clock
        self.executor = lane(asr)  # the model's one worker, shared by every stream in the process
        self.partial_interval_s = partial_interval_s
        self.timeout_s = timeout_s  # a call not answered in this long is a stall (`components.watchdog`)
        self.beam_size = beam_size  # of the passes a reply is built on (an ASR that has `transcribe_final`)
        self._busy = False
        self._last_partial_len = 0
        self._committed: list[str] = []  # texts of this utterance's committed segments
        self._utterance = 0  # which utterance a commit in flight belongs to
        self._head: tuple[int, str] | None = None  # (samples, text) of the last final pass at a pause

    async def warm(self) -> None:
        await self.clock.compute(self.executor, self.asr.transcribe, np.zeros(SAMPLE_RATE, dtype=np.float32))

    def reset(self) -> None:
        self._last_partial_len = 0
        self._committed = []
        self._head = None
        self._utterance += 1

    def wants_partial(self, n_samples: int) -> bool:
        due = n_samples - self._last_partial_len >= self.partial_interval_s * SAMPLE_RATE
        return due and not self._busy

    def wants_commit(self, n_samples: int) -> bool:
        return n_samples >= COMMIT_S * SAMPLE_RATE and not self._busy

    async def commit(self, pcm: np.ndarray) -> Transcript:
        """Transcribe a finished head segment of the utterance; its text prefixes later transcripts."""
        utterance, self._busy = self._utterance, True
        self._last_partial_len = 0  # partials count from the new head of the buffer
        self._head = None  # and so does the audio of a pause's pass
        t0 = self.clock.now()
        try:
            text, _confidence = await self._call(at(LATER, self._settled), pcm, None, True)
        finally:
            self._busy = False
        if utterance == self._utterance and text:
            self._committed.append(text)
        return Transcript(text=text, audio_s=len(pcm) / SAMPLE_RATE, compute_s=self.clock.now() - t0)

    async def _call(self, fn, *args) -> tuple[str, float | None]:
        return await answered(self.clock.compute(self.executor, fn, *args), self.executor, self.timeout_s,
                              "speech recogniser", "[asr] timeout_s")

    def _settled(self, pcm: np.ndarray, prompt: str | None, second: bool = False) -> tuple[str, float | None]:
        """A transcript kept for good (a turn's final pass, a long turn's head): the wider beam, and
        the decoder's confidence where the ASR gives one; `second`: with its second opinion."""
        final = getattr(self.asr, "transcribe_final", None)
        if final is None:
            return self.asr.transcribe(pcm, prompt), None
        text, confidence = final(pcm, prompt, self.beam_size)
        if second and self._doubts(text, confidence):
            return self._second(pcm, prompt, text, confidence)
        return text, confidence

    def _doubts(self, text: str, confidence: float | None) -> bool:
        """Does the ASR give a second opinion on this reading? (Whisper with Whisper base behind it.)"""
        doubts = getattr(self.asr, "doubts", None)
        return doubts is not None and doubts(text, confidence)

    def _respelled(self, pcm: np.ndarray, text: str) -> str:
        """An ASR that can re-decode an announced spelling letters only does so."""
        respell = getattr(self.asr, "respell", None)
        return respell(pcm, text) if respell is not None and text else text

    def _final(self, pcm: np.ndarray, prompt: str | None, head: tuple[int, str] | None = None) -> tuple[str, float | None]:
        """The final pass, first reading: words dropped after a pause recovered (`TAIL_MIN_S`), an
        announced spelling re-decoded letters only."""
        text, confidence = self._settled(pcm, prompt)
        if head is not None:
            text = self._with_tail(pcm, text, head)
        return self._respelled(pcm, text), confidence

    def _second(self, pcm: np.ndarray, prompt: str | None, text: str,
                confidence: float | None) -> tuple[str, float | None]:
        """The second opinion on a reading the ASR doubts (`_doubts`), re-spelled like the first."""
        other, surer = self.asr.second_opinion(pcm, prompt, self.beam_size, text, confidence)
        return (text, confidence) if other == text else (self._respelled(pcm, other), surer)

    def _with_tail(self, pcm: np.ndarray, text: str, head: tuple[int, str]) -> str:
        samples, head_text = head
        if len(pcm) - samples < TAIL_MIN_S * SAMPLE_RATE or len(_chars(text)) - len(_chars(head_text)) >= TAIL_NEW_CHARS:
            return text
        tail = self._settled(pcm[samples:], None)[0]
        said, end = _chars(tail), _chars(text)
        if not said or SequenceMatcher(None, said, end[-len(said):]).ratio() >= 0.6:
            return text  # nothing after the pause, or the whole pass has it already
        return f"{text.rstrip(' .…')} {tail}".strip()

    def _partial(self, pcm: np.ndarray, prompt: str | None) -> tuple[str, None]:
        return self.asr.transcribe(pcm, prompt), None

    async def transcribe(self, pcm: np.ndarray, *, partial: bool = False, prompt: str | None = None,
                         first: Callable[[str, float | None], None] | None = None) -> Transcript:
        """`first(text, confidence)` is told the final pass's first reading when a second opinion on it
        follows: the end of turn can be judged on it meanwhile."""
        self._busy = True
        if partial:
            self._last_partial_len = len(pcm)
        t0 = self.clock.now()
        try:
            # the final pass is what the reply waits for; partials may wait for other callers' finals
            if partial:
                text, confidence = await self._call(at(LATER, self._partial), pcm, prompt)
            else:
                text, confidence = await self._call(at(URGENT, self._final), pcm, prompt, self._head)
                self._head = (len(pcm), text)
                if self._doubts(text, confidence):
                    if first is not None:
                        first(" ".join([*self._committed, text]).strip(), confidence)
                    text, confidence = await self._call(at(URGENT, self._second), pcm, prompt, text, confidence)
        finally:
            self._busy = False
        text = " ".join([*self._committed, text]).strip() if text else " ".join(self._committed)
        return Transcript(text=text, audio_s=len(pcm) / SAMPLE_RATE, compute_s=self.clock.now() - t0,
                          confidence=confidence)
