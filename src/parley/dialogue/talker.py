"""The talker's opener: something short and right for the moment, said the instant the turn ends.

A hybrid's talker holds the floor while the thinker (the quality LLM) prepares the answer. What it
says must never be a claim of its own — no number, name, price, policy or yes/no the caller did not
say — because it speaks before anything was looked up. So the opener is chosen, not generated:
- the caller gave a value → it is confirmed back ("Order number 4 7 1 9 2.");
- the caller asked something or asked for something → a holding line ("Let me check.");
  never "sure" or "okay", which would answer a yes/no question or grant a request;
- a greeting, thanks, a goodbye or a plain statement → an acknowledgement ("Hello.", "You're
  welcome.", "Got it.").
The fixed lines are few, so they are synthesized once at start and cost no compute when due.

The thinker answers from exactly the prompt the cascade would use — giving it the opener as the
start of its own reply steered the small model (measured: memory recall 0.724 against the
cascade's 0.828 on the same 29 checks, "Let me look. Can you tell me your city?") — so the join is
made on its output instead: a first sentence that only acknowledges ("I see.", "Got it.", "Let me
check that for you.") or repeats the opener is dropped (`DropLeadingAck`). Answers ("Yes,", "Of
course!") are kept.
"""

from __future__ import annotations

import re

from parley.dialogue.memory import Fact, extract
from parley.dialogue.readback import spoken
from parley.dialogue import recall
from parley.textnorm import digits_of

_NAMES = ("name", "first name")  # said back as a name, not as a labelled value
HOLDING = ("Let me look.", "Let's see.", "Let me check.")  # short: the answer waits for them to end
ACKS = {"greeting": "Hello.", "thanks": "You're welcome.", "goodbye": "Goodbye.", "answer": "Thank you.",
        "statement": "Got it."}  # understood, not agreed
# said the moment Smart Turn hears a finished turn, before its words are transcribed: they must fit
# any words ("mhm" acknowledges without agreeing; a question gets a holding sound, since "mhm" after
# "can I return it?" would be heard as yes)
ACKNOWLEDGEMENTS = {"asks": "Let's see.", "other": "Mhm."}
ALL_LINES = (*HOLDING, *ACKS.values(), *ACKNOWLEDGEMENTS.values())

_GREETING = re.compile(r"^\W*(hi|hello|hey|good (morning|afternoon|evening))\b[\w\s,']{0,20}[.!]?\s*$", re.I)
_THANKS = re.compile(r"\b(thanks|thank you|cheers)\b", re.I)
_GOODBYE = re.compile(r"\b(bye|goodbye|that's all|that is all)\W*$", re.I)
_ANSWER = re.compile(r"^\W*(yes|yeah|yep|no|nope|correct|right|that's right|that is right|exactly)\b[\w\s,']{0,24}[.!]?\s*$", re.I)
# a question may open with a discourse marker: "And what size…", "So can I…", "Sorry, what was…"
_ASKS = re.compile(r"\?|^\W*(?:(?:and|so|but|okay|ok|well|sorry|great|oh|um|uh|also|then)\W+)*"
                   r"(what|when|where|which|who|why|how|can|could|would|will|do|does|did|is|are|am|should|may)\b"
                   r"|\b(i'd like|i would like|i want|i need|please|help me|tell me|let me know)\b", re.I)


def act(text: str) -> str:
    """The caller's dialogue act, as far as the opener needs it."""
    t = text.strip()
    if _THANKS.search(t) and not _ASKS.search(t):
        return "thanks"
    if _GOODBYE.search(t) and not _ASKS.search(t):
        return "goodbye"
    if _ANSWER.match(t):
        return "answer"
    if _GREETING.match(t):
        return "greeting"
    if _ASKS.search(t):
        return "asks"
    return "statement"


def acknowledgement(partial: str) -> str:
    """The talker's acknowledgement of a turn whose words are not transcribed yet; `partial` is the
    last partial transcript ("" if none): only whether the caller was asking matters."""
    return ACKNOWLEDGEMENTS["asks" if partial and act(partial) == "asks" else "other"]


def holds_only(line: str) -> bool:
    """`line` only holds the floor ("Let me check.", "Got it."): after an acknowledgement it would
    say the same thing twice, so it is left out — a value said back, or a reply to a greeting,
    thanks or a goodbye, is not."""
    return line in HOLDING or line in (ACKS["statement"], ACKS["answer"])


def opener(turn: int, text: str, facts: list[Fact]) -> str:
    """The line the talker says for the caller's `text`; `facts` are the values it gave."""
    kind = act(text)
    if facts:  # a statement's value stands alone, so the thinker goes on to what comes next
        said = ", ".join(_value(f) for f in facts[:2])
        if facts[0].kind in _NAMES:
            return f"Thank you, {said}."
        return f"{said[0].upper()}{said[1:]}{', let me check.' if kind == 'asks' else '.'}"
    if kind == "asks":
        return HOLDING[turn % len(HOLDING)]
    return ACKS[kind]


def _value(fact: Fact) -> str:
    """A value said back: a name as a name, a date, time or address as itself, anything else with
    what it is ("order number 4 7 1 9 2")."""
    if fact.kind in _NAMES:
        return fact.text.title()
    if fact.kind in ("date", "time", "address"):
        return spoken(fact)
    return f"{recall.label(fact)} {spoken(fact)}"


_CLAIM = re.compile(r"\d+|\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|yes|no|sure|"
                    r"okay|of course|certainly|free|dollars?|euros?|pounds?|refund\w*|policy)\b|[$£€]", re.I)


def unsupported(line: str, caller: str) -> list[str]:
    """What `line` claims that neither the caller's words (as said, or as the values they name:
    "June twelfth" → 2026-06-12) nor the fixed openers contain: digits, number words, yes/no,
    prices, policy words, and capitalised names. Empty = safe."""
    values = " ".join(f.text for f in extract(caller, 0, []))
    allowed = f" {caller} {values} {' '.join(ALL_LINES)} ".lower()
    caller_chars = re.sub(r"[^a-z0-9]", "", digits_of(f"{caller} {values}".lower()))
    out = []
    for m in _CLAIM.finditer(line):
        word = m.group(0).lower()
        if word.isdigit() and word in caller_chars:
            continue
        if not word.isdigit() and re.search(rf"\b{re.escape(word)}\b", allowed):
            continue
        out.append(m.group(0))
    for name in re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b", line):
        if name.lower() not in allowed:
            out.append(name)
    return out


def invented_specifics(line: str, caller: str) -> list[str]:
    """The digits and names of `line` that `caller`'s words do not hold (`unsupported` without the
    yes/no, price and policy words): what a reply that recalls the caller's values made up."""
    return [w for w in unsupported(line, caller) if w[0].isdigit() or (w[0].isupper() and not _CLAIM.fullmatch(w))]


# acknowledgements and holding phrases a thinker may open with: said already by the talker
_ACKS = [p.split() for p in (
    "i see", "i understand", "understood", "got it", "okay", "ok", "alright", "all right", "right", "noted",
    "hello", "hi", "hi there", "let's see", "let me see", "let me look", "let me look into that",
    "let me look into that for you", "let me check", "let me check that", "let me check that for you",
    "let me check on that", "let me check on that for you", "one moment", "one moment please", "one second",
    "one sec", "hmm", "mhm")]
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


class DropLeadingAck:
    """A filter on the thinker's token stream (`CascadeResponder._think`'s `lead`): it holds the
    stream back only while its first sentence could still be an acknowledgement or the talker's
    `opener` again — a word that starts none of them releases it at once, so an answer's first
    clause is not delayed — and drops that sentence when it is one; "" marks the end of the stream."""

    def __init__(self, opener: str) -> None:
        self.phrases = [*_ACKS, _words(opener)]
        self._held = ""
        self._passed = False

    def __call__(self, delta: str) -> str:
        if self._passed:
            return delta
        self._held += delta
        end = _SENTENCE_END.search(self._held)
        first = self._held[:end.end()] if end else self._held
        words = _words(first)
        if end is None and delta:
            if self._could_be_ack(words, complete=bool(re.search(r"[\s,;:]$", self._held))):
                return ""  # still undecided: hold
        self._passed = True
        if (end is not None or not delta) and words in self.phrases:
            return self._held[len(first):].lstrip()
        return self._held

    def _could_be_ack(self, words: list[str], complete: bool) -> bool:
        """`words` (the last one perhaps cut mid-word unless `complete`) begin some phrase."""
        if not words:
            return True
        done, last = (words, None) if complete else (words[:-1], words[-1])
        return any(p[:len(done)] == done and (last is None or (len(p) > len(done) and p[len(done)].startswith(last)))
                   for p in self.phrases)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())
