"""Rolling summaries: older turns folded into a few sentences, written while the LLM is idle.

Asking the model to summarise a separate transcript would re-prefill thousands of tokens; instead the
request is the conversation prompt itself plus one instruction, so llama.cpp's cached prefix covers
everything but the instruction and only the summary's ~60 tokens are decoded. The work is idle-time
and preemptible: the summary is written while a reply plays (its text is complete, its audio lasts
seconds) or after it, and yields the model when the next reply needs it (`yield_model`); an
interrupted summary is continued from where it stopped in the next idle period (written from
scratch each time, a summary longer than the idle periods never landed). A written
summary is proposed to the history, and the folded prompt is prefilled aside (`prefill_aside`, a
message at a time, resumed across idle periods) while replies keep using the current cache; only
then is the fold committed, so no reply pays for re-prefilling the kept turns.
"""

from __future__ import annotations

import asyncio
import re

from parley.cancel import CancelToken
from parley.components.llm.base import ChatModel, Message
from parley.dialogue.history import History
from parley.errors import describe
from parley.events import ComponentError, EventLog, MemorySummary
from parley.textnorm import FUNCTION_WORDS

INSTRUCTION = (
    "Pause the call: write a note for yourself, never to be spoken. You are the assistant; the user is "
    "the caller. In at most 50 words, summarise this call so far: what the caller told you about "
    "themselves and the people, places, dates and preferences they mentioned, what they want, what you "
    "told them, what is still open. Third person (\"The caller ...\"). Keep names and numbers exact."
)
MAX_WORDS = 70
QUOTED_WORDS = 30  # the caller's own statements a summary lost, quoted after it
_QUESTION = re.compile(r"^(do|does|did|can|could|would|will|is|are|was|were|what|where|when|which|who|how|why|have"
                       r"|has|should|may|shall)\b", re.IGNORECASE)
_EMPTY = FUNCTION_WORDS | {"thanks", "thank", "great", "okay", "perfect", "sure", "hello", "please", "right", "yeah",
                           "good", "fine", "sorry", "alright", "well", "that's", "it's", "i'm", "just", "then", "need",
                           "want", "like", "have", "with"}


def summary_request(history: History) -> list[Message]:
    return history.messages() + [{"role": "system", "content": INSTRUCTION}]


def clean(text: str) -> str:
    """One paragraph, at most MAX_WORDS words, without a chatty lead-in."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^(?:\*\*)?(?:summary|note)(?:\*\*)?\s*:\s*", "", text, flags=re.IGNORECASE)
    words = text.split()
    return " ".join(words[:MAX_WORDS])


def _content(text: str) -> set[str]:
    """What a sentence is about: its longer words, compared by their first five letters."""
    return {w[:5] for w in re.findall(r"[a-z']+", text.lower()) if len(w) >= 4 and w not in _EMPTY}


def statements(user_turns: list[str]) -> list[str]:
    """The caller's statements (not their questions) in `user_turns`, in order."""
    out = []
    for turn in user_turns:
        for sentence in re.split(r"(?<=[.!?])\s+", turn.strip()):
            # under four words is a fragment ("desal children's clothes": a question the ASR garbled)
            if len(sentence.split()) >= 4 and not sentence.endswith("?") and not _QUESTION.match(sentence) \
                    and _content(sentence):
                out.append(sentence)
    return out


def keep_statements(summary: str, user_turns: list[str]) -> str:
    """The summary, with the caller's statements it lost quoted after it ("Her favorite colour is
    purple" summarised away is a detail the caller will ask about). A 1.5B model drops a stated
    preference as readily as it keeps one; the caller's own words are the backstop. Oldest first:
    they have been through the most folds. At most QUOTED_WORDS words."""
    have, quoted, words = _content(summary), [], 0
    for s in statements(user_turns):
        own = _content(s)
        if len(own & have) * 2 >= len(own) or words + len(s.split()) > QUOTED_WORDS:
            continue
        quoted.append(f'"{s}"')
        words += len(s.split())
        have |= own
    return f"{summary} The caller said: {' '.join(quoted)}".strip() if quoted else summary


class RollingSummary:
    """Keeps `history` within its budget by summarising its oldest block in idle time."""

    def __init__(self, history: History, llm: ChatModel, clock, log: EventLog) -> None:
        self.history = history
        self.llm = llm
        self.clock = clock
        self.log = log
        self._task: asyncio.Task | None = None
        self._write = CancelToken()  # the summary being written
        self._aside = CancelToken()  # the folded prompt being prefilled aside
        self._heard = asyncio.Event()  # the history holds every reply generated so far
        self._heard.set()
        self._written_before_heard = False
        self._spent = 0.0  # idle compute that went into the fold under way (summary + prefill aside)
        self._draft = ""  # the summary a reply cut off, continued in the next idle period

    def reply_generated(self) -> None:
        """A reply's text is complete and its audio is about to play for seconds: idle time. The
        summary may be written now; the history lacks this reply until `reply_heard`."""
        self._heard.clear()
        self._kick()

    def reply_heard(self) -> None:
        self._heard.set()
        self._kick()

    def _kick(self) -> None:
        due = self.history.proposal is not None or self.history.fold_point() is not None
        if due and (self._task is None or self._task.done()):
            self._write, self._aside = CancelToken(), CancelToken()
            self._task = asyncio.ensure_future(self._run(self._write, self._aside))

    def yield_model(self, *, now: bool) -> None:
        """A reply is coming. `now=False` (the user paused, the reply is being prepared): stop the
        prefill aside, whose chunks cannot be interrupted halfway. `now=True` (the reply's LLM
        request): stop the summary too; it stops within a token, so it may use the time the final
        transcription takes."""
        self._aside.cancel("a reply is being prepared")
        if now:
            self._write.cancel("the reply needs the model")

    async def close(self) -> None:
        self.yield_model(now=True)
        if self._task is not None:
            self._task.cancel()  # it may be waiting for a reply to be heard that never will be
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, write: CancelToken, aside: CancelToken) -> None:
        h = self.history
        t0 = self.clock.now()
        try:
            if h.proposal is None:
                upto = h.fold_point()
                if upto is None:
                    return
                self._written_before_heard = not self._heard.is_set()
                parts = [delta async for delta in self.llm.stream(summary_request(h), cancel=write, background=True,
                                                                  prefix=self._draft)]
                self._draft += "".join(parts)
                self._spent += self.clock.now() - t0
                if write.cancelled:
                    return
                text, self._draft = clean(self._draft), ""
                if not text:
                    return
                h.propose(upto, keep_statements(text, [user for user, _ in h.turns[:upto]]))
            if self._written_before_heard:
                # the summary displaced the playing reply from the cache: once it is heard (and in
                # the history), put it back first (~0.5 s), so the next reply does not pay for it
                await self._heard.wait()
                if aside.cancelled:
                    return
                await self.llm.warm(h.messages())
                self._written_before_heard = False
            if aside.cancelled:
                return
            t1 = self.clock.now()
            await self.llm.prefill_aside(h.preview(), aside, self._commit)
            self._spent += self.clock.now() - t1
        except Exception as exc:  # an optimisation failed: the budget's hard drop still keeps the facts
            self.log.emit(ComponentError, component="memory", message=describe(exc))

    def _commit(self) -> None:
        """The folded prompt is live in the model's cache: fold the history to match."""
        h = self.history
        if h.proposal is not None:
            h.commit()
        # else the budget forced the fold meanwhile (`History.messages`): it is logged all the same
        upto, text = h.start, h.summary
        self.log.emit(MemorySummary, folded_turns=upto, kept_turns=len(h.turns) - upto, words=len(text.split()),
                      text=text, idle_compute_ms=round(self._spent * 1000, 1))
        self._spent = 0.0
