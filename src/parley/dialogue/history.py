"""Conversation history as the user experienced it.

The assistant side holds only the characters the user actually heard: a reply cut off by a barge-in
is stored truncated, so the model never believes it said what nobody heard. The interruption is said
in a system note after that turn, never inside it: a marker in the assistant's own words was copied
into later replies by the 1.5B model and read aloud ("I'm sorry, but I [interrupted by the user]").

Past its budget the history keeps the most recent turns verbatim and folds the older ones into a
memory note: a rolling summary (`dialogue/summary.py`, written by the LLM while it is idle) plus the
verbatim facts the caller stated in them (`dialogue/memory.py`). Turns leave in one block (down to
`KEEP` of the budget), so the prompt's prefix stays the same for many turns and llama.cpp's prefix cache
keeps working. The summary is asked for once the history passes `SUMMARY_AT` of its budget, early
enough to be ready before the hard limit. A written summary is only *proposed*: the fold is committed
once the folded prompt has been prefilled aside (so no reply pays for re-prefilling the kept turns),
or when the budget forces it; with no summary at all, the block drops with the facts alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.components.llm.base import Message
from parley.dialogue.memory import Fact, annotation, extract, merge, note

INTERRUPTED_NOTE = "The caller interrupted the reply above: they heard it only up to where it stops."
SUMMARY_AT = 0.75  # share of the budget at which the oldest block is summarised
KEEP = 0.4  # share of the budget kept verbatim after a fold: what the next reply re-prefills
_RESERVE = 1000  # characters kept for the memory note, retrieved passages and the next user turn
_NOTE = 700  # characters kept for the memory note when the prompt is built (summary, quotes, a few facts)


@dataclass
class History:
    system: str
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, agent as heard)
    max_chars: int = 10_000  # system prompt + kept turns; the oldest turns drop out first
    pending: str = ""  # user words whose reply was cut before a sound of it was heard
    facts: list[Fact] = field(default_factory=list)
    start: int = 0  # turns before this one have dropped out of the prompt
    summary: str = ""  # the rolling summary of the call up to turn `start` (at least)
    proposal: tuple[int, str] | None = None  # (upto, summary): written, not yet committed
    interrupted: set[int] = field(default_factory=set)  # indices of turns whose reply was cut off
    # where the call stands (the procedure's next step), said where it changed: before turn i's
    # user message. A note kept in place leaves the cached prefix valid; one moved to the end of the
    # prompt each turn made every reply re-prefill the last exchange (+0.7 s p50 on the adherence suite)
    states: dict[int, str] = field(default_factory=dict)

    def add(self, user: str, agent_heard: str, *, interrupted: bool = False) -> None:
        user = f"{self.pending} {user.strip()}".strip()
        agent = agent_heard.strip()
        if not agent:
            # The user kept the floor before hearing anything: no agent turn happened, and their
            # words continue into the next user turn (a lone marker would be parroted back).
            self.pending = user
            return
        self.pending = ""
        if interrupted:
            self.interrupted.add(len(self.turns))
        said = user
        user = self.annotated(said)
        self.facts = merge(self.facts, extract(said, len(self.turns) + 1, self.facts), said)
        self.turns.append((user, agent))

    def heard_facts(self, user: str) -> list[Fact]:
        """The facts in the next user turn (with any words carried over from a cut turn)."""
        return extract(f"{self.pending} {user}".strip(), len(self.turns) + 1, self.facts)

    def annotated(self, user: str) -> str:
        """The caller's words followed by their details in canonical form (`memory.annotation`)."""
        if "(Details as heard:" in user:
            return user
        note_ = annotation(self.facts, extract(user, len(self.turns) + 1, self.facts), user)
        return f"{user}\n{note_}" if note_ else user

    def set_state(self, text: str | None) -> None:
        """Where the call stands now; said before the next user turn when it changed."""
        if text and text != (self.states[max(self.states)] if self.states else None):
            self.states[len(self.turns)] = text

    def _kept_chars(self) -> int:
        return sum(len(u) + len(a) + len(self.states.get(i, "")) for i, (u, a) in enumerate(self.turns[self.start:],
                                                                                             self.start))

    def _block_end(self, size: int, budget: int) -> int:
        """Index after the oldest turns whose removal brings `size` down to KEEP of `budget`."""
        end = self.start
        while end < len(self.turns) and size > KEEP * budget:
            size -= len(self.turns[end][0]) + len(self.turns[end][1])
            end += 1
        return end

    def fold_point(self) -> int | None:
        """Where the next block would end, once the kept turns pass SUMMARY_AT of the budget; None
        while there is room or a fold is already proposed."""
        budget = self.max_chars - len(self.system) - _RESERVE
        size = self._kept_chars()
        if size <= SUMMARY_AT * budget or self.proposal is not None:
            return None
        end = self._block_end(size, budget)
        return end if end > self.start else None

    def propose(self, upto: int, summary: str) -> None:
        """A summary covering the turns before `upto` is written; the fold waits for `commit` (once
        the folded prompt is prefilled) or for the budget to force it."""
        self.proposal = (upto, summary.strip())

    def commit(self) -> None:
        if self.proposal is not None:
            upto, self.summary = self.proposal
            self.start = max(self.start, upto)
            self.proposal = None

    def preview(self) -> list[Message]:
        """The prompt as it will be once the proposed fold is committed (what to prefill ahead)."""
        if self.proposal is None:
            return self.messages()
        upto, summary = self.proposal
        return self._render(max(self.start, upto), summary, None, None)

    def messages(self, next_user: str | None = None, reference: str | None = None) -> list[Message]:
        """The prompt: system, the memory note (once turns were folded), kept turns, then `reference`
        (retrieved passages, as a system message: late in the prompt, so the cached prefix before it
        survives) and the next user turn."""
        if next_user is not None and self.pending:
            next_user = f"{self.pending} {next_user}"
        if next_user is not None:
            next_user = self.annotated(next_user)
        budget = self.max_chars - len(self.system) - len(next_user or "") - len(reference or "") - _NOTE
        if self._kept_chars() > budget:
            self.commit()  # a summary that is written but not yet prefilled is still better than none
        size = self._kept_chars()
        if size > budget:  # no summary came in time: the block drops with its facts kept
            self.start = self._block_end(size, budget)
        return self._render(self.start, self.summary, next_user, reference)

    def _render(self, start: int, summary: str, next_user: str | None, reference: str | None) -> list[Message]:
        msgs: list[Message] = [{"role": "system", "content": self.system}]
        dropped = [f for f in self.facts if f.turn <= start]
        if dropped or (start and summary):
            msgs.append({"role": "system", "content": note(dropped, summary if start else "")})
        if self.states and max(self.states) < start:  # the latest note was folded away: still where the call stands
            msgs.append({"role": "system", "content": self.states[max(self.states)]})
        for i, (user, agent) in enumerate(self.turns[start:], start):
            if i in self.states:
                msgs.append({"role": "system", "content": self.states[i]})
            if not user and not agent:
                continue  # an exchange the client deleted (`Conversation.forget`)
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": agent})
            if i in self.interrupted:
                msgs.append({"role": "system", "content": INTERRUPTED_NOTE})
        if len(self.turns) in self.states:
            msgs.append({"role": "system", "content": self.states[len(self.turns)]})
        if reference:
            msgs.append({"role": "system", "content": reference})
        if next_user is not None:
            msgs.append({"role": "user", "content": next_user})
        return msgs
