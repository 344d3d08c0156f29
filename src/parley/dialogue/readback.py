"""Read-back: the agent repeats a critical value for confirmation, as a call-centre agent does.

On a phone line Whisper tiny mishears one letter in three of a spelled name; the only cure a human
agent has is to read the value back ("That's A-L-V-A-R-E-Z, is that right?") and let the caller
correct it. The read-back is deterministic — built from the fact store's canonical value, never
drafted by the LLM — so it is fast (no LLM call), exact, and cannot itself invent a letter:

- a turn that gives a critical value and asks nothing gets the read-back as a question, and the
  caller's "yes" or correction is the next turn (a correction replaces the value in the fact store,
  `memory.merge`, and is read back in turn);
- a turn that gives a value *and* asks something gets it as a statement ("That's A-L-V-A-R-E-Z.")
  before the LLM's answer;
- an announced value that never arrived whole ("my e-mail is j dot …" and then silence, a cough or
  a line drop) gets "Sorry, I didn't catch your e-mail address. Could you say it again?" rather than
  a guess.
Which values are critical is configured per agent (`readback`) and per procedure step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.dialogue.memory import Fact, category

CATEGORIES = ("email", "spelled", "code", "number", "date", "time", "address")
DEFAULT = ["email", "spelled", "code"]


def spoken(fact: Fact) -> str:
    """The value the way it is read back: letters one by one, e-mails with 'at' and 'dot'."""
    kind = category(fact)
    if kind == "spelled":
        return "-".join(fact.text)
    if kind == "email":
        return say_email(fact.text)
    if kind in ("code", "number"):
        return " ".join(fact.text)
    return fact.text


@dataclass(frozen=True)
class Plan:
    action: str  # confirm (a question; the reply is only this) | state (before the LLM's answer) | ask_again
    #              | recall (the caller's own value they asked for; the reply is only this)
    #              | unclear (the turn was probably misheard: the caller is asked to say it again)
    #              | missing (the caller asked for a value of theirs the agent was never given)
    line: str
    values: tuple[str, ...] = ()


def say_email(address: str) -> str:
    """"j.okafor@gmail.com" → "j dot okafor at gmail dot com"."""
    local, _, domain = address.partition("@")
    return " at ".join(" dot ".join(part.split(".")) for part in (local, domain))


UNCLEAR_LINE = "Sorry, I didn't catch that. Could you say it again?"
SHORT_WORDS = 3  # "yes", "no, thanks": asking to repeat an answer this short costs more than a guess


def unclear(confidence: float | None, below: float | None, text: str) -> bool:
    """Is the ASR's own confidence in `text` (its mean token log-probability) too low to answer it?
    Below about -0.8 most of Whisper tiny's transcripts are garbled and almost none are good
    (`benchmarks/asr_confidence.py`); short answers are exempt. The same test serves the chat
    model's view of the words (`Reading.plausibility` against `[asr] implausible_below`)."""
    return (below is not None and confidence is not None and confidence < below
            and len(text.split()) > SHORT_WORDS)


class ReadBack:
    def __init__(self, categories: list[str]) -> None:
        self.categories = set(categories)
        self._done: set[tuple[str, str]] = set()  # (slot, value) already read back
        self._planned: dict[int, tuple[list[Fact], str]] = {}  # turn → (values, line) until heard
        self._last_heard: list[Fact] | None = None  # what the last heard reply read back, if it did
        self._asked: str | None = None  # what the last heard reply asked to hear again, if it did
        self.disputed: set[tuple[str, str]] = set()  # (slot, value) the caller said was wrong, not corrected since

    def due(self, facts: list[Fact], categories: list[str] | None = None, again: bool = False) -> list[Fact]:
        """The critical values in `facts` not read back yet or refused since, or all of them `again`
        (after a "no", the correction's values are read back even if an earlier turn gave them); `categories`
        overrides the agent's for the current procedure step."""
        wanted = set(categories) if categories is not None else self.categories
        return [f for f in facts if category(f) in wanted
                and (again or (f.kind, f.text) not in self._done or (f.kind, f.text) in self.disputed)]

    def ask_again(self, turn: int) -> Plan | None:
        """Reply `turn` asks the caller to say the whole turn again, its words doubted — unless the
        last reply heard asked just that: ask once, never twice in a row."""
        if self._asked == UNCLEAR_LINE:
            return None
        self._planned[turn] = ([], UNCLEAR_LINE)
        return Plan("unclear", UNCLEAR_LINE)

    def plan(self, turn: int, facts: list[Fact], text: str, cue: str | None,
             categories: list[str] | None = None, doubted: bool = False) -> Plan | None:
        """What reply `turn` starts with, if anything: `facts` are the turn's values, `cue` the
        end-of-turn cue on its words (a value still in progress when the turn ended), `doubted` that
        the ASR doubts the words (`unclear`). Values count as read back once the reply is heard
        (`heard`): a speculative reply may be cancelled."""
        if doubted and (ask := self.ask_again(turn)) is not None:
            return ask
        rejected = bool(_REJECTION.match(text)) and self._last_heard is not None
        due = self.due(facts, categories, again=rejected)
        if rejected and due and {(f.kind, f.text) for f in due} <= {(f.kind, f.text) for f in self._last_heard}:
            due = []  # the correction came out as the value just refused: saying it back again is no question
        if due:
            question = not asks_something(text)
            plan = Plan("confirm" if question else "state", self.line(due, question), tuple(f.text for f in due))
            self._planned[turn] = (due, plan.line)
            return plan
        line = "Sorry, I didn't get that. Could you spell it for me again, slowly?" if rejected else ask_again(cue)
        if line is None or line == self._asked:
            # nor the same request twice in a row: a value heard the same way again will not come
            # whole by asking a third time (six "Could you say it again?" in a row to one postcode);
            # the model answers what it has
            return None
        self._planned[turn] = ([], line)  # "no, it's …" and nothing we can read: ask, never guess
        return Plan("ask_again", line)

    def answered(self, user: str, facts: list[Fact]) -> None:
        """The caller's turn after a heard read-back: a "no" disputes the values read back; anything
        else settles them. `facts` is the store after the turn: a value the correction replaced is
        gone from it, one still there stays disputed until read back and not refused again (a
        correction the ASR lost leaves the wrong value in the store, and the agent must not recall
        it as the caller's)."""
        if self._last_heard is None:
            return
        read = {(f.kind, f.text) for f in self._last_heard}
        if _REJECTION.match(user):
            self.disputed |= read & {(f.kind, f.text) for f in facts}
        else:
            self.disputed -= read

    def heard(self, turn: int) -> None:
        """Reply `turn` was heard: its values count as read back, and the caller's next "no" refers
        to them."""
        facts, line = self._planned.pop(turn, ([], None))
        self._last_heard = facts or None
        self._asked = line if not facts else None
        self._done |= {(f.kind, f.text) for f in facts}

    def line(self, facts: list[Fact], question: bool) -> str:
        values = ", and ".join(spoken(f) for f in facts)
        return f"That's {values}, is that right?" if question else f"That's {values}."


_REJECTION = re.compile(r"^\W*(no|nope|not quite|that's not right|that is not right|wrong)\b", re.IGNORECASE)


def ask_again(cue: str | None) -> str | None:
    """What to say when the turn ended on a value that never arrived whole (an end-of-turn cue)."""
    if cue == "e-mail in progress":
        return "Sorry, I didn't catch your whole e-mail address. Could you say it again, slowly?"
    if cue in ("code in progress", "spelling in progress", "number in progress"):
        thing = {"code in progress": "code", "spelling in progress": "spelling",
                 "number in progress": "number"}[cue]
        return f"Sorry, I didn't catch the whole {thing}. Could you say it again, slowly?"
    return None


def asks_something(text: str) -> bool:
    """Does the turn ask or request something besides giving values?"""
    return "?" in text or bool(re.search(r"\b(can|could|would|will) you\b|\b(i want|i'd like|i need|please)\b",
                                         text, re.IGNORECASE))
