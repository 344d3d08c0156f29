"""Test doubles for the duplex engine's seams: no models, deterministic, instant.

They let the turn-taking policy (end of turn, overlap, backchannels, playout) be tested without
weights; they never stand in for a capability (the real components are `components.registry`'s).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.components.tts.base import SpeechChunk
from parley.duplex.playout import Reply
from parley.events import AgentTurn


class EnergyVAD:
    """P(speech) = 1 when the frame's RMS is above `threshold`."""

    def __init__(self, threshold: float = 0.01) -> None:
        self.threshold = threshold

    def __call__(self, pcm: np.ndarray) -> float:
        return float(np.sqrt(np.mean(pcm ** 2)) > self.threshold) if len(pcm) else 0.0


class ScriptedASR:
    """Transcribes by the audio's duration: `script(seconds, prompt) -> text`."""

    def __init__(self, script: Callable[[float, str | None], str]) -> None:
        self.script = script

    def transcribe(self, pcm: np.ndarray, prompt: str | None = None) -> str:
        return self.script(len(pcm) / SAMPLE_RATE, prompt)


class FixedTurn:
    """An end-of-turn model that hears every pause as finished with probability `p`."""

    def __init__(self, p: float) -> None:
        self.p = p

    def predict(self, pcm: np.ndarray) -> float:
        return self.p


class ToneTTS:
    """A 220 Hz tone, 0.25 s a word."""

    def synthesize(self, text: str) -> np.ndarray:
        n = int(0.25 * SAMPLE_RATE * max(1, len(text.split())))
        return (0.1 * np.sin(2 * np.pi * 220 * np.arange(n) / SAMPLE_RATE)).astype(np.float32)


class ScriptedResponder:
    """Replies `text` to every turn, one chunk a word (so a cut shows in the heard text), and
    records what the user heard of each reply."""

    wants_partials = True

    def __init__(self, text: str, tts=None, conversation=None, acknowledgement: str | None = None, log=None) -> None:
        self.text = text
        self.log = log  # where the contract's `agent_turn` goes when there is no `conversation` to emit it
        self.ack = acknowledgement  # said at a pause that sounds final (its clip must be prepared on the voice)
        self.tts = tts or ToneTTS()
        self.conversation = conversation  # a real `Conversation` when a test amends history
        self.persona = ""
        self.heard_log: list[tuple[int, str, bool]] = []  # (turn, heard, interrupted)
        self.partials: list[str] = []

    async def instruct(self, persona: str) -> None:
        self.persona = persona

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def utterance_started(self) -> None: ...

    async def partial(self, text: str) -> None:
        self.partials.append(text)

    def preparing(self) -> None: ...

    def acknowledgement(self, words: str) -> str | None:
        return self.ack

    async def respond(self, reply: Reply) -> None:
        reply.text, pos = self.text, 0
        for word in self.text.split():
            start = self.text.index(word, pos)
            pos = start + len(word)
            reply.chunks.append(SpeechChunk(pcm=self.tts.synthesize(word), text=word, start=start, end=pos))

    def heard(self, reply: Reply, heard: str, interrupted: bool) -> None:
        self.heard_log.append((reply.turn, heard, interrupted))
        if self.conversation is not None:
            self.conversation.heard(reply.turn, reply.user_text, heard, interrupted)
        elif self.log is not None:
            self.log.emit(AgentTurn, turn=reply.turn, user=reply.user_text, agent=heard, interrupted=interrupted)
