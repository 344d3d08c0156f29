"""The cascade: parley's duplex engine + a responder doing ASR → LLM → TTS.

The engine (`duplex/engine.py`) listens, decides the end of turn and handles overlap; at the first
pause it transcribes the utterance and asks the `CascadeResponder` for the reply, speculatively:
1. with a knowledge base, passages retrieved from the partial transcripts (`dialogue/grounding`)
   are given to the LLM as data;
2. a value the caller just gave is read back, or a value they ask for recalled, without the LLM
   (`Conversation.read_back`);
3. otherwise the LLM's tokens are cut into clauses and each clause, once the reply gate
   (`Conversation.check`: procedure, limits, length) lets it through, is synthesized as soon as it
   is complete, so the first audio leaves after the first clause.
History receives the user's text and exactly the characters the user heard; past its budget the
oldest turns are summarised in idle time (`dialogue/summary.RollingSummary`).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from parley.clock import Clock
from parley.components import registry
from parley.components.llm.base import ChatModel, Message
from parley.components.tts.clauses import Clause, ClauseSplitter
from parley.config import AgentConfig
from parley.dialogue.conversation import Conversation
from parley.dialogue.knowledge import KnowledgeBase, read_document
from parley.dialogue.summary import RollingSummary
from parley.duplex.end_of_turn import hold_cue, read_words
from parley.duplex.engine import DuplexEngine
from parley.duplex.playout import Reply
from parley.duplex.voice import Voice
from parley.errors import describe
from parley.events import ComponentError, EventLog, LlmDone, LlmFirstToken, LlmRequest


class CascadeResponder:
    """The reply to a user turn from the conversation's prompt and the chat model, spoken clause by clause."""

    _ahead: asyncio.Future | None = None  # a prompt being prefilled ahead of the next reply

    def __init__(self, cfg: AgentConfig, clock: Clock, log: EventLog, *, llm: ChatModel, voice: Voice,
                 documents: list[tuple[str, str]]) -> None:
        self.cfg = cfg
        self.log = log
        self.llm = llm
        self.voice = voice
        self.documents = documents
        self.conversation = Conversation(cfg, documents, log)
        self.history = self.conversation.history
        self.memory = RollingSummary(self.history, llm, clock, log)
        self.grounding = None
        if cfg.knowledge.path:
            from parley.dialogue.grounding import Grounding

            self.grounding = Grounding(KnowledgeBase(cfg.knowledge.path), cfg.knowledge.top_k, clock, log,
                                       llm, self.history)

    async def start(self) -> None:
        if self.documents and self.cfg.knowledge.screen:  # before the prompt is prefilled: screening evicts it
            from parley.dialogue.screen import screen_documents

            documents, withheld = await screen_documents(self.llm, self.documents, self.log)
            self.conversation.use_documents(documents)
            self.conversation.withhold(withheld)
        if self.grounding is not None:
            self.conversation.withhold(self.grounding.kb.withheld)
        await self.llm.warm(self.history.messages())  # the system prompt prefilled into the KV cache
        if self.grounding is not None:
            await self.grounding.warm()

    async def close(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            await asyncio.gather(self._ahead, return_exceptions=True)
        await self.memory.close()
        if self.grounding is not None:
            await self.grounding.close()

    def _prefill_ahead(self, messages: list[Message], why: str) -> None:
        """Prefill a prompt the next reply will start with, while the LLM is idle (one at a time: a
        request meanwhile waits for the next chance). An optimisation: a failure is only logged."""
        if self._ahead is None or self._ahead.done():
            self._ahead = asyncio.ensure_future(self._prefill(messages, why))

    async def _prefill(self, messages: list[Message], why: str) -> None:
        try:
            await self.llm.warm(messages)
        except Exception as exc:  # the reply itself still runs, and reports its own failure
            self.log.emit(ComponentError, component="llm", message=f"prefill {why}: {describe(exc)}")

    @property
    def wants_partials(self) -> bool:
        return self.grounding is not None  # retrieval starts on them; without a KB nothing reads them

    async def instruct(self, persona: str) -> None:
        """A new persona mid-call: the prompt changes and is prefilled again before the next turn."""
        self.conversation.use_persona(persona)
        await self.llm.warm(self.history.messages())

    def utterance_started(self) -> None:
        if self.grounding is not None:
            self.grounding.new_utterance()

    async def partial(self, text: str) -> None:
        if self.grounding is not None:  # retrieval starts before the end of turn
            await self.grounding.on_partial(text)

    def preparing(self) -> None:
        self.memory.yield_model(now=False)

    def acknowledgement(self, words: str) -> str | None:
        return None  # a cascade has no talker: its first audio is the answer

    async def respond(self, reply: Reply) -> None:
        messages = await self._prompt(reply)
        splitter = self._splitter()
        plan = self.conversation.read_back(reply.turn, reply.user_text, hold_cue(reply.user_text), reply.confidence,
                                           plausibility_of(reply))
        if plan is not None:
            await self._say(reply, splitter, plan.line, final=plan.action != "state")
            if plan.action != "state":
                return  # the caller answers the read-back (or says the value again) first
        await self._think(reply, splitter, messages)

    def heard(self, reply: Reply, heard: str, interrupted: bool) -> None:
        self.conversation.heard(reply.turn, reply.user_text, heard, interrupted)
        # the history now holds the reply as heard, which the model's cache may not: a clause the gate
        # replaced, an interruption, the procedure's next note. Prefilled while the caller speaks, the
        # next reply does not pay for it (a no-op when the cache already holds it)
        self._prefill_ahead(self.history.messages(), "of the reply as heard")
        self.memory.reply_heard()

    # --- steps of a reply, shared with the hybrid ------------------------------------------------

    async def _prompt(self, reply: Reply) -> list[Message]:
        """The prompt for `reply` (passages retrieved first); the chat model's reading of the words
        (their finality, their plausibility) is resolved on the way, on the same prompt, so it costs
        the reply no extra prefill."""
        reference = None
        if self.grounding is not None:
            reply.stage = "retrieval"
            reference = await self.grounding.reference(reply.turn, reply.user_text)
        reply.stage = "llm"
        self.memory.yield_model(now=True)
        messages = self.history.messages(reply.user_text, reference)
        self.conversation.given(messages)
        if not reply.reading.done():
            reply.reading.set_result(await read_words(self.llm, messages, reply.user_text, self.log,
                                                      self._doubts(reply)))
        return messages

    def _doubts(self, reply: Reply) -> bool:
        """Is the chat model to weigh the words' plausibility (`[asr] implausible_below`)? Only where
        Whisper itself is less than sure of them (`[asr] read_words_below`): it costs the reply's
        first word ~0.35 s."""
        asr = self.cfg.asr
        return (asr.implausible_below is not None and reply.confidence is not None
                and reply.confidence < asr.read_words_below)

    def _splitter(self) -> ClauseSplitter:
        tts = self.cfg.tts
        return ClauseSplitter(tts.first_clause_min_words, tts.clause_min_words, tts.first_clause_max_words)

    async def _say(self, reply: Reply, splitter: ClauseSplitter, line: str, *, final: bool,
                   whole: bool = False) -> None:
        """Speak a line the agent decided without the LLM (a read-back, a recall, an opener);
        `whole`: as one clause (a line synthesized ahead), else cut for the earliest first audio."""
        reply.stage = "tts"
        clauses = [splitter.whole(line)] if whole else splitter.feed(line + " ")
        for clause in clauses + (splitter.flush() if final else []):
            await self._deliver(reply, splitter.text, clause)

    async def _think(self, reply: Reply, splitter: ClauseSplitter, messages: list[Message],
                     lead: Callable[[str], str] | None = None) -> None:
        """The LLM's reply, after whatever `splitter` already holds; `lead` may rewrite the stream's
        start (a hybrid drops an acknowledgement its talker already said) and gets "" at the end."""
        reply.stage = "llm"
        self.log.emit(LlmRequest, turn=reply.turn, messages=len(messages))
        tokens = 0
        answer_from = len(splitter.text)  # the model's words start here, after any line already said
        complete = False  # the gate ended the reply: nothing after it is spoken
        gen = reply.cancel.child()  # ends the LLM stream alone when the reply is complete
        async for delta in self.llm.stream(messages, cancel=gen):
            if tokens == 0:
                self.log.emit(LlmFirstToken, turn=reply.turn)
            tokens += 1
            if lead is not None:
                delta = lead(delta)
            for clause in splitter.feed(delta):
                reply.stage = "tts"
                if not await self._deliver(reply, splitter.text, clause, answer_from):
                    complete = True
                    gen.cancel("reply complete")
                    break
                reply.stage = "llm"
            if splitter.ended and not gen.cancelled:
                gen.cancel("the model began another speaker's turn")
            if gen.cancelled:
                break
        if not complete and not reply.cancel.cancelled:
            held = splitter.feed(lead("")) if lead is not None else []
            reply.text = splitter.text
            for clause in held + splitter.flush():
                reply.stage = "tts"
                if not await self._deliver(reply, splitter.text, clause, answer_from):
                    break
        self.log.emit(LlmDone, turn=reply.turn, text=reply.text, tokens=tokens, cancelled=reply.cancel.cancelled)
        if not reply.cancel.cancelled:
            self.memory.reply_generated()

    async def _deliver(self, reply: Reply, text: str, clause: Clause, answer_from: int = 0) -> bool:
        """Speak what the reply gate lets through of `clause`; False when the reply ends here.
        `answer_from`: where the model's answer starts in `text` (after an opener or a read-back)."""
        verdict = self.conversation.check(reply.turn, text, clause, reply.user_text, answer_from)
        reply.text = verdict.text
        if verdict.clause is not None:
            await self.voice.speak(reply, verdict.clause)
        return verdict.more


def plausibility_of(reply: Reply) -> float | None:
    """The chat model's view of how probable the caller's words are, once `_prompt` has read them."""
    reading = reply.reading.result() if reply.reading is not None and reply.reading.done() else None
    return None if reading is None else reading.plausibility


class CascadeAgent(DuplexEngine):
    """The engine with a cascade responder, on the embedded models unless components are given."""

    name = "cascade"
    responder_class = CascadeResponder

    def __init__(self, cfg: AgentConfig, clock: Clock, log: EventLog, *,
                 vad=None, asr=None, llm=None, tts=None, turn=None, gate=None) -> None:
        documents = [read_document(Path(p)) for p in cfg.knowledge.documents]  # bad input fails before models load
        tt = cfg.turn_taking
        gate = gate or registry.cpu_gate()
        voice = Voice(tts or registry.piper(cfg.tts.length_scale, threads=cfg.tts.threads), clock, log, gate,
                      cfg.tts.timeout_s)
        responder = self.responder_class(cfg, clock, log, llm=llm or registry.chat_model(cfg.llm, clock),
                                         voice=voice, documents=documents)
        asr = asr or registry.whisper(cfg.asr.window_s, cfg.asr.threads, cfg.asr.second_opinion_below)
        super().__init__(cfg, clock, log, responder, vad=vad or registry.vad(), asr=asr, voice=voice,
                         turn=turn or (registry.smart_turn() if tt.endpoint.predict else None))
