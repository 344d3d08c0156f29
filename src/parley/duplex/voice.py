"""The agent's voice: the TTS model's one worker, shared by the engine, the responder and sessions.

The engine pre-synthesizes its backchannels with it and every responder speaks its clauses through
it, so synthesis is scheduled one way for every architecture: one clause at a time, and the chat
model yields both cores while a clause is synthesized (`cpu.CpuGate`) — the first audio never waits
behind token decoding, and a hybrid's talker never waits behind its thinker.
"""

from __future__ import annotations

import weakref

import numpy as np

from parley.clock import Clock
from parley.components import registry
from parley.components.tts.base import TTS, SpeechChunk
from parley.components.tts.clauses import Clause
from parley.components.tts.internal import speakable
from parley.components.watchdog import answered
from parley.cpu import LATER, NORMAL, URGENT, CpuGate, at
from parley.duplex.playout import Reply
from parley.events import EventLog, TtsChunk


# Lines said often (backchannels, fillers, the talker's openers) are synthesized once per TTS model
# and process: a server's sessions and a bench worker's conversations share them, so a caller who
# connects costs the others no synthesis.
_CLIPS: "weakref.WeakKeyDictionary[TTS, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()

TAIL_S = 0.08  # silence kept after a pre-synthesized line: a short breath before what follows
_QUIET = 0.02  # of the clip's peak: below this a sample is silence


def trim_tail(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm) > _QUIET * np.abs(pcm).max()) if len(pcm) else []
    return pcm if len(loud) == 0 else pcm[: min(len(pcm), loud[-1] + 1 + int(TAIL_S * 16000))]


class Voice:
    def __init__(self, tts: TTS, clock: Clock, log: EventLog, gate: CpuGate, timeout_s: float = 15.0) -> None:
        self.tts = tts
        self.timeout_s = timeout_s  # a synthesis not answered in this long is a stall (`components.watchdog`)
        self.clock = clock
        self.log = log
        self.gate = gate
        self._exec = registry.lane(tts)  # one synthesis at a time in the process, whoever asks
        self._clips = _CLIPS.setdefault(tts, {})  # lines said often, synthesized once

    async def warm(self) -> None:
        """The first synthesis costs more than later ones: pay it before the first turn (once per model)."""
        if registry.first_use(self.tts):
            await self.synthesize("Hello.")

    async def prepare(self, lines: tuple[str, ...]) -> None:
        """Synthesize `lines` now so that saying one later costs no compute. Their trailing silence
        is cut short: what follows a line (an answer) should not wait for it."""
        for line in lines:
            if line not in self._clips:
                self._clips[line] = trim_tail(await self.synthesize(line))

    def clip(self, line: str) -> np.ndarray:
        """A line synthesized by `prepare`."""
        return self._clips[line]

    async def synthesize(self, text: str, priority: int = NORMAL) -> np.ndarray:
        if text in self._clips:
            return self._clips[text]
        with self.gate.hold():  # the LLM yields both cores while speech is synthesized
            return await answered(self.clock.compute(self._exec, at(priority, self.tts.synthesize), text),
                                  self._exec, self.timeout_s, "speech synthesizer", "[tts] timeout_s")

    async def speak(self, reply: Reply, clause: Clause) -> None:
        """Synthesize `clause` and append it to `reply` (unless the reply was cancelled meanwhile)."""
        if reply.cancel.cancelled:
            return
        text = speakable(clause.text)
        if not text:
            return
        t0 = self.clock.now()
        # a reply's first clause is what a caller waits for; later ones have the first's playback to come
        pcm = await self.synthesize(text, URGENT if not reply.chunks else LATER)
        if reply.cancel.cancelled or len(pcm) == 0:
            return
        reply.chunks.append(SpeechChunk(pcm=pcm, text=clause.text, start=clause.start, end=clause.end))
        self.log.emit(TtsChunk, turn=reply.turn, text=clause.text, start=clause.start, end=clause.end,
                      duration_s=round(len(pcm) / 16000, 3), compute_ms=round((self.clock.now() - t0) * 1000, 1))

