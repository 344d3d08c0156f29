"""What is never speech: the one filter between any drafted reply and the TTS.

Small models copy the prompt's furniture into their replies: history markers ("[interrupted]"),
bracketed stage directions ("[pause]", "[laughs]"), chat-template and document tags
("<|im_end|>", "</passage>"), tool syntax ("<tool_call>{...}</tool_call>", a JSON object) and role
tags ("Assistant:", "User: ..." — the model writing the caller's next turn). None of it may reach
the TTS, and what is not spoken is not heard, so it never enters the history either.

`InternalText` filters a token stream whose brackets may arrive in separate deltas; `speakable` is
the whole-text form plus `textnorm.for_speech`, the last guard before synthesis on every path;
`internal_marks` finds what got through, for the bench's check over every reply.
"""

from __future__ import annotations

import re

from parley.textnorm import for_speech

_OPENERS = {"[": "]", "<": ">", "{": "}"}
_SPAN_MAX = 80  # an opener this far from its closer is text, not markup ("x < y" in a sentence)
_BLOCK = re.compile(r"<(tool_call|function_call|tool|think)>.*?</\1>", re.DOTALL | re.IGNORECASE)
# a role tag at the start of the reply or of a line/sentence: "Assistant: ...", "User: ..."
_ROLE = re.compile(r"(?:^|(?<=[\n.!?])\s*)\s*(assistant|user|system|caller|customer|agent|ai|bot)\s*:\s",
                   re.IGNORECASE)
_SPEAKER_ROLES = {"assistant", "agent", "ai", "bot"}  # the model's own tag: drop it, keep the words
_BLOCK_OPEN = re.compile(r"<(tool_call|function_call|tool|think)>", re.IGNORECASE)
_TRAILING_WORD = re.compile(r"[A-Za-z]+\s*:?$")


def _tidy(text: str) -> str:
    return re.sub(r" {2,}", " ", text)


class InternalText:
    """Streaming filter: `feed` returns the speakable part of what has arrived so far (it holds back
    an unclosed bracket and a trailing word that may yet become a role tag), `flush` the rest. Once
    the model starts writing another speaker's turn, `ended` is set and everything after is dropped."""

    def __init__(self) -> None:
        self._held = ""
        self._last = ""  # the last non-space character released ("" at the start of the reply)
        self._space = False  # the released text ends in whitespace
        self.ended = False

    def feed(self, delta: str) -> str:
        if self.ended:
            return ""
        text, self._held = self._held + delta, ""
        text = _BLOCK.sub("", text)
        out = []
        while text:
            i = min((text.find(o) for o in _OPENERS if o in text), default=-1)
            if i < 0:
                out.append(text)
                break
            out.append(text[:i])
            if text[i] == "<" and _BLOCK_OPEN.match(text, i):
                self._held = text[i:]  # a tool block: held until its closing tag arrives
                break
            j = text.find(_OPENERS[text[i]], i)
            if (j < 0 and len(text) - i > _SPAN_MAX) or j - i > _SPAN_MAX:
                out.append(text[i])  # an opener far from any closer is text ("x < y")
                text = text[i + 1:]
                continue
            if j < 0:
                self._held = text[i:]
                break
            text = text[j + 1:]
        ready = _tidy("".join(out))
        if not self._held:
            tail = _TRAILING_WORD.search(ready)
            if tail:  # "User" may be followed by ":" in the next delta
                ready, self._held = ready[:tail.start()], ready[tail.start():]
        return self._roles(ready)

    def _roles(self, text: str) -> str:
        out = ""
        while text:
            ctx = self._last if not out.strip() else out.rstrip()[-1]
            m = _ROLE.search(ctx + text)
            if m is None:
                break
            start, end = max(0, m.start() - len(ctx)), m.end() - len(ctx)
            before = text[:start]
            if m.group(1).lower() in _SPEAKER_ROLES and not self._last and not (out + before).strip():
                out, text = out + before, text[end:]  # the model's own tag before its first word
                continue
            self.ended = True  # another speaker's turn, or a tag after words were said
            self._held = ""
            text = before
            break
        out += text
        if self._space and out.startswith(" "):
            out = out.lstrip(" ")  # a dropped span between two spaces leaves one
        if out:
            self._space = out[-1].isspace()
        if out.strip():
            self._last = out.rstrip()[-1]
        return out

    def flush(self) -> str:
        held, self._held = self._held, ""
        if self.ended or not held:
            return ""
        if held[0] in _OPENERS and len(held) <= _SPAN_MAX:
            return ""  # an unclosed direction at the end of the reply
        return self._roles(held)


def speakable(text: str) -> str:
    """What the TTS may be given for `text`: nothing internal, and written forms made speakable
    (`textnorm.for_speech`). Every architecture's speech path calls this, whatever drafted the text."""
    return for_speech(strip_internal(text))


def strip_internal(text: str) -> str:
    """`text` without anything internal (whole-text form of `InternalText`)."""
    f = InternalText()
    out = f.feed(text) + f.flush()
    return re.sub(r"\s+", " ", out).strip()


_MARKS = re.compile(r"\[[^\]]{0,80}\]|<[^>]{0,80}>|\{[^}]{0,80}\}|\binterrupted by the user\b"
                    r"|(?:^|(?<=[.!?]\s))(?:assistant|user|system)\s*:", re.IGNORECASE)


def internal_marks(text: str) -> list[str]:
    """Internal text found in what was spoken (a bench check; empty means clean)."""
    return [m.group(0) for m in _MARKS.finditer(text)]
