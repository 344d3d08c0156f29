from __future__ import annotations

from typing import Protocol

import numpy as np

from parley.audio.frame import AudioFrame


class DuplexAgent(Protocol):
    """Audio keeps flowing in while audio flows out; turns are something the agent decides.

    A transport calls `push_audio` with each captured 32 ms frame and `pull_audio` for the next frame
    to play, on one shared clock. Nothing is turn-based underneath.
    """

    name: str

    async def start(self) -> None: ...

    def push_audio(self, frame: AudioFrame) -> None: ...

    def pull_audio(self, n: int, t: float) -> np.ndarray: ...

    @property
    def busy(self) -> bool:
        """True while the agent is preparing or playing a reply."""

    async def close(self) -> None: ...
