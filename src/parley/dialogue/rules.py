"""Rules a persona states in prose that no built-in detector knows: what kind of statement they
forbid, read from the rule's own words.

"Never promise or estimate a delivery date or time: only the delivery team can" is a rule the 1.5B
model breaks on the first ask ("You should expect it within the next two weeks", "It should be this
week"); prompting alone does not hold it. What such a rule forbids is usually a kind of value — a
date or a time, a price — and a value of that kind is easy to spot in a clause. So a prohibition
whose object names one (`KINDS`) forbids every clause that states a value of that kind; the clause
is replaced by a line made from the rule itself ("I'm sorry, I can't promise or estimate a delivery
date or time: only the delivery team can, …"), with the persona's "the customer" turned to "you".
A clause about the past ("you ordered it two weeks ago") states no promise and passes. A rule whose
object is no kind of value ("never discuss competitors") gets no detector: the prompt is all it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.dialogue.entities import number_words_to_digits
from parley.dialogue.temporal import DATE, MONTHS, TIME, WEEKDAYS

# a prohibition, and what it forbids up to the end of its clause: "Never promise or estimate a delivery date"
_PROHIBITION = re.compile(
    r"\b(?:you (?:must|should|may) never|never(?: ever)?|do not|don't|must not|mustn't|may not|should not|are not"
    r" (?:allowed|permitted) to|under no circumstances)\s+(?P<what>[^.:;!?]+?)(?=\s*(?:[.:;!?]|\s[-–—]\s|, (?:because|as|since)"
    r"\b|$))(?:\s*(?::|;|\s[-–—]\s|,)\s*(?P<why>(?:(?<=, )(?:because|as|since)\b)?[^.!?]+))?",
    re.IGNORECASE)

_N = (r"(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
      r"|a few|a couple of|several|few)")
_DURATION = (rf"\b{_N}(?:\s*(?:-|–|to|or)\s*{_N})? (?:more |extra )?(?:business |working |calendar )?"
             r"(?:days?|weeks?|months?|hours?)\b(?! ago)")


@dataclass(frozen=True)
class Kind:
    """A kind of value a rule can forbid: `names` in the rule's object, `states` in a clause."""
    names: str
    states: tuple[str, ...]
    topic: str  # a caller's turn that asks for a value of this kind (a "Yes" to it states one)
    unless: str | None = None  # a clause this says is about what already happened


KINDS: dict[str, Kind] = {
    "dates": Kind(
        names=r"\b(dates?|times?|days?|when|how long|timescales?|timelines?|timeframes?|eta|arrival|schedule|deadlines?)\b",
        states=(rf"\b({WEEKDAYS}|tomorrow|tonight|weekend)\b",
                r"\b(this|next|coming|following) (week|month|year)\b|\bend of (the|this|next) (week|month)\b",
                r"\b(later today|by the end of (the )?day|this (afternoon|evening))\b",
                # a day named relative to another: "on the same day", "the day after your order"
                r"\b(the )?(same|next|following) day\b|\bthe day (after|before)\b|\ba day or two\b",
                _DURATION, DATE.pattern, TIME.pattern,
                rf"\b(in|by|early|late|mid|before|until|end of) ({MONTHS})\b"),
        topic=r"\b(when|what time|what day|which day|how long|how soon|how many days|date|arrive|this week|next week"
              r"|rough idea|estimate)\b",
        unless=r"\b(ago|last|yesterday|was|were|did|had|ordered|placed|bought|paid|purchased|since)\b"),
    "prices": Kind(
        names=r"\b(prices?|costs?|fees?|quotes?|charges?|rates?|amounts?|discounts?|how much)\b",
        states=(r"\b\d+(?:\.\d+)?\s*(?:%|percent\b|per cent\b|dollars?\b|pounds?\b|euros?\b|bucks\b)|[$£€]\s?\d",
                rf"\b{_N} (dollars?|pounds?|euros?|percent|per cent)\b"),
        topic=r"\b(how much|price|cost|fee|charge|rate|discount|cheaper|expensive)\b"),
}

_CALLER = re.compile(r"\b(the (customer|caller|client|guest|patient)|customers|callers|clients|guests|patients)('s|s')?",
                     re.IGNORECASE)


# a rule forbids *stating* something: "never keep the caller waiting a long time" names a time but forbids no value
_STATING = re.compile(r"\b(promise|estimate|give|guarantee|quote|confirm|commit|say|tell|predict|state|offer|provide"
                      r"|share|mention|discuss|speculate|guess|disclose|reveal|read out|agree)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    kind: str
    what: str   # "promise or estimate a delivery date or time"
    say: str    # the line spoken instead of a clause that breaks it


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", " ".join(text.split()))


def stated_rules(persona: str, skip: str | None = None) -> list[Rule]:
    """The prohibitions in `persona` whose object is a kind of value (`KINDS`); a sentence that
    `skip` matches (a built-in detector's trigger) is left to that detector."""
    rules: list[Rule] = []
    for sentence in sentences(persona):
        if skip and re.search(skip, sentence, re.IGNORECASE):
            continue
        for m in _PROHIBITION.finditer(sentence):
            what = m.group("what").strip()
            if not _STATING.search(what):
                continue
            for name, kind in KINDS.items():
                if re.search(kind.names, what, re.IGNORECASE) and name not in {r.kind for r in rules}:
                    rules.append(Rule(name, what, _line(what, m.group("why"))))
    return rules


def _line(what: str, why: str | None) -> str:
    """ "I'm sorry, I can't <what>: <why>.", said to the caller: the persona's "the customer" is "you".
    A reason that speaks to the agent ("you can only explain how to submit one") is left out."""
    what = re.sub(r"\byour\b", "my", what, flags=re.IGNORECASE)
    if _CALLER.search(what):  # "tell patients when their results…": in the rule's own clause, they are the caller
        what = re.sub(r"\b(their|them|they)\b", lambda m: {"their": "your"}.get(m.group(1).lower(), "you"),
                      _CALLER.sub(_to_caller, what), flags=re.IGNORECASE)
    line = f"I'm sorry, I can't {what}"
    why = (why or "").strip()
    if why and not re.search(r"\b(you|your|yourself)\b", why, re.IGNORECASE):
        line += (", " if re.match(r"(because|as|since)\b", why) else ": ") + _CALLER.sub(_to_caller, why)
    return line.rstrip(" ,") + "."


def _to_caller(m: re.Match) -> str:
    return "your" if m.group(3) else "you"


def without_rules(text: str) -> str:
    """`text` less its prohibitions, their reasons kept: "never promise delivery on Sundays" does not
    write "Sunday" down, but in "never estimate a delivery date: the team calls the day before" the
    reason is the business's own account of what happens, which a reply may repeat."""
    return " ".join(_PROHIBITION.sub(lambda m: m.group("why") or "", s).strip() for s in sentences(text))


# the words around a value that are not the value: "by six pm" states "6"
_FRAME = {"by", "in", "on", "at", "the", "a", "an", "within", "about", "around", "until", "before", "from", "of",
          "to", "or", "and", "pm", "am", "p", "m", "o", "clock", "roughly", "approximately", "up"}
_COMMON = {"will", "would", "your", "with", "that", "this", "from", "have", "there", "they", "them", "what", "when",
           "which", "about", "been", "just", "also", "only", "then", "than", "into", "here", "were", "does", "each",
           "more", "some", "very", "sorry", "thank", "thanks", "please", "course", "sure", "could", "should", "their"}


def _words(text: str) -> set[str]:
    return {w.rstrip("s") if len(w) > 3 else w
            for w in re.findall(r"[a-z0-9]+(?:\.\d+)?", number_words_to_digits(text).lower())}


def _stems(words: set[str]) -> set[str]:
    return {w[:5] for w in words if len(w) > 3 and not w.isdigit() and w not in _COMMON}


def written_value(value: str, clause: str, written: str) -> bool:
    """Is the value a clause states ("6 pm", "on Saturdays") written in the business's own text (its
    hours, its price list), in a sentence about what the clause is about ("we close at 6 pm" and
    "the showroom … closed on Sundays" share "close")? Then saying it repeats the business; "your
    worktop comes on Saturday" shares nothing with the hours and still promises a day."""
    value_words = _words(value) - _FRAME
    if not value_words:
        return False
    about = _stems(_words(clause) - value_words)
    return any(value_words <= (seen := _words(sentence)) and about & _stems(seen - value_words)
               for sentence in re.split(r"(?<=[.!?])\s+", written))
