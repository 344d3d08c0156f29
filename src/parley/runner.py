"""Running one conversation end to end over the simulated loopback line.

Used by `parley demo`, `talk --input`, the tests and the benchmarks, so every path produces the
same files (`session.Session`): `events.jsonl`, `conversation.wav` (stereo: left user, right
agent), `transcript.md`, `summary.json`.
"""

from __future__ import annotations

from pathlib import Path

from parley.clock import Clock
from parley.config import AgentConfig
from parley.session import ConversationResult, Session
from parley.transports.loopback import Loopback, UserLine

__all__ = ["ConversationResult", "run_conversation"]


async def run_conversation(cfg: AgentConfig, lines: list[UserLine], *, clock: Clock | None = None,
                           out_dir: Path | None = None, session: str | None = None,
                           agent_kwargs: dict | None = None, arch: str = "cascade",
                           **channel_kwargs) -> ConversationResult:
    s = Session(cfg, arch=arch, clock=clock, out_dir=out_dir, name=session, agent_kwargs=agent_kwargs)
    async with s:
        await Loopback(lines, **channel_kwargs).run(s)
    return s.result
