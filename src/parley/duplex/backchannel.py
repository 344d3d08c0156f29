"""Recognising a user backchannel: a short listener response that is not a bid for the floor.

"mm-hmm", "yeah", "okay", "right", "I see" — or a cough, which Whisper renders as nothing or as a
bracketed sound — said while the agent speaks must not end the agent's turn. Anything else short
("wait", "no", "stop") is a real interruption.
"""

from __future__ import annotations

import re

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
