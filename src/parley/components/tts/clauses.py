"""Cutting a streamed reply into clauses that can be spoken before the reply is complete.

The first clause is released as early as it sounds natural (a few words up to a comma or sentence
end) because it decides the latency; later clauses wait for longer spans, which synthesize with
better prosody. Each clause keeps its character span in the full reply text.

What is never speech (stage directions, tags, tool syntax, role tags: `tts/internal.py`) is dropped
from the stream before it is split, so it is neither spoken nor kept as heard; once the model starts
writing another speaker's turn the splitter reports `ended`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.components.tts.internal import InternalText

# A cut point is punctuation followed by whitespace, so "3.5" or a comma inside a token never cuts.
_CUT = re.compile(r"[.!?,;:\u2014\u2013](?=\s)")
# An opening apology may turn into the model's stock refusal, which the reply gate replaces whole: cut
# after four words ("I'm sorry, but I"), the caller heard half of it before the replacement line. So
# "I'm sorry," is a first clause of its own (at once, like any opening words: a whole stock refusal
# takes ~1.4 s to decode), and one without its comma ("I'm afraid I …") is not cut early.
_APOLOGY = re.compile(r"\W*(i'm|i am) (sorry|afraid)\b|\W*unfortunately\b", re.IGNORECASE)
OPENING_APOLOGY = re.compile(r"\W*(?:(?:i'm|i am) (?:so |very |really )?sorry|unfortunately),(?=\s)", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    text: str
    start: int
    end: int


class ClauseSplitter:
    def __init__(self, first_min_words: int = 3, min_words: int = 6, first_max_words: int = 0) -> None:
        self.first_min_words = first_min_words
        self.min_words = min_words
        self.first_max_words = first_max_words  # > 0: cut the first clause after this many words anyway
        self.text = ""
        self._pos = 0  # start of the not-yet-released text
        self._released = 0
        self._internal = InternalText()

    @property
    def ended(self) -> bool:
        """The model began another speaker's turn: nothing more of this reply is speech."""
        return self._internal.ended

    def _min_words(self) -> int:
        return self.first_min_words if self._released == 0 else self.min_words

    def feed(self, delta: str) -> list[Clause]:
        self.text += self._internal.feed(delta)
        out = []
        while (c := self._next()) is not None:
            out.append(c)
        return out

    def _next(self) -> Clause | None:
        pending = self.text[self._pos:]
        if self._released == 0 and (apology := OPENING_APOLOGY.match(pending)):
            return self._release(apology.end())
        for m in _CUT.finditer(pending):
            sentence_end = pending[m.start()] in ".!?"
            if sentence_end or len(pending[:m.end()].split()) >= self._min_words():
                return self._release(m.end())
        if self._released == 0 and self.first_max_words and not _APOLOGY.match(pending):
            # Latency over prosody for the opening words: once a word after the limit has begun,
            # the limit's words are complete and can be spoken.
            words = list(re.finditer(r"\S+", pending))
            if len(words) > self.first_max_words:
                return self._release(words[self.first_max_words - 1].end())
        return None

    def _release(self, cut: int) -> Clause:
        raw = self.text[self._pos:self._pos + cut]
        start = self._pos + (len(raw) - len(raw.lstrip()))
        end = self._pos + len(raw.rstrip())
        self._pos += cut
        self._released += 1
        return Clause(self.text[start:end], start, end)

    def whole(self, line: str) -> Clause:
        """`line` as one clause, after anything pending (a line said as it is, e.g. a pre-synthesized one)."""
        self.text += self._internal.flush()
        self.text += ("" if not self.text or self.text.endswith(" ") else " ") + line.strip() + " "
        return self._release(len(self.text) - self._pos)

    def flush(self) -> list[Clause]:
        self.text += self._internal.flush()
        rest = self.text[self._pos:]
        if not rest.strip():
            return []
        return [self._release(len(rest))]
