"""The agent's voice: one TTS worker shared by the engine and the responder.

The engine pre-synthesizes its backchannels with it and every responder speaks its clauses through
it, so synthesis is scheduled one way for every architecture: one clause at a time, and the chat
model yields both cores while a clause is synthesized (`cpu.CpuGate`) — the first audio never waits
behind token decoding, and a hybrid's talker never waits behind its thinker.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from parley.clock import Clock
from parley.components.tts.base import TTS, SpeechChunk
from parley.components.tts.clauses import Clause
from parley.components.tts.internal import speakable
from parley.cpu import CpuGate
from parley.duplex.playout import Reply
from parley.events import EventLog, TtsChunk


TAIL_S = 0.08  # silence kept after a pre-synthesized line: a short breath before what follows
_QUIET = 0.02  # of the clip's peak: below this a sample is silence


def trim_tail(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm) > _QUIET * np.abs(pcm).max()) if len(pcm) else []
    return pcm if len(loud) == 0 else pcm[: min(len(pcm), loud[-1] + 1 + int(TAIL_S * 16000))]


class Voice:
    def __init__(self, tts: TTS, clock: Clock, log: EventLog, gate: CpuGate) -> None:
        self.tts = tts
        self.clock = clock
        self.log = log
        self.gate = gate
        self._exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")
        self._clips: dict[str, np.ndarray] = {}  # lines said often, synthesized once at start

    async def prepare(self, lines: tuple[str, ...]) -> None:
        """Synthesize `lines` now so that saying one later costs no compute. Their trailing silence
        is cut short: what follows a line (an answer) should not wait for it."""
        for line in lines:
            self._clips[line] = trim_tail(await self.synthesize(line))

    def clip(self, line: str) -> np.ndarray:
        """A line synthesized by `prepare`."""
        return self._clips[line]

    async def synthesize(self, text: str) -> np.ndarray:
        if text in self._clips:
            return self._clips[text]
        with self.gate.hold():  # the LLM yields both cores while speech is synthesized
            return await self.clock.compute(self._exec, self.tts.synthesize, text)

    async def speak(self, reply: Reply, clause: Clause) -> None:
        """Synthesize `clause` and append it to `reply` (unless the reply was cancelled meanwhile)."""
        if reply.cancel.cancelled:
            return
        text = speakable(clause.text)
        if not text:
            return
        t0 = self.clock.now()
        pcm = await self.synthesize(text)
        if reply.cancel.cancelled or len(pcm) == 0:
            return
        reply.chunks.append(SpeechChunk(pcm=pcm, text=clause.text, start=clause.start, end=clause.end))
        self.log.emit(TtsChunk, turn=reply.turn, text=clause.text, start=clause.start, end=clause.end,
                      duration_s=round(len(pcm) / 16000, 3), compute_ms=round((self.clock.now() - t0) * 1000, 1))

    def close(self) -> None:
        self._exec.shutdown(wait=True, cancel_futures=True)
