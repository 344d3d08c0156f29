"""The transport seam: what carries audio between the world and a session's agent.

A transport is handed a running `Session` (its agent, clock, event log and recorder) and moves audio
until the conversation is over: the simulated loopback line (`loopback.Loopback`), the machine's
microphone and speaker (`device.DeviceTransport`), and next a WebSocket server. It records both
directions into the session's recorder; it never decides turns — the agent does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from parley.session import Session


class Transport(Protocol):
    async def run(self, session: "Session") -> None: ...
