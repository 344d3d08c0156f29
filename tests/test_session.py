"""The session shell: whatever ends a conversation, the agent is closed and nothing is lost."""

import asyncio
import json

import numpy as np
import pytest

from parley.architectures import registry
from parley.clock import VirtualClock
from parley.config import AgentConfig
from parley.session import Session


class FakeAgent:
    """The seam's fake: hears nothing, says nothing, records whether it was closed."""
    name = "fake"

    def __init__(self, cfg, clock, log):
        self.closed = False

    async def start(self):
        pass

    def push_audio(self, frame):
        pass

    def pull_audio(self, n, t):
        return np.zeros(n, dtype=np.float32)

    busy = False

    async def close(self):
        self.closed = True


def test_a_session_that_fails_midway_still_closes_its_agent_and_writes_its_artefacts(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "build", lambda arch, cfg, clock, log, **kw: FakeAgent(cfg, clock, log))
    session = Session(AgentConfig(), clock=VirtualClock(), out_dir=tmp_path, name="s1")

    async def run():
        async with session:
            session.recorder.add_user(0.0, np.full(1600, 0.1, dtype=np.float32))
            raise RuntimeError("the line dropped")

    with pytest.raises(RuntimeError):
        asyncio.run(run())
    assert session.agent.closed
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert kinds[0] == "session_started" and kinds[-1] == "session_ended"
    for name in ("conversation.wav", "transcript.md", "summary.json"):
        assert (tmp_path / name).exists(), name
