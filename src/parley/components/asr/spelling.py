"""Spelled letters, heard again with the decoder allowed nothing but letters.

Whisper tiny hears a spelled name as words: "A L V A R E Z" → "the LVAR Easy", "P A T E L" →
"P at T-E-L", "O K A F O R" → "OK at FOR"; the letter names sound like "the", "at", "easy". A
caller who says "that is" or "spelled" has announced letters, so the part after the cue is decoded
a second time with the cue's words as a forced prefix and every token but single letters
suppressed (`WhisperASR.respell`). Measured on Piper's voice (`benchmarks/spelling_asr.py`), this
turns garbled spellings into letter runs at ~0.2 s per spelled turn; turns with no cue pay nothing.
Only a spelling that ends the utterance is redone — letters-only decoding would swallow a sentence
after it — and never one with digits or an e-mail in it.
"""

from __future__ import annotations

import re

_CUE = re.compile(r"\b(that is|that's|spelled|spelt|spelling|spell it|spell that|as in)\b[:,]?", re.IGNORECASE)
_LETTERISH = re.compile(r"\b[A-Z]{1,8}\b|\b[a-z]\b")


def spelled_tail(text: str) -> tuple[str, str] | None:
    """(prefix up to and including the last spelling cue, what follows it) when what follows looks
    like letters Whisper turned partly into words: two or more capital clumps or single letters (or
    one clump of three) with a word among them ("the LVAR Easy", "P at T-E-L"), nothing
    after its end of sentence, no digits, no e-mail."""
    cues = list(_CUE.finditer(text))
    if not cues:
        return None
    cue = cues[-1]
    prefix, tail = text[: cue.end()], text[cue.end():]
    body = tail.strip()
    if not body or re.search(r"\d|@|\b(at|dot)\s+\w+\s+(dot|com)\b", body, re.IGNORECASE):
        return None
    if re.search(r"[.?!]\s+\S", body):
        return None  # a sentence follows the spelling
    letterish = [w for w in _LETTERISH.findall(body) if w not in _WORDS_IN_CAPS]
    if len(letterish) < 2 and not any(len(w) >= 3 for w in letterish):
        return None
    if not re.search(r"\b[a-z]{2,}\b|\b[A-Z][a-z]+\b", body):
        return None  # letters already, no words among them: the first pass heard the spelling
    return prefix, body


_WORDS_IN_CAPS = {"OK", "US", "UK", "TV", "ID", "AM", "PM", "IT", "I", "a"}


def letters_of(decoded: str) -> str:
    """The letters of a letters-only decoding, spaced: "L-V-A-R-E-Z." → "L V A R E Z"."""
    return " ".join(re.findall(r"[A-Z]", decoded.upper()))
