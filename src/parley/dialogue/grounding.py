"""Grounding a reply in the knowledge base, without paying for it at the end of the turn.

Retrieval itself is cheap (~5 ms); what costs is prefilling the passages into the LLM (~300 tokens,
~1.5 s on two cores). So each partial transcript retrieves (`retrieval`, stage partial) and
prefills system + history + passages into the KV cache while the user is still speaking; at the end
of the turn the final transcript retrieves again, and if its best passage is among the prefilled
ones those are used as they are, leaving only the user's words to prefill. Otherwise correctness
wins: the final passages are used and prefilled then. A follow-up with no content of its own
("where is that from?") is searched together with the previous user turn.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

from parley.clock import Clock
from parley.dialogue.history import History
from parley.dialogue.knowledge import Hit, KnowledgeBase
from parley.dialogue.persona import reference_block
from parley.errors import describe
from parley.events import ComponentError, EventLog, Retrieval
from parley.textnorm import FUNCTION_WORDS


def is_follow_up(text: str) -> bool:
    """Fewer than two content words: the question leans on the previous turn."""
    return sum(w not in FUNCTION_WORDS for w in re.findall(r"[a-z']+", text.lower())) < 2


def passages(hits: list[Hit]) -> str:
    return reference_block([(h.chunk.title, h.chunk.text) for h in hits])


class Grounding:
    def __init__(self, kb: KnowledgeBase, top_k: int, clock: Clock, log: EventLog, llm, history: History) -> None:
        self.kb = kb
        self.top_k = top_k
        self.clock = clock
        self.log = log
        self.llm = llm
        self.history = history
        self._exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb")
        self._prefilled: list[Hit] = []  # passages of this utterance already in the LLM's KV cache
        self._prefill_task: asyncio.Future | None = None

    async def warm(self) -> None:
        await self.clock.compute(self._exec, self.kb.search, "warm up")

    async def close(self) -> None:
        if self._prefill_task is not None:
            self._prefill_task.cancel()
            await asyncio.gather(self._prefill_task, return_exceptions=True)
        self._exec.shutdown(wait=True, cancel_futures=True)

    def new_utterance(self) -> None:
        self._prefilled = []

    async def search(self, turn: int, stage: str, text: str) -> list[Hit]:
        t0 = self.clock.now()
        if is_follow_up(text) and self.history.turns:
            text = f"{self.history.turns[-1][0]} {text}"
        hits = await self.clock.compute(self._exec, self.kb.search, text, self.top_k)
        self.log.emit(Retrieval, turn=turn, stage=stage, query=text, sources=[h.chunk.title for h in hits],
                      compute_ms=round((self.clock.now() - t0) * 1000, 1))
        return hits

    async def on_partial(self, text: str) -> None:
        """Retrieve for a partial transcript and prefill its passages (one prefill at a time). An
        early retrieval is an optimisation: its failure is logged and the final one still runs."""
        try:
            hits = await self.search(0, "partial", text)
        except Exception as exc:
            self.log.emit(ComponentError, component="retrieval", message=describe(exc))
            return
        if not hits or [h.chunk.id for h in hits] == [h.chunk.id for h in self._prefilled] \
                or (self._prefill_task is not None and not self._prefill_task.done()):
            return
        self._prefilled = hits
        self._prefill_task = asyncio.ensure_future(self.llm.warm(self.history.messages(None, passages(hits))))

    def prefilled_reference(self) -> str | None:
        """The passages prefilled for this utterance so far, as the prompt carries them, or None."""
        return passages(self._prefilled) if self._prefilled else None

    async def reference(self, turn: int, text: str) -> str:
        """Passages for the final transcript: the prefilled ones if its best passage is among them."""
        hits = await self.search(turn, "final", text)
        if hits and hits[0].chunk.id in {h.chunk.id for h in self._prefilled}:
            return passages(self._prefilled)
        return passages(hits)
