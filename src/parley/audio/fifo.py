"""A FIFO of audio samples that arrive in chunks of any size and leave in chunks of another.

Network audio comes in deltas and pages; parley plays and listens in 32 ms frames. Chunks are kept
as they came (no copy on the way in) and cut only on the way out.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class SampleFifo:
    def __init__(self) -> None:
        self._chunks: deque[np.ndarray] = deque()
        self.buffered = 0  # samples in, not yet taken
        self.taken = 0  # samples taken since the start

    def put(self, pcm: np.ndarray) -> None:
        if len(pcm):
            self._chunks.append(pcm)
            self.buffered += len(pcm)

    def take(self, n: int) -> np.ndarray:
        """Up to `n` samples, oldest first (fewer when fewer are buffered)."""
        out, got = [], 0
        while got < n and self._chunks:
            head = self._chunks[0]
            part = head[:n - got]
            out.append(part)
            got += len(part)
            if len(part) == len(head):
                self._chunks.popleft()
            else:
                self._chunks[0] = head[len(part):]
        self.buffered -= got
        self.taken += got
        return np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros(0, np.float32)

    def clear(self) -> None:
        self._chunks.clear()
        self.buffered = 0
