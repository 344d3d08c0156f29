"""Who is speaking on a stream, as a remote model's observer sees it.

A remote architecture takes no turns of its own in parley's engine, but the event contract still
needs when each side spoke: the VAD on the caller's audio and on the model's played audio, frame by
frame, with hysteresis so that a pause inside a sentence does not end a run.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE


class SpeechRuns:
    """Speech on one stream from the VAD, 32 ms frame by frame: starts after `min_frames` speech
    frames, ends after `hangover_frames` of silence (a pause inside a sentence is not an end)."""

    def __init__(self, vad, min_frames: int = 3, hangover_frames: int = 20) -> None:
        self.vad = vad
        self.min_frames, self.hangover_frames = min_frames, hangover_frames
        self.speaking = False
        self._run = 0
        self._quiet = 0
        self._candidate = 0.0
        self.started_at = 0.0  # time of the first speech frame of the current run
        self.last_speech = 0.0  # end of its last speech frame

    @property
    def rising(self) -> bool:
        """Speech frames are being counted towards a start."""
        return not self.speaking and self._run > 0

    def step(self, pcm: np.ndarray, t: float, *, words: bool = False) -> str | None:
        """"started", "stopped" or None after the frame at time `t`; `words`: the model's text
        stream says it is speaking in this frame, whatever the VAD hears."""
        speech = words or self.vad(pcm) >= (0.35 if self.speaking else 0.5)
        dt = len(pcm) / SAMPLE_RATE
        if speech:
            self._run += 1
            if self._run == 1:
                self._candidate = t
            self._quiet = 0
            self.last_speech = t + dt
            if not self.speaking and self._run >= self.min_frames:
                self.speaking, self.started_at = True, self._candidate
                return "started"
            return None
        self._run = 0
        if self.speaking:
            self._quiet += 1
            if self._quiet >= self.hangover_frames:
                self.speaking = False
                return "stopped"
        return None
