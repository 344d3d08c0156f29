"""Agent speech output: a reply being prepared, and the playout that knows what was heard.

A `Reply` collects `SpeechChunk`s as they are synthesized. Nothing is played until the reply is
committed (the end of turn is confirmed), so a speculative reply costs compute, never audio. The
`Playout` is pulled one frame at a time by the transport; it therefore knows exactly which samples
were played, stops within one frame, and reports the characters the user heard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import asyncio

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.cancel import CancelToken
from parley.components.tts.base import SpeechChunk
from parley.events import (
    Acknowledgement, AgentAudioPaused, AgentAudioResumed, AgentAudioStarted, AgentAudioStopped, AgentContentStarted,
    EventLog,
)


@dataclass
class Reply:
    turn: int
    cancel: CancelToken = field(default_factory=CancelToken)
    user_text: str = ""
    text: str = ""               # full reply text as generated so far
    chunks: list[SpeechChunk] = field(default_factory=list)
    done: bool = False           # no more chunks will come
    committed: bool = False      # the end of turn is confirmed: may be played
    transcript: asyncio.Future | None = None  # the words the end of turn is judged on ("" if none; `listener.judge_on`)
    reading: asyncio.Future | None = None  # resolves to the chat model's `Reading` of the words, or None
    judged: asyncio.Future | None = None  # resolves once the end-of-turn model has heard the pause (None: no one judges)
    backchannel: bool = False    # an agent backchannel ("mhm"): played, never a turn or history
    stage: str = "asr"           # the component preparing it now (named in a ComponentError)
    opener_chunks: int = 0       # leading chunks that hold the floor without answering (a hybrid's talker line)
    opener_holds: bool = False   # those chunks only hold the floor (no value of the caller's said back)
    audio: np.ndarray | None = None  # the user's turn as heard (16 kHz), for a responder that sends it on
    played: int = 0              # samples of it played when it ended (a remote model's truncation point)
    confidence: float | None = None  # the ASR's confidence in `user_text` (mean token log-probability)
    rereading: bool = False      # a second opinion decodes the turn's words again: `transcript` holds the first reading
    acknowledged: str = ""       # the talker's acknowledgement of this reply's pause, said before its words were known
    acknowledged_until: float = 0.0  # clock time at which that acknowledgement ends
    acknowledges: int = 0        # this backchannel is the acknowledgement of that turn's pause

    @property
    def empty(self) -> bool:
        return self.done and not self.chunks


def _text_upto(r: Reply, start: int, chunk: int, offset: int) -> str:
    """The reply's text from character `start` to the position `offset` samples into `chunk`:
    whole chunks, then the current chunk's words in proportion to its samples played."""
    if not r.chunks:
        return ""
    end = max(r.chunks[chunk - 1].end if chunk > 0 else 0, start)
    if chunk < len(r.chunks) and offset > 0:
        c = r.chunks[chunk]
        words = c.text.split()
        n_words = int(offset / max(1, len(c.pcm)) * len(words))
        if n_words:
            end = c.start + len(" ".join(words[:n_words]))
    return r.text[start:end].strip()


FADE_SAMPLES = 80  # 5 ms: a cut without a click, well inside one frame


class Playout:
    """Plays the committed reply frame by frame and accounts for what was heard."""

    def __init__(self, log: EventLog, on_finished: Callable[[Reply, str, bool], None]) -> None:
        self.log = log
        self.on_finished = on_finished  # (reply, heard_text, interrupted)
        self.reply: Reply | None = None
        self._chunk = 0
        self._offset = 0
        self._started = False
        self._from = 0
        self.first_chunk = 0
        self.paused = False
        self._fade: np.ndarray | None = None  # the tail to ramp down at the start of the next frame

    @property
    def active(self) -> bool:
        return self.reply is not None

    @property
    def speaking(self) -> bool:
        """A reply has started playing (it may be paused)."""
        return self.reply is not None and self._started

    @property
    def audible(self) -> bool:
        """Agent audio is going out right now."""
        return self.speaking and not self.paused

    def play(self, reply: Reply) -> None:
        """Start `reply`. An opener is skipped when the answer after it is already synthesized, or
        when it only holds the floor and an acknowledgement already did: it was there to hold the
        floor while the answer was prepared, and now nothing needs holding."""
        held = reply.acknowledged and reply.opener_holds
        skip = reply.opener_chunks if 0 < reply.opener_chunks < len(reply.chunks) or held else 0
        self.reply, self._chunk, self._offset, self._started, self.paused = reply, skip, 0, False, False
        self.first_chunk = skip
        self._from = 0  # the first character the user can hear
        if skip:  # the answer's, wherever its first chunk will start
            self._from = reply.chunks[skip].start if skip < len(reply.chunks) else reply.chunks[skip - 1].end

    @property
    def has_audio(self) -> bool:
        """The next pull carries reply audio (playing, not paused, a synthesized chunk waiting)."""
        return self.reply is not None and not self.paused and self._chunk < len(self.reply.chunks)

    @property
    def begun(self) -> int:
        """Chunks of the current reply whose audio has begun (counting skipped opener chunks)."""
        return self._chunk + (1 if self._offset > 0 else 0) if self.reply is not None else 0

    def _upcoming(self, n: int) -> np.ndarray:
        r = self.reply
        if r is None or self._chunk >= len(r.chunks):
            return np.zeros(0, dtype=np.float32)
        return r.chunks[self._chunk].pcm[self._offset:self._offset + n]

    def _fade_out(self) -> None:
        """Ramp the next few samples down instead of cutting mid-waveform (the position stays)."""
        tail = self._upcoming(FADE_SAMPLES)
        self._fade = tail * np.linspace(1.0, 0.0, len(tail), endpoint=False, dtype=np.float32)

    def pause(self, t: float) -> None:
        """Go silent from the next frame but keep the position (a barge-in may prove a backchannel)."""
        if self.audible:
            self._fade_out()
            self.paused = True
            self.log.emit(AgentAudioPaused, t=t, turn=self.reply.turn)

    def resume(self, t: float) -> None:
        if self.reply is not None and self.paused:
            self.paused = False
            self.log.emit(AgentAudioResumed, t=t, turn=self.reply.turn)

    def pull(self, n: int, t: float) -> np.ndarray:
        """The next `n` samples of agent audio, starting at clock time `t` (silence when idle)."""
        out = np.zeros(n, dtype=np.float32)
        if self._fade is not None:
            out[:len(self._fade)] = self._fade[:n]
            self._fade = None
        r = self.reply
        if r is None or self.paused:
            return out
        filled = 0
        while filled < n and self._chunk < len(r.chunks):
            pcm = r.chunks[self._chunk].pcm
            take = min(n - filled, len(pcm) - self._offset)
            if not self._started:
                self._started = True
                self.log.emit(AgentAudioStarted, t=t + filled / SAMPLE_RATE, turn=r.turn)
                if r.acknowledges:
                    self.log.emit(Acknowledgement, t=t + filled / SAMPLE_RATE, turn=r.acknowledges, text=r.text)
            if self._offset == 0 and self._chunk == r.opener_chunks > 0 and self._from == 0:
                self.log.emit(AgentContentStarted, t=t + filled / SAMPLE_RATE, turn=r.turn)
            out[filled:filled + take] = pcm[self._offset:self._offset + take]
            filled += take
            self._offset += take
            if self._offset >= len(pcm):
                self._chunk += 1
                self._offset = 0
        if r.done and self._chunk >= len(r.chunks):
            self._finish("finished", t + filled / SAMPLE_RATE, interrupted=False)
        return out

    def heard_text(self) -> str:
        """Characters of the reply the user has heard: whole chunks played, plus the words of the
        current chunk in proportion to the samples played."""
        if self.reply is None:
            return ""
        return _text_upto(self.reply, self._from, self._chunk, self._offset)

    def text_at(self, reply: Reply, first_chunk: int, samples: int) -> str:
        """What `reply` had said after `samples` of its audio, played from `first_chunk` (a client
        that stopped its own playback there)."""
        chunk, offset = first_chunk, samples
        while chunk < len(reply.chunks) and offset >= len(reply.chunks[chunk].pcm):
            offset -= len(reply.chunks[chunk].pcm)
            chunk += 1
        start = reply.chunks[first_chunk].start if 0 < first_chunk < len(reply.chunks) else 0
        return _text_upto(reply, start, chunk, offset if chunk < len(reply.chunks) else 0)

    def stop(self, reason: str, t: float) -> None:
        """Stop now (barge-in or cancel): the next pulled frame is silence."""
        if self.reply is None:
            return
        if self.audible:
            self._fade_out()
        self.reply.cancel.cancel(reason)
        self._finish(reason, t, interrupted=True)

    def _finish(self, reason: str, t: float, *, interrupted: bool) -> None:
        r = self.reply
        heard = self.heard_text()
        r.played = sum(len(c.pcm) for c in r.chunks[self.first_chunk:self._chunk]) + self._offset
        if self._started:
            self.log.emit(AgentAudioStopped, t=t, turn=r.turn, reason=reason)
        self.reply = None
        self.paused = False
        self.on_finished(r, heard, interrupted)
