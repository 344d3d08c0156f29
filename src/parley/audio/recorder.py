"""Stereo conversation recording on one shared time axis: left = user, right = agent."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.wavio import write_wav


class ConversationRecorder:
    """Collects what the user said and what the agent played, sample-aligned by clock time."""

    def __init__(self, rate: int = SAMPLE_RATE, origin: float = 0.0) -> None:
        self.rate = rate
        self.origin = origin  # clock time of the recording's first sample
        self._user: list[tuple[float, np.ndarray]] = []
        self._agent: list[tuple[float, np.ndarray]] = []

    def add_user(self, t: float, pcm: np.ndarray) -> None:
        self._user.append((t, pcm))

    def add_agent(self, t: float, pcm: np.ndarray) -> None:
        self._agent.append((t, pcm))

    def _render(self, parts: list[tuple[float, np.ndarray]], n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        for t, pcm in parts:
            i = int(round((t - self.origin) * self.rate))
            j = min(n, i + len(pcm))
            if j > i >= 0:
                out[i:j] += pcm[: j - i]
        return out

    def _length(self) -> int:
        ends = [int(round((t - self.origin) * self.rate)) + len(p) for t, p in self._user + self._agent]
        return max(ends, default=0)

    @property
    def empty(self) -> bool:
        return not (self._user or self._agent)

    def stereo(self) -> np.ndarray:
        n = self._length()
        return np.stack([self._render(self._user, n), self._render(self._agent, n)], axis=1)

    def save(self, path: str | Path) -> None:
        write_wav(path, self.stereo(), self.rate)
