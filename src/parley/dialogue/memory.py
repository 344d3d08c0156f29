"""The verbatim fact store: what the caller said that must survive the history budget.

Names, numbers (order, phone, account, zip…), street addresses, dates and e-mail addresses are
copied word for word from each user turn, with the turn they came from. While the whole history fits
the model's window they are already in context; once the oldest turns drop out, the facts from the
dropped turns are given back to the model as a short note, so "what was my order number?" is
answered at turn 150 as at turn 3. Extraction is deliberately rule-based: it must never invent a
fact, and it costs nothing per turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.textnorm import digits_of

_NAME = re.compile(r"\b(?i:my name is|name's|i'm|i am|this is|call me)\s+([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)")
_NOT_NAMES = {"Sorry", "Just", "Calling", "Looking", "Here", "Fine", "Not", "Good", "Okay", "So", "Still", "Really"}
_NUMBER_CONTEXT = re.compile(
    r"\b(order|phone|account|card|zip|postcode|post code|confirmation|tracking|reference|membership|pin|code)"
    r"(?:\s+number)?\b", re.IGNORECASE)
_ADDRESS = re.compile(r"\b\d+\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|"
                      r"Blvd|Way|Court|Ct|Place|Pl|Terrace|Plaza)\b\.?")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+of\s+(?:{_MONTHS}))\b")
_EMAIL = re.compile(r"\b[\w.+-]+(?:@| at )[\w-]+(?:\.| dot )(?:com|org|net|edu|io|co)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    kind: str   # name | number | address | date | email
    text: str   # verbatim (numbers: the digits, with what they are)
    turn: int


def extract(user_text: str, turn: int) -> list[Fact]:
    facts: list[Fact] = []
    for m in _NAME.finditer(user_text):
        if m.group(1).split()[0] not in _NOT_NAMES:
            facts.append(Fact("name", m.group(1), turn))
    normalized = digits_of(user_text)
    for m in _NUMBER_CONTEXT.finditer(normalized):
        digits = re.search(r"\d[\d-]{2,}", normalized[m.end():m.end() + 40])
        if digits:
            facts.append(Fact("number", f"{m.group(0).lower()} {digits.group(0).replace('-', '')}", turn))
    facts += [Fact("address", m.group(0).rstrip("."), turn) for m in _ADDRESS.finditer(user_text)]
    facts += [Fact("date", m.group(0), turn) for m in _DATE.finditer(user_text)]
    facts += [Fact("email", m.group(0), turn) for m in _EMAIL.finditer(user_text)]
    return facts


def note(facts: list[Fact], summary: str = "") -> str:
    """The memory note for turns no longer in the model's context: the rolling summary, then the
    caller's facts verbatim (the summary may paraphrase; the facts never do)."""
    parts = []
    if summary:
        parts.append(f"Summary of the earlier part of this call (no longer in the transcript below): {summary}")
    seen, lines = set(), []
    for f in facts:
        if (f.kind, f.text) not in seen:
            seen.add((f.kind, f.text))
            lines.append(f"- {f.kind}: {f.text} (turn {f.turn})")
    if lines:
        parts.append("Earlier in this call, no longer in the transcript below, the caller said (verbatim):\n"
                     + "\n".join(lines))
    return "\n\n".join(parts)
