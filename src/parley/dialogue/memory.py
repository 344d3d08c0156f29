"""The fact store: what the caller said that must survive the ASR's spelling and the history budget.

Names, numbers, codes, e-mail addresses, spelled words, dates, times and street addresses are read
from each user turn in canonical form (`entities.py`), with their slot and the turn they came from.
Each user turn carries its values, canonical, after the caller's words (`annotation`), so the
reply uses "j.okafor@gmail.com" and not the transcript's "j dot okafor at gmail dot com"; a
correction ("no, not Tuesday, Thursday the sixteenth") or a new value for a one-per-caller slot
replaces the earlier value (`merge`). Once the oldest turns drop out of the window, the facts from
them are given back as a short note, so "what was my order number?" is answered at turn 150 as at
turn 3. Extraction is rule-based on purpose: it must never invent a fact, and it costs nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.dialogue.entities import bare_code, entities

_NAME = re.compile(r"\b(?i:my name is|name's|i'm|i am|this is|call me)\s+([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)")
_NOT_NAMES = {"Sorry", "Just", "Calling", "Looking", "Here", "Fine", "Not", "Good", "Okay", "So", "Still", "Really"}
_CORRECTION = re.compile(r"\b(no|not|sorry|actually|i meant|correction|wrong|instead|rather|change)\b", re.IGNORECASE)
# one value per caller: a new one replaces the old even without "no, …"
_ONE_PER_CALLER = {"name", "surname", "last name", "first name", "family name", "email", "phone number",
                   "mobile number", "address"}


@dataclass(frozen=True)
class Fact:
    kind: str   # the slot: name | email | surname | order number | flight | date | address | …
    text: str   # canonical value (entities.py): "ALVAREZ", "j.okafor@gmail.com", "47192"
    turn: int


def category(fact: Fact) -> str:
    """The shape of a value, which decides how it is read back and what a correction of it looks like."""
    if fact.kind == "email":
        return "email"
    if fact.kind in ("date", "time", "address"):
        return fact.kind
    if fact.text.isalpha() and fact.text.isupper():
        return "spelled"
    if fact.text.isdigit():
        return "number"
    if re.fullmatch(r"[A-Z0-9]+", fact.text):
        return "code"
    return "other"


def extract(user_text: str, turn: int, known: list[Fact] = ()) -> list[Fact]:
    """The turn's values. A correction that names no slot ("no, it is X seven seven three zero
    one") gives a code or number for the latest value in `known` when that is one."""
    facts: list[Fact] = []
    for m in _NAME.finditer(user_text):
        if m.group(1).split()[0] not in _NOT_NAMES:
            facts.append(Fact("name", m.group(1), turn))
    facts += [Fact(e.slot, e.value, turn) for e in entities(user_text)]
    if known and _CORRECTION.search(user_text) and category(known[-1]) in ("code", "number") \
            and not any(category(f) in ("code", "number") for f in facts):
        value = bare_code(user_text)
        if value is not None and (category(known[-1]) == "code" or value.isdigit()):
            facts.append(Fact(known[-1].kind, value, turn))
    return facts


def merge(known: list[Fact], new: list[Fact], user_text: str) -> list[Fact]:
    """The fact store after a turn: a correction ("no, not Tuesday, Thursday the sixteenth") or a
    new value for a one-per-caller slot replaces the earlier value of that slot."""
    if not new:
        return known
    correcting = bool(_CORRECTION.search(user_text))
    new = relabel(known, new, user_text)
    slots = {f.kind for f in new}
    kept = [f for f in known if f.kind not in slots or not (correcting or f.kind in _ONE_PER_CALLER)]
    return kept + new


_GENERIC = {"spelled"}  # slots named by the value's shape, not by the caller


def relabel(known: list[Fact], new: list[Fact], user_text: str) -> list[Fact]:
    """In a correction, a value with no slot word ("no, it's A L V E R E Z") takes the slot of the
    latest value, when that has its shape."""
    if not _CORRECTION.search(user_text):
        return new
    return [_slot_of_latest(f, known) if f.kind in _GENERIC else f for f in new]


def _slot_of_latest(fact: Fact, known: list[Fact]) -> Fact:
    """The caller corrects what was said last (the agent's read-back of it): the latest value, if it
    has the same shape (letters only, in capitals)."""
    if known and known[-1].text.isalpha() and known[-1].text.isupper():
        return Fact(known[-1].kind, fact.text, fact.turn)
    return fact


def _shown(f: Fact) -> str:
    if f.text.isalpha() and f.text.isupper() and len(f.text) > 2:  # spelled letters
        return f"{f.text.capitalize()} (spelled {'-'.join(f.text)})"
    return f.text


def annotation(known: list[Fact], new: list[Fact], user_text: str) -> str:
    """What the next reply is told about this turn's details, after the caller's words: each value in
    canonical form, and which earlier value it replaces. Written into the user turn itself (not a
    note re-sent every turn), so it costs its few tokens of prefill once."""
    if not new:
        return ""
    after = merge(known, new, user_text)
    new = relabel(known, new, user_text)
    parts = []
    for f in _unique(new):
        replaced = [k.text for k in known if k.kind == f.kind and k not in after and k.text != f.text]
        parts.append(f"{f.kind} = {_shown(f)}" + (f", replacing {', '.join(replaced)}" if replaced else ""))
    return "(Details as heard: " + "; ".join(parts) + ")"


def _unique(facts: list[Fact]) -> list[Fact]:
    seen, out = set(), []
    for f in facts:
        if (f.kind, f.text) not in seen:
            seen.add((f.kind, f.text))
            out.append(f)
    return out


def note(facts: list[Fact], summary: str = "") -> str:
    """The memory note for turns no longer in the model's context: the rolling summary, then the
    caller's facts verbatim (the summary may paraphrase; the facts never do)."""
    parts = []
    if summary:
        parts.append(f"Summary of the earlier part of this call (no longer in the transcript below): {summary}")
    lines = [f"- {f.kind}: {_shown(f)} (turn {f.turn})" for f in _unique(facts)]
    if lines:
        parts.append("Earlier in this call, no longer in the transcript below, the caller said (verbatim):\n"
                     + "\n".join(lines))
    return "\n\n".join(parts)
