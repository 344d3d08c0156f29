from __future__ import annotations

from typing import Protocol

import numpy as np


class VAD(Protocol):
    """Scores one 32 ms frame (512 samples at 16 kHz) with P(speech); stateful across frames."""

    def __call__(self, pcm: np.ndarray) -> float: ...

    def reset(self) -> None: ...
