"""Conversation history as the user experienced it.

The assistant side holds only the characters the user actually heard: a reply cut off by a barge-in
is stored truncated, with a marker, so the model never believes it said what nobody heard.

When the history outgrows its budget, the oldest turns drop out in one block (down to half the
budget), so the prompt's prefix stays the same for many turns and llama.cpp's prefix cache keeps
working; the facts the caller stated in dropped turns stay in context as a verbatim note
(`dialogue/memory.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.components.llm.base import Message
from parley.dialogue.memory import Fact, extract, note

INTERRUPTED_MARKER = " [interrupted by the user]"


@dataclass
class History:
    system: str
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, agent as heard)
    max_chars: int = 10_000  # system prompt + kept turns; the oldest turns drop out first
    pending: str = ""  # user words whose reply was cut before a sound of it was heard
    facts: list[Fact] = field(default_factory=list)
    start: int = 0  # turns before this one have dropped out of the prompt

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
            agent = agent + INTERRUPTED_MARKER
        self.facts += extract(user, len(self.turns) + 1)
        self.turns.append((user, agent))

    def messages(self, next_user: str | None = None, reference: str | None = None) -> list[Message]:
        """The prompt: system, the facts note (if turns were dropped), kept turns, then `reference`
        (retrieved passages, as a system message: late in the prompt, so the cached prefix before it
        survives) and the next user turn."""
        msgs: list[Message] = [{"role": "system", "content": self.system}]
        if next_user is not None and self.pending:
            next_user = f"{self.pending} {next_user}"
        budget = self.max_chars - len(self.system) - len(next_user or "") - len(reference or "") - 500  # 500: facts

        size = sum(len(u) + len(a) for u, a in self.turns[self.start:])
        if size > budget:  # drop a block, down to half the budget, so the prefix stays put for a while
            while self.start < len(self.turns) and size > budget // 2:
                size -= len(self.turns[self.start][0]) + len(self.turns[self.start][1])
                self.start += 1
        dropped = [f for f in self.facts if f.turn <= self.start]
        if dropped:
            msgs.append({"role": "system", "content": note(dropped)})
        for user, agent in self.turns[self.start:]:
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": agent})
        if reference:
            msgs.append({"role": "system", "content": reference})
        if next_user is not None:
            msgs.append({"role": "user", "content": next_user})
        return msgs
