"""The caller's audio of the turn in progress, with the pre-roll before its onset.

Frames go to the pre-roll until speech starts (the VAD notices onsets late, so the last
`preroll_ms` are handed to ASR with the utterance). A long turn's head is taken out for good once it
is transcribed (`take_head`, cut at a quiet frame), so the buffer stays bounded; its last 8 s are
kept as context for Smart Turn, which reads a turn's end as heard.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE
from parley.components.asr.stream import COMMIT_LOOK_S, quiet_cut

JUDGE_CONTEXT_S = 8  # Smart Turn reads the last 8 s of a turn


class Utterance:
    def __init__(self, preroll_ms: int) -> None:
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, round(preroll_ms / 1000 / FRAME_SECONDS)))
        self._frames: list[np.ndarray] = []
        self._context = np.zeros(0, dtype=np.float32)  # the end of a long turn's committed head

    def push(self, pcm: np.ndarray, in_turn: bool) -> None:
        (self._frames.append if in_turn else self._preroll.append)(pcm)

    def start(self) -> None:
        """Speech began: the utterance starts with the pre-roll."""
        self._frames = list(self._preroll)
        self._preroll.clear()
        self._context = np.zeros(0, dtype=np.float32)

    def clear(self) -> None:
        self._frames = []

    @property
    def samples(self) -> int:
        return len(self._frames) * FRAME_SAMPLES

    def audio(self) -> np.ndarray:
        return np.concatenate(self._frames) if self._frames else np.zeros(0, dtype=np.float32)

    def take_head(self) -> np.ndarray:
        """The head of a long turn, up to the quietest frame of its last COMMIT_LOOK_S, removed."""
        cut = quiet_cut(self._frames, round(COMMIT_LOOK_S / FRAME_SECONDS))
        head = np.concatenate(self._frames[:cut])
        self._frames = self._frames[cut:]
        self._context = head[-JUDGE_CONTEXT_S * SAMPLE_RATE:]
        return head

    def heard_end(self, audio: np.ndarray) -> np.ndarray:
        """`audio` (what remains of the turn) with the committed head's end before it, for the judge."""
        if not len(self._context):
            return audio
        return np.concatenate([self._context, audio])[-JUDGE_CONTEXT_S * SAMPLE_RATE:]
