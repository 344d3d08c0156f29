"""The turns of a model that speaks when it likes, found from what was played.

An audio-native model (Moshi, PersonaPlex) sends audio all the time and never says where its turns
begin or end. parley finds them as a listener would: a stretch of the model's speech — the VAD on
the played audio, or the model's own text pieces (it emits text only while it speaks: silence is
padding tokens, which are not sent) — is one agent turn, and its words are the text pieces whose
audio was played within it. A stretch that ends while the caller speaks ends as a barge-in.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE
from parley.components.vad.runs import SpeechRuns
from parley.events import AgentAudioStarted, AgentAudioStopped, EventLog

WORD_SPAN_SAMPLES = int(0.16 * SAMPLE_RATE)  # a text piece marks its model step as speech, and the next


class SpokenTurns:
    def __init__(self, vad, log: EventLog, heard) -> None:
        self.runs = SpeechRuns(vad)
        self.log = log
        self.heard = heard  # (turn, words the caller heard, interrupted) for the conversation
        self._words: deque[tuple[int, str]] = deque()  # (play position its audio ends at, text piece)
        self._word_at = -WORD_SPAN_SAMPLES - 1  # play position of the last text piece played
        self.turn = 0
        self._said: list[str] = []  # words of the agent turn being played
        self._onset: list[str] = []  # words of speech frames not yet long enough to be a turn

    @property
    def speaking(self) -> bool:
        return self.runs.speaking

    def text(self, piece: str, at: int) -> None:
        """A text piece that came with the audio ending `at` samples into the model's stream."""
        self._words.append((at, piece))

    def played(self, pcm: np.ndarray, t: float, start: int, caller_speaking: bool) -> None:
        """`pcm` was just played from stream position `start`, beginning at session time `t`."""
        for i in range(0, len(pcm), FRAME_SAMPLES):
            end = start + i + FRAME_SAMPLES
            heard = []
            while self._words and self._words[0][0] <= end:
                heard.append(self._words.popleft()[1])
                self._word_at = end
            change = self.runs.step(pcm[i:i + FRAME_SAMPLES], t + i / SAMPLE_RATE,
                                    words=end - self._word_at <= WORD_SPAN_SAMPLES)
            if change == "started":
                self.turn += 1
                self._said, self._onset = self._onset, []  # words of the frames that made it speech
                self.log.emit(AgentAudioStarted, t=self.runs.started_at, turn=self.turn)
            if self.runs.speaking or change == "stopped":
                self._said += heard
            else:
                self._onset = self._onset + heard if self.runs.rising else []
            if change == "stopped":
                self._end(self.runs.last_speech, "barge_in" if caller_speaking else "finished")

    def close(self, t: float) -> None:
        """The call ends: a turn still being spoken ends here, cut off."""
        if self.runs.speaking:
            self.runs.speaking = False
            self._end(t, "cancelled")

    def _end(self, t: float, reason: str) -> None:
        self.log.emit(AgentAudioStopped, t=t, turn=self.turn, reason=reason)
        self.heard(self.turn, "".join(self._said).strip(), reason != "finished")
        self._said = []
