"""Conversation history as the user experienced it.

The assistant side holds only the characters the user actually heard: a reply cut off by a barge-in
is stored truncated, with a marker, so the model never believes it said what nobody heard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.components.llm.base import Message

INTERRUPTED_MARKER = " [interrupted by the user]"


@dataclass
class History:
    system: str
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, agent as heard)
    max_chars: int = 10_000  # ~2.5k tokens: the oldest turns drop out first (summaries come with memory)

    def add(self, user: str, agent_heard: str, *, interrupted: bool = False) -> None:
        agent = agent_heard.strip()
        if interrupted:
            agent = (agent + INTERRUPTED_MARKER).strip()
        self.turns.append((user.strip(), agent))

    def messages(self, next_user: str | None = None) -> list[Message]:
        msgs: list[Message] = [{"role": "system", "content": self.system}]
        budget = self.max_chars - len(self.system) - len(next_user or "")
        kept: list[tuple[str, str]] = []
        for user, agent in reversed(self.turns):
            budget -= len(user) + len(agent)
            if budget < 0:
                break
            kept.append((user, agent))
        for user, agent in reversed(kept):
            msgs.append({"role": "user", "content": user})
            if agent:
                msgs.append({"role": "assistant", "content": agent})
        if next_user is not None:
            msgs.append({"role": "user", "content": next_user})
        return msgs
