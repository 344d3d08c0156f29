"""Recall: a caller who asks for a value they gave gets it from the fact store, word for word.

"What was my confirmation code?" is the question a call is lost on: a 1.5B model, handed the code
in its context, still answers "Sure, let's use your confirmation code", repeats the value a
correction replaced, or re-joins the letters wrongly. A call-centre agent reads it off the screen.
So does parley: a question that asks for one of the caller's own values ("which day did I want",
"what e-mail address do you have for me", "can you repeat my policy number") is answered from the
fact store — the latest value, correction applied — with no LLM call, or stated before the LLM's
answer when the turn also asks something else. A question the rules do not recognise goes to the
LLM as before: recall never guesses. Nor does the agent: asked for an e-mail address or a street
address it was never given (or never caught), the model invents one ("I have your address listed
as 123 Elm St, Anytown, USA."), so where nothing of that kind is in the store or in anything the
caller said, the agent says it does not have it (`missing`).
"""

from __future__ import annotations

import re

from parley.dialogue.memory import Fact, category

# What the caller calls each kind of value; a slot named by the caller ("policy number",
# "confirmation code") is also called by its own words.
_CALLED = {
    "email": ("email", "e-mail", "mail"),
    "date": ("date", "day"),
    "time": ("time",),
    "address": ("address",),
    "spelled": ("name", "surname", "spelling"),
    "name": ("name",),
}
_NAMES = ("name", "surname", "last name", "first name", "family name")
_GENERIC = {"number", "code", "no", "id"}  # slot words too general to pick a value on their own
_ASK = re.compile(r"\b(what|what's|which|whose|when|where|remind me|repeat|read|tell me|confirm|say again|do you have"
                  r"|have you got|did you get|check)\b", re.IGNORECASE)
_MINE = re.compile(r"\b(my|me|i|i've|i'd|mine|you have|have you got)\b", re.IGNORECASE)
# "What name is the booking under?": the name a record of the caller's is kept under is theirs, though
# the question has no "my"
_UNDER = re.compile(r"\b(what|which|whose)( \w+)? (sur|last |family )?name\b[\w' ]{0,40}\b(under\b|in\W*$)"
                    r"|\bunder (what|which|whose) (sur|last |family )?name\b", re.IGNORECASE)
# after the slot's words, a recall question goes on with a verb or ends; "my order status" asks
# about something else
_THEN = {"", "did", "do", "does", "are", "is", "was", "were", "again", "that", "which", "i", "you", "on", "for",
         "please", "have", "had", "we", "back", "to", "in", "under", "from", "earlier", "before", "and", "my", "the",
         "it", "one"}
_WINDOW = 5  # words from the question word to the slot's words
# A short turn that ends on "my <slot>" is the caller asking for it, whatever the ASR made of the
# question's head ("Let's let my confirmation code" for "What was my confirmation code?") — unless its
# words state, give, change or replace the value, or thank for it.
_ELLIPSIS_MAX_WORDS = 6
_NOT_ASKING = re.compile(r"\b(change|changed|update|correct|new|replace|different|wrong|not|isn't|cancel"
                         r"|is|was|are|it's|that's|yes|yeah|thanks|thank|here|here's|give|giving)\b")
# "which … number did I give you": the caller asks for a value of their own, whatever the ASR made of
# the slot's name ("order" heard as "water")
# "What have you put me down for?", "When am I booked in?": what the caller is booked for is its day
# and time, whatever the ASR made of the slot's name ("What do they have you put me down for?")
_BOOKED = re.compile(r"\b(put|book|booked|pencil|pencilled|penciled|schedule|scheduled|have|got) me (down |in )?for\b"
                     r"|\b(am|was) i (booked|scheduled|down|pencilled|penciled)\b|\bhave i booked\b")
_STATED = re.compile(r"\b(did|have|had) i (just )?(mention|mentioned|give|given|say|said|tell|told|provide|provided|"
                     r"read|spell|spelled|quote|quoted)\b")


def words_for(fact: Fact) -> set[str]:
    """The words a caller may use for this fact's slot."""
    kind = "spelled" if fact.kind in _NAMES else fact.kind
    called = set(_CALLED.get(kind, ()))
    if kind not in _CALLED:
        called |= {w for w in fact.kind.split() if w not in _GENERIC} or set(fact.kind.split())
        called |= {"number"} if category(fact) == "number" else {"code"} if category(fact) == "code" else set()
    return called


def asked(text: str, facts: list[Fact]) -> list[Fact]:
    """The stored values `text` asks for, latest per slot; [] when it asks for none."""
    if not _MINE.search(text):
        facts = [f for f in facts if f.kind in _NAMES or f.kind == "spelled"] if _UNDER.search(text) else []
    if not facts:
        return []
    words = re.findall(r"[a-z]+(?:[-'][a-z]+)?", text.lower())
    joined = " ".join(words)
    questions = [joined[:m.start()].count(" ") for m in _ASK.finditer(joined)] + _elliptic(words)
    if not questions:
        return []
    chosen: dict[str, Fact] = {}
    stated = bool(_STATED.search(joined))
    for fact in facts:
        called = words_for(fact)
        sole = stated and _sole(fact, facts)
        for q in questions:
            span = words[q:q + _WINDOW + 1]
            hits = [j for j, w in enumerate(span) if w in called and (sole or not _other_slot(span, j, called))]
            if not hits:
                continue
            after = q + hits[-1] + 1
            while after < len(words) and words[after] in called | _GENERIC | {"address"}:
                after += 1
            nxt = words[after] if after < len(words) else ""
            if nxt in _THEN and not (fact.kind != "email" and _says_email(span)):
                chosen[fact.kind] = fact  # facts are in turn order: the latest wins
                break
    if not chosen and _BOOKED.search(joined):
        chosen = {f.kind: f for f in facts if f.kind in ("date", "time")}
    specific = {k: f for k, f in chosen.items() if not _generic_hit(text, f)}
    return list((specific or chosen).values())


# Kinds the entity grammar reads in nearly every form a caller gives them, each with the words that
# show the caller said something of the kind (then the model answers from what was heard, right or
# wrong: the caller hears it and can correct it).
_NEVER_GIVEN = (
    ("email", "e-mail address", re.compile(r"@|\b(dot|gmail|outlook|hotmail|yahoo|icloud)\b|\w\.(com|net|org|co|io)\b",
                                           re.IGNORECASE)),
    ("address", "address", re.compile(r"\b(street|avenue|road|lane|drive|boulevard|terrace|crescent|apartment|flat"
                                      r"|postcode|zip)\b", re.IGNORECASE)),
)
_OWN = re.compile(r"\bmy\b|\bfor me\b|\bon (file|record)\b|\b(did|have|had) i\b", re.IGNORECASE)


def _elliptic(words: list[str]) -> list[int]:
    """Where a short turn ending on "my" + slot words asks with its head lost: the "my"'s index."""
    if len(words) > _ELLIPSIS_MAX_WORDS or "my" not in words[-4:-1]:
        return []
    at = len(words) - 1 - words[::-1].index("my")
    return [] if _NOT_ASKING.search(" ".join(words)) else [at]


def missing(text: str, facts: list[Fact], caller_said: str) -> str | None:
    """What the caller asks for as their own ("which address do you have for me?") when it is of a
    kind they never gave: nothing of it in the store nor its shape in `caller_said` (all their
    words in this call); None otherwise."""
    if not _OWN.search(text):
        return None
    for kind, label_, shape in _NEVER_GIVEN:
        if any(category(f) == kind for f in facts) or shape.search(f"{caller_said} {text}"):
            continue
        if asked(text, [Fact(kind, "", 0)]):
            return label_
    return None


def missing_line(what: str) -> str:
    return f"Sorry, I don't have your {what} yet. Could you give it to me?"


def _other_slot(span: list[str], j: int, called: set[str]) -> bool:
    """"tracking number" names another slot than "order number": a generic word counts only after
    the fact's own words or a plain determiner."""
    return span[j] in _GENERIC and j > 0 and span[j - 1] not in called | _DETERMINERS


def _sole(fact: Fact, facts: list[Fact]) -> bool:
    """Is this the only slot holding a value of its shape? Then "which … number did I give you" can
    mean nothing else, and the answer names the slot, so a caller who meant another hears which it is."""
    return all(f.kind == fact.kind for f in facts if category(f) == category(fact))


_DETERMINERS = {"my", "the", "your", "a", "that", "this", "what", "which", "what's", "is", "was", "of", "me"}


def _says_email(span: list[str]) -> bool:
    return any(w in ("email", "e-mail", "mail") for w in span)


def _generic_hit(text: str, fact: Fact) -> bool:
    """Was the fact picked only by a generic word ("number", "code")?"""
    own = words_for(fact) - _GENERIC
    return not any(re.search(rf"\b{re.escape(w)}\b", text, re.IGNORECASE) for w in own)


def only_asks(text: str) -> bool:
    """Is the recall question all the turn asks? ("What was my code, and can I use it online?" is not.)"""
    sentences = [s for s in re.split(r"(?<=[.?!])\s+|,?\s+and\s+(?=(?:can|could|do|does|is|are|what|how|when|where|will)\b)",
                                     text.strip()) if s and re.search(r"[a-z]", s, re.IGNORECASE)]
    return sum(bool(_ASK.search(s) or "?" in s) for s in sentences) <= 1


def label(fact: Fact) -> str:
    """What the value is called when it is said back: "order" → "order number"."""
    if fact.kind == "email":
        return "e-mail address"
    if fact.kind == "spelled":
        return "spelling"
    if (fact.kind.split()[-1] in _GENERIC | {"reference"} or fact.kind in _NAMES
            or fact.kind in ("date", "time", "address", "flight")):
        return fact.kind
    return f"{fact.kind} {'number' if category(fact) == 'number' else 'code'}"


def line(facts: list[Fact], spoken, disputed: bool = False) -> str:
    """"The confirmation code I have is K 7 Q 4 2." — `spoken` renders a value for speech. Values
    the caller said were wrong (`disputed`) are said as what they are, and asked for again."""
    parts = [f"the {label(f)} I have is {_said(f, spoken)}" for f in facts]
    text = ", and ".join(parts)
    text = text[0].upper() + text[1:]
    if disputed:
        return f"{text}, but you told me that was not right. Could you give it to me again?"
    return text + "."


def _said(fact: Fact, spoken) -> str:
    if category(fact) == "spelled":
        return f"{fact.text.capitalize()}, {spoken(fact)}"
    return spoken(fact)
