"""Rolling summaries: older turns folded into a few sentences, written while the LLM is idle.

Asking the model to summarise a separate transcript would re-prefill thousands of tokens; instead the
request is the conversation prompt itself plus one instruction, so llama.cpp's cached prefix covers
everything but the instruction and only the summary's ~60 tokens are decoded. The work is idle-time
and preemptible: it starts after a reply has been heard and yields the model the moment the next
reply needs it (`yield_model`); an interrupted summary is retried after the next reply. A written
summary is proposed to the history, and the folded prompt is prefilled aside (`prefill_aside`, a
message at a time, resumed across idle periods) while replies keep using the current cache; only
then is the fold committed, so no reply pays for re-prefilling the kept turns.
"""

from __future__ import annotations

import asyncio
import re

from parley.cancel import CancelToken
from parley.components.llm.base import ChatModel
from parley.dialogue.history import History
from parley.events import ComponentError, EventLog, MemorySummary

INSTRUCTION = (
    "Pause the call: write a note for yourself, never to be spoken. You are the assistant; the user is "
    "the caller. In at most 50 words, summarise this call so far: what the caller told you about "
    "themselves and the people, places, dates and preferences they mentioned, what they want, what you "
    "told them, what is still open. Third person (\"The caller ...\"). Keep names and numbers exact."
)
MAX_WORDS = 70


def summary_request(history: History) -> list:
    return history.messages() + [{"role": "system", "content": INSTRUCTION}]


def clean(text: str) -> str:
    """One paragraph, at most MAX_WORDS words, without a chatty lead-in."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^(?:\*\*)?(?:summary|note)(?:\*\*)?\s*:\s*", "", text, flags=re.IGNORECASE)
    words = text.split()
    return " ".join(words[:MAX_WORDS])


class RollingSummary:
    """Keeps `history` within its budget by summarising its oldest block in idle time."""

    def __init__(self, history: History, llm: ChatModel, clock, log: EventLog) -> None:
        self.history = history
        self.llm = llm
        self.clock = clock
        self.log = log
        self._task: asyncio.Task | None = None
        self._cancel = CancelToken()
        self._spent = 0.0  # idle compute that went into the fold under way (summary + prefill aside)

    def kick(self) -> None:
        """Called after each reply was heard: go on with the fold if one is due and none is running."""
        due = self.history.proposal is not None or self.history.fold_point() is not None
        if due and (self._task is None or self._task.done()):
            self._cancel = CancelToken()
            self._task = asyncio.ensure_future(self._run(self._cancel))

    def yield_model(self) -> None:
        """A reply needs the LLM: stop the idle work (it goes on after that reply)."""
        self._cancel.cancel("reply needs the model")

    async def close(self) -> None:
        self.yield_model()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, cancel: CancelToken) -> None:
        h = self.history
        t0 = self.clock.now()
        try:
            if h.proposal is None:
                upto = h.fold_point()
                if upto is None:
                    return
                parts = [delta async for delta in self.llm.stream(summary_request(h), cancel=cancel)]
                text = clean("".join(parts))
                self._spent += self.clock.now() - t0
                if cancel.cancelled or not text:
                    return
                h.propose(upto, text)
            t1 = self.clock.now()
            await self.llm.prefill_aside(h.preview(), cancel, self._commit)
            self._spent += self.clock.now() - t1
        except Exception as exc:  # an optimisation failed: the budget's hard drop still keeps the facts
            self.log.emit(ComponentError, component="memory", message=f"{exc.__class__.__name__}: {exc}")

    def _commit(self) -> None:
        """The folded prompt is live in the model's cache: fold the history to match."""
        h = self.history
        if h.proposal is None:  # the budget forced the fold meanwhile
            return
        upto, text = h.proposal
        h.commit()
        self.log.emit(MemorySummary, folded_turns=upto, kept_turns=len(h.turns) - upto, words=len(text.split()),
                      text=text, idle_compute_ms=round(self._spent * 1000, 1))
        self._spent = 0.0
