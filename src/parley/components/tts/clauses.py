"""Cutting a streamed reply into clauses that can be spoken before the reply is complete.

The first clause is released as early as it sounds natural (a few words up to a comma or sentence
end) because it decides the latency; later clauses wait for longer spans, which synthesize with
better prosody. Each clause keeps its character span in the full reply text.

Bracketed stage directions ("[interrupted by the user]", "[pause]", "[laughs]") are never speech:
small models copy them from the history's markers or invent them, and Piper reads them aloud. They
are dropped from the stream before it is split, so they are neither spoken nor kept as heard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A cut point is punctuation followed by whitespace, so "3.5" or a comma inside a token never cuts.
_CUT = re.compile(r"[.!?,;:\u2014\u2013](?=\s)")


_DIRECTION_MAX = 80  # a "[" this far from any "]" is text, not a direction


class StageDirections:
    """Removes `[...]` spans from a token stream whose brackets may arrive in separate deltas."""

    def __init__(self) -> None:
        self._held = ""  # from an open "[" on, until it closes

    def feed(self, delta: str) -> str:
        text, self._held = self._held + delta, ""
        out = []
        while text:
            i = text.find("[")
            if i < 0:
                out.append(text)
                break
            out.append(text[:i])
            j = text.find("]", i)
            if j < 0:
                if len(text) - i > _DIRECTION_MAX:  # never closed: it was text after all
                    out.append(text[i:])
                else:
                    self._held = text[i:]
                break
            text = text[j + 1:]
        return _tidy("".join(out))

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if held.startswith("[") and len(held) <= _DIRECTION_MAX else held


def _tidy(text: str) -> str:
    return re.sub(r" {2,}", " ", text)


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
        self._directions = StageDirections()

    def _min_words(self) -> int:
        return self.first_min_words if self._released == 0 else self.min_words

    def feed(self, delta: str) -> list[Clause]:
        self.text += self._directions.feed(delta)
        out = []
        while (c := self._next()) is not None:
            out.append(c)
        return out

    def _next(self) -> Clause | None:
        pending = self.text[self._pos:]
        for m in _CUT.finditer(pending):
            sentence_end = pending[m.start()] in ".!?"
            if sentence_end or len(pending[:m.end()].split()) >= self._min_words():
                return self._release(m.end())
        if self._released == 0 and self.first_max_words:
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

    def flush(self) -> list[Clause]:
        self.text += self._directions.flush()
        rest = self.text[self._pos:]
        if not rest.strip():
            return []
        return [self._release(len(rest))]
