"""The Thinker-Talker hybrid: parley's duplex engine + a responder with two voices in one reply.

- The **talker** owns the floor. The moment the pause sounds finished (Smart Turn, before the words
  are transcribed) it acknowledges it — "Mhm.", or "Let's see." to a question — like a backchannel,
  so a caller who goes on keeps the floor. When the turn ends it says a short line that is right for
  the moment and claims nothing of its own (`dialogue/talker.py`: the caller's value confirmed
  back, "Let me check.", "You're welcome."), or the read-back / recall line when there is one.
  Its fixed lines are synthesized once at start, so the first audio costs no compute.
- The **thinker** is the cascade's reply path (`CascadeResponder`: memory, knowledge, procedure,
  guards), with exactly the cascade's prompt. It starts on the partial transcripts while the caller
  is still speaking — each partial prefills the prompt with the caller's words so far, so at the
  end of turn only the words that changed remain to prefill — and answers speculatively from the
  first pause. Its clauses are spoken as soon as each is complete, after the talker's line; a
  first sentence that only acknowledges or repeats that line is dropped (`talker.DropLeadingAck`).
- One `Reply` carries both: a barge-in cancels both, and history holds what was heard of both.
- Two cores: the thinker's decoding yields while any line is synthesized (`duplex/voice.Voice`
  holds the `CpuGate`), so the talker never waits behind the thinker.
"""

from __future__ import annotations

import asyncio

from parley.architectures.cascade import CascadeAgent, CascadeResponder, plausibility_of
from parley.dialogue import talker
from parley.duplex.end_of_turn import hold_cue
from parley.duplex.playout import Reply
from parley.events import Opener


class ThinkerTalker(CascadeResponder):
    _partial = ""  # the caller's words so far in this utterance
    wants_partials = True  # the thinker prefills the caller's words while they speak

    async def start(self) -> None:
        await super().start()
        if self.cfg.hybrid.opener or self.cfg.hybrid.acknowledge:
            await self.voice.prepare(talker.ALL_LINES)

    def utterance_started(self) -> None:
        super().utterance_started()
        self._partial = ""

    def acknowledgement(self, words: str) -> str | None:
        return talker.acknowledgement(words or self._partial) if self.cfg.hybrid.acknowledge else None

    async def partial(self, text: str) -> None:
        """Prefill the prompt with the caller's words so far (one prefill at a time: a partial that
        arrives meanwhile waits for the next); the LLM is idle while the caller speaks."""
        self._partial = text
        await super().partial(text)  # retrieval first: its passages are part of the prompt
        reference = self.grounding.prefilled_reference() if self.grounding is not None else None
        self._prefill_ahead(self.history.messages(text, reference), "on a partial")

    async def respond(self, reply: Reply) -> None:
        splitter = self._splitter()
        text = reply.user_text
        plan = self.conversation.read_back(reply.turn, text, hold_cue(text), reply.confidence)
        final = plan is not None and plan.action != "state"  # the read-back is the whole reply
        line = ""
        if plan is not None:
            line = plan.line
        elif self.cfg.hybrid.opener:
            line = talker.opener(reply.turn, text, self.history.heard_facts(text))
            if reply.acknowledged and talker.holds_only(line):
                line = ""  # acknowledged already (a later acknowledgement skips it at playout instead)
        said = None
        if line:
            self.log.emit(Opener, turn=reply.turn, text=line, source="read_back" if plan is not None else "talker")
            said = asyncio.ensure_future(self._say(reply, splitter, line, final=final, whole=True))
        try:
            messages = await self._prompt(reply)  # meanwhile: retrieval, and the model's reading of the words
        finally:
            if said is not None:
                await said
        doubt = None if plan is not None else self.conversation.doubted(reply.turn, text, plausibility_of(reply))
        if doubt is not None:  # the thinker's model reads the words as a mishearing: ask after the opener
            await self._say(reply, splitter, doubt.line, final=True)
            return
        if plan is None:
            reply.opener_chunks = len(reply.chunks)  # the talker's line holds the floor; what follows answers
            reply.opener_holds = talker.holds_only(line)
        if not final:
            said_first = line or reply.acknowledged  # the thinker's own "let me check" would say it again
            await self._think(reply, splitter, messages, talker.DropLeadingAck(said_first) if said_first else None)


class HybridAgent(CascadeAgent):
    name = "hybrid"
    responder_class = ThinkerTalker
