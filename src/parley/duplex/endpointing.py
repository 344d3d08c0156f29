"""Endpointing: VAD-driven speech/silence with a speculative start and a pluggable end-of-turn wait.

Per 32 ms frame the VAD's P(speech) drives a small state machine:

    idle ──speech ≥ min_speech──▶ speaking ──first silence──▶ paused ──silence ≥ end_of_turn──▶ idle
                                      ▲                          │
                                      └──────speech again────────┘

`paused` is reported once silence lasts `speculate_after_ms`: that is when the cascade starts ASR →
LLM → TTS, so the reply is ready (or nearly) when the end of turn is confirmed; `resumed` cancels it.
How much silence ends the turn is decided per pause: with prediction on, the turn stays open until
`decide(wait_s)` is called (from Smart Turn + transcript cues, `duplex.end_of_turn`) or the
`fallback_s` silence passes; with prediction off it is the fixed `end_of_turn_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from parley.audio.frame import FRAME_SECONDS
from parley.config import EndpointConfig, VADConfig
from parley.duplex.end_of_turn import WAITS_MS


class Signal(str, Enum):
    SPEECH_STARTED = "speech_started"
    PAUSED = "paused"          # silence long enough to speculate
    RESUMED = "resumed"        # speech again before the end of turn
    END_OF_TURN = "end_of_turn"


@dataclass(frozen=True)
class EndpointEvent:
    signal: Signal
    t: float          # when it happened in the audio (e.g. the first silent frame for PAUSED)
    silence_s: float = 0.0


class SilenceEndpointer:
    def __init__(self, vad: VADConfig, cfg: EndpointConfig) -> None:
        self.vad = vad
        self.cfg = cfg
        self.reset()

    def reset(self) -> None:
        self.wait_s: float | None = None  # silence that ends this pause; None = not decided yet
        self.in_turn = False       # between speech start and end of turn
        self._speech_run = 0       # consecutive speech frames
        self._speech_run_start = 0.0
        self._silence_start: float | None = None
        self._paused = False

    @property
    def fallback_s(self) -> float:
        """The longest silence any pause is held open, decided or not."""
        return WAITS_MS[self.cfg.eagerness][-1] / 1000

    @property
    def paused(self) -> bool:
        return self._paused

    def decide(self, wait_s: float) -> None:
        """Set the silence that ends the current pause (ignored unless a pause is open)."""
        if self._paused:
            self.wait_s = wait_s

    @property
    def speaking(self) -> bool:
        return self.in_turn and self._silence_start is None

    def step(self, t: float, prob: float) -> list[EndpointEvent]:
        """Advance one frame starting at `t` with speech probability `prob`."""
        out: list[EndpointEvent] = []
        is_speech = prob >= self.vad.threshold
        is_silence = prob < self.vad.neg_threshold
        min_run = max(1, round(self.vad.min_speech_ms / 1000 / FRAME_SECONDS))

        if is_speech:
            if self._speech_run == 0:
                self._speech_run_start = t
            self._speech_run += 1
        elif is_silence:
            self._speech_run = 0

        if not self.in_turn:
            if self._speech_run >= min_run:
                self.in_turn = True
                self._silence_start = None
                out.append(EndpointEvent(Signal.SPEECH_STARTED, self._speech_run_start))
            return out

        if self._silence_start is None:
            if is_silence:
                self._silence_start = t
        elif self._speech_run >= 2 and is_speech:
            if self._paused:
                out.append(EndpointEvent(Signal.RESUMED, t))
            self._silence_start = None
            self._paused = False
            self.wait_s = None
            return out

        if self._silence_start is not None:
            silence = t + FRAME_SECONDS - self._silence_start
            if not self._paused and silence >= self.cfg.speculate_after_ms / 1000:
                self._paused = True
                if not self.cfg.predict:
                    self.wait_s = self.cfg.end_of_turn_ms / 1000
                out.append(EndpointEvent(Signal.PAUSED, self._silence_start, silence))
            needed = self.wait_s if self.wait_s is not None else self.fallback_s
            if self._paused and silence >= needed:
                out.append(EndpointEvent(Signal.END_OF_TURN, self._silence_start, silence))
                self.in_turn = False
                self._silence_start = None
                self._paused = False
                self.wait_s = None
                self._speech_run = 0
        return out
