"""Backchannels both ways: recognising the user's, and the agent's own at the user's pauses.

"mm-hmm", "yeah", "okay", "right", "I see" — or a cough, which Whisper renders as nothing or as a
bracketed sound — said while the agent speaks must not end the agent's turn. Anything else short
("wait", "no", "stop") is a real interruption.
"""

from __future__ import annotations

import re

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.components.tts.base import SpeechChunk
from parley.duplex.playout import Playout, Reply
from parley.events import Backchannel, EventLog

BACKCHANNELS = {
    "mm", "mhm", "mmhmm", "mm-hmm", "hmm", "hm", "uh-huh", "uhhuh", "uh", "huh", "yeah", "yep", "yes", "yup",
    "okay", "ok", "right", "sure", "alright", "i see", "got it", "oh", "ah", "aha", "cool", "nice",
    "mm-hm", "uh-hum", "m-hm", "great",
}
_NON_SPEECH = re.compile(r"^\s*[\[(*].*[\])*]\s*$")
MAX_WORDS = 3
# Whisper prompt for speech over the agent: without it, a bare "mhm" comes out as invented words.
ASR_PROMPT = "Mm-hmm. Uh-huh. Yeah. Okay. Right. Wait, stop."


NOISE_MAX_S = 0.3  # a cough or a click: shorter than any word said to take the floor


def is_backchannel(text: str, speech_s: float | None = None) -> bool:
    """`speech_s`: how long the VAD heard speech. Whisper turns a cough into a word ("Please."), so a
    blip shorter than `NOISE_MAX_S` with at most one word counts as noise."""
    t = text.strip().lower()
    if not t or _NON_SPEECH.match(t):
        return True  # a noise: nothing was said
    if speech_s is not None and speech_s < NOISE_MAX_S and len(t.split()) <= 1:
        return True
    t = re.sub(r"[.,!?…]", " ", t)
    words = t.split()
    if not words or len(words) > MAX_WORDS:
        return False
    if " ".join(words) in BACKCHANNELS:
        return True
    return all(w in BACKCHANNELS for w in words)


AGENT_BACKCHANNELS = ("Mhm.", "Right.", "Okay.")


def clip_reply(text: str, pcm: np.ndarray, acknowledges: int = 0) -> Reply:
    """A pre-synthesized line played as an agent backchannel: turn 0, never history, yields at the
    user's onset; `acknowledges`: the turn whose pause it acknowledges (a talker's acknowledgement)."""
    return Reply(turn=0, text=text, backchannel=True, committed=True, done=True, acknowledges=acknowledges,
                 chunks=[SpeechChunk(pcm=pcm, text=text, start=0, end=len(text))])


class AgentBackchannels:
    """The agent's own 'mhm' at a pause where the user is not done; pre-synthesized by the agent's
    `Voice` (a backchannel must cost no compute when it is due), and rate-limited."""

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self.clips: list[tuple[str, np.ndarray]] = []
        self._last = -1e9

    async def prepare(self, voice) -> None:
        await voice.prepare(AGENT_BACKCHANNELS)
        self.clips = [(text, voice.clip(text)) for text in AGENT_BACKCHANNELS]

    def due(self, now: float) -> bool:
        return now - self._last >= self.min_interval_s

    def offer(self, playout: Playout, log: EventLog, now: float) -> None:
        """Play a clip now, unless there are none or one was said too recently."""
        if not self.clips or not self.due(now):
            return
        self._last = now
        text, pcm = self.clips[int(now * 1000) % len(self.clips)]
        log.emit(Backchannel, source="agent", text=text)
        playout.play(clip_reply(text, pcm))

    def acknowledge(self, playout: Playout, reply: Reply, responder, voice, now: float, holding: bool = False) -> None:
        """Say the `responder`'s acknowledgement (if it has one) of the pause `reply` is being prepared
        for — once, and not over the agent's own speech; the reply, if the pause becomes its turn's
        end, starts once the acknowledgement has been said (`Reply.acknowledged_until`). Where the
        verdict `holding` the floor, the acknowledgement is a backchannel and keeps their rate."""
        if holding and not self.due(now):
            return
        heard = reply.user_text or (reply.transcript.result() if reply.transcript and reply.transcript.done() else "")
        line = responder.acknowledgement(heard) if not reply.acknowledged and not playout.active else None
        if line:
            if holding:
                self._last = now
            pcm = voice.clip(line)
            reply.acknowledged, reply.acknowledged_until = line, now + len(pcm) / SAMPLE_RATE
            playout.play(clip_reply(line, pcm, acknowledges=reply.turn))
