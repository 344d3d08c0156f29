"""What the agent says when its answer is late or never comes.

Silence of several seconds after a caller finishes reads as a dropped line, and a reply that failed
(an endpoint down, a model error) must not end in silence either. Both lines — and the request to
say a misheard turn again (`readback.UNCLEAR_LINE`) — are synthesized when the session starts, so
saying them costs no compute, and a broken TTS cannot stop them.
"""

from __future__ import annotations

import traceback

from parley.clock import Clock
from parley.components.tts.base import SpeechChunk
from parley.components.tts.clauses import Clause
from parley.dialogue.readback import UNCLEAR_LINE
from parley.duplex.playout import Playout, Reply
from parley.duplex.voice import Voice
from parley.errors import ParleyError, describe
from parley.events import ComponentError, EventLog, Opener

FALLBACK_LINE = "Sorry, I'm having trouble answering right now. Could you say that again?"
HOLD_LINE = "One moment."  # said when the answer is slow (`turn_taking.hold_after_ms`)


class Fillers:
    def __init__(self, voice: Voice, clock: Clock, log: EventLog, hold_after_ms: int) -> None:
        self.voice = voice
        self.clock = clock
        self.log = log
        self.hold_after_s = hold_after_ms / 1000

    async def prepare(self) -> None:
        await self.voice.prepare((FALLBACK_LINE, HOLD_LINE, UNCLEAR_LINE))

    async def hold_if_slow(self, reply: Reply, playout: Playout) -> None:
        """Say HOLD_LINE when the taken turn's answer has not started `hold_after_ms` later. It is
        a filler: an opener chunk with no text, so neither the reply's text nor history keeps it."""
        if not self.hold_after_s:
            return
        await self.clock.sleep(self.hold_after_s)
        if playout.reply is not reply or reply.chunks or reply.done or reply.cancel.cancelled:
            return
        reply.chunks.append(SpeechChunk(pcm=self.voice.clip(HOLD_LINE), text="", start=0, end=0))
        reply.opener_chunks += 1
        self.log.emit(Opener, turn=reply.turn, text=HOLD_LINE, source="hold")

    async def failed(self, reply: Reply, exc: Exception) -> None:
        """Preparing `reply` raised: an `error` event naming the stage, then the fallback line. An
        expected failure (`ParleyError`) is its one sentence; anything else is a bug and keeps its
        traceback on stderr."""
        if not isinstance(exc, ParleyError):
            traceback.print_exception(exc)
        self.log.emit(ComponentError, component=reply.stage, message=describe(exc))
        await self.fallback(reply)

    async def fallback(self, reply: Reply) -> None:
        """A reply that failed before its answer began says FALLBACK_LINE; only what was never
        spoken of it is replaced (an opener already said stays in the heard text)."""
        if reply.cancel.cancelled or len(reply.chunks) > reply.opener_chunks:
            return
        said = reply.text[:reply.chunks[-1].end].rstrip() if reply.chunks else ""
        reply.text = f"{said} {FALLBACK_LINE}".lstrip()
        await self.voice.speak(reply, Clause(FALLBACK_LINE, len(reply.text) - len(FALLBACK_LINE), len(reply.text)))
