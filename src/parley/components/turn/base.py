from __future__ import annotations

from typing import Protocol

import numpy as np


class TurnDetector(Protocol):
    """P(the user has finished their turn) from the audio of the turn so far. Blocking."""

    def predict(self, pcm: np.ndarray) -> float: ...
