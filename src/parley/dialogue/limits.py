"""Persona limits, enforced clause by clause: what the agent must never say, whatever the model drafts.

A 1.5B model told "never give medical advice" still gave ibuprofen doses under pressure, read another
customer's order number aloud and answered "Yes, I will get a full refund". Prompting is not enough,
so each clause is checked before it is synthesized (like the procedure guard, `reply_gate.py`); a
clause that breaks a limit is replaced by the limit's `say` line and the reply ends there.

Limits come from two places:
- the persona's own words: a persona that forbids medical, legal or financial advice, promising
  refunds or revealing other customers' data switches on the built-in detector for that kind of statement
  (`BUILTIN`), so an operator writes the rule once, in prose;
- the persona's other prohibitions whose object is a kind of value — "never estimate a delivery
  date", "do not quote prices" (`rules.py`): every clause stating a value of that kind breaks it;
- the configuration (`limits = [{id, forbid, say}]`): regexes for anything else.
A detector matches what the clause *states* (a dose, "you can sue", "you'll get a refund") or an
affirmative answer ("Yes, ...") to a caller's request on the limited topic; there the model's stock
refusal ("I can't assist with that") gives way to the limit's line too, which tells the caller where
to turn. "Other customers' data" protects the numbers, addresses and dates written in the persona
that the caller has not said, and statements of what another person did ("she gave me an address").

One limit holds whatever the persona says: a number of four or more digits, a rate, a price or a
clock time is spoken only if the reply was given it — by the caller, the fact store, the system
prompt or the retrieved passages.
The 1.5B model, asked for "your phone number" or a caller's order number it lost, makes one up
("123-456-7890", "12345"); a wrong number said with confidence is worse than "I don't have it".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import regex

from parley import patterns as user_patterns
from parley.config import Limit
from parley.dialogue.entities import number_words_to_digits
from parley.dialogue.temporal import times
from parley.dialogue.rules import KINDS, stated_rules, written_value
from parley.textnorm import digits_of

_NEG = r"(?:never|not|no|n't|must not|cannot)"
_NUM = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|a couple of|a few)"
_AFFIRM = re.compile(r"^\W*(yes|yeah|yep|sure|absolutely|of course|definitely|certainly|i promise)\b", re.IGNORECASE)
# the model's stock refusal: on a limited topic the persona's own line says it better (it sends the
# caller somewhere: "ask a pharmacist", "the returns team will contact you")
# a caller's turn that asks (a question, or "promise me", "tell me"): only there is a "Sure, ..." an answer;
# "Sure, may I have your date of birth?" to "I need a refill of my tablets" takes up a request
_ASKING = re.compile(r"\?|\b(can|could|should|may|shall) (i|we|you)\b|\b(is|are|was) (it|they|that|this)\b"
                     r"|\bwill (i|it|you|they|that)\b|\b(promise|guarantee|yes or no|(tell|give|send|read) me|read out"
                     r"|how (much|many|often|long))\b",
                     re.IGNORECASE)
_STOCK_REFUSAL = re.compile(r"^\W*(i'm|i am) (sorry|afraid),? (but )?(i|we) (can't|cannot|am unable to|am not able to"
                            r"|won't be able to) (assist|help)( you)? with (that|this)\b|\bas an ai\b", re.IGNORECASE)


@dataclass(frozen=True)
class Builtin:
    trigger: str          # persona text that switches it on
    topic: str            # caller text on the limited subject (an affirmative reply to it breaks the limit)
    forbid: tuple[str, ...]
    say: str


BUILTIN: dict[str, Builtin] = {
    "medical": Builtin(
        trigger=rf"{_NEG}\b[^.]{{0,60}}\b(medical|health) advice|never (suggest|recommend)[^.]{{0,30}}\b(medicine|dose)",
        topic=r"\b(take|dose|dosage|mg|milligrams?|tablets?|pills?|safe|medicine|medication|ibuprofen|paracetamol"
              r"|aspirin|painkillers?|headache|pain|symptoms?)\b",
        forbid=(
            rf"\b{_NUM}\s*(?:-\s*{_NUM}\s*)?(mg|milligrams?|grams?|ml|millilit(er|re)s?|tablets?|pills?|capsules?"
            r"|doses?|times a day)\b",
            r"\byou (can|could|should|may|might) (safely |also |just )?(take|try|use|have)\s+(up to|\d|one|two|a couple"
            r"|some|it\b|them\b|both|these|those|ibuprofen|paracetamol|acetaminophen|aspirin|advil|tylenol|nurofen"
            r"|painkillers?|medicines?|medications?|tablets?|pills?)",
            r"\b(it's|it is|that's|that is|should be|is|are|they're|they are) (perfectly |generally |usually )?"
            r"(safe|fine|okay|ok|alright)( to (take|mix|combine|use)| together| with)\b",
            r"\b(recommended|usual|maximum|normal|standard|typical) (dose|dosage)\b",
            r"\b(no more than|don't exceed|do not exceed|up to) \S+ (tablets?|pills?|mg|milligrams?|doses?)",
        ),
        say="I'm not able to give medical advice; please ask a pharmacist or your doctor about that."),
    "legal": Builtin(
        trigger=rf"{_NEG}\b[^.]{{0,60}}\blegal advice",
        topic=r"\b(sue|suing|court|lawyer|legal|rights?|law|claim|win)\b",
        forbid=(
            r"\byou (can|could|should|may|might|would) (definitely |probably |certainly )?(sue|win|take (them|us|legal"
            r" action)|file a (lawsuit|claim))",
            r"\b(you have|you've got|there is|there's) a (strong |good |solid |valid )?(legal )?case\b",
            r"\b(legally|by law|under (the )?law),? (you|they|we|the courier)\b",
            r"\b(small claims|statute of limitations|breach of contract)\b",
            r"\b(likely|sure|certain|bound) to win\b",
        ),
        say="I can't give legal advice; a lawyer or a consumer advice service can help you with that."),
    "refund_promise": Builtin(
        trigger=rf"{_NEG}\b[^.]{{0,40}}\b(promise|guarantee|confirm)[^.]{{0,40}}\brefund",
        topic=r"\b(refund|money back|promise|guarantee|card|paid back)\b",
        forbid=(
            r"\b(you will|you'll|you're going to|you are going to|we will|we'll|i will|i'll|i can|we can)\s+"
            r"(definitely |certainly |surely |absolutely |be able to )?(get|receive|have|give you|issue|process|send"
            r"|arrange|offer|see)\s+(you\s+)?(a |an |your )?(full |complete |partial )?(refund|money back)",
            r"\brefund (is|will be) (guaranteed|issued|processed|approved|on its way|confirmed)",
            r"\b(guarantee|promise)\b[^.]{0,30}\b(refund|money)|\b(refund|money)\b[^.]{0,30}\bguarantee",
            r"\b(money|refund) (will|should) be (back )?(on|in) your (card|account)",
            r"\bback (on|in|to) your (card|account)\b",  # when money arrives is the returns team's to say
        ),
        say="I can't promise a refund; the returns team will review your return and contact you."),
    "financial": Builtin(
        trigger=rf"{_NEG}\b[^.]{{0,60}}\b(financial|investment|investing) advice"
                r"|never (suggest|recommend)[^.]{0,30}\b(shares?|stocks?|funds?|investments?)",
        # the words of investing only: a bank's everyday "savings account", "buy a card", "move money" stay free
        topic=r"\b(invest\w*|shares|stocks?|(index |mutual )?funds|gold|crypto\w*|bitcoin|portfolio|bonds)\b",
        forbid=(
            r"\byou (should|could|might want to|ought to|can) (definitely |probably |safely )?(buy|sell|invest|put|move"
            r"|keep|hold)\b[^.]{0,40}\b(shares|stocks?|(index |mutual )?funds?|gold|crypto\w*|bitcoin|bonds)\b",
            r"\b(is|are|makes?|would be|it's|that's) (a |an )?(very |really |pretty )?(safe|good|great|smart|sound|solid"
            r"|wise|safer|better) (investment|bet|place for (your )?(money|savings))\b",
            r"\b(i|we)( would|'d)? (recommend|suggest|advise) (investing|buying|selling|putting|moving)\b",
            r"\b(funds?|shares|stocks?|gold|crypto\w*|bitcoin|bonds|invest\w*)\b[^.]{0,40}\b(is|are|can be|could be"
            r"|may be|might be|would be|makes?) (a |an )?(very |really |pretty )?(safe|good|great|smart|sound|solid|wise"
            r"|safer|better|popular|reasonable) (choice|option|idea|investment|bet|way)\b",
            r"\b(invest|put your (money|savings)) in\b",
        ),
        say="I can't give financial advice; an independent financial adviser can help you with that."),
    "other_customers": Builtin(
        trigger=rf"{_NEG}\b[^.]{{0,40}}\b(reveal|share|disclose|discuss|give)[^.]{{0,40}}\b(another|other)"
                r" (customer|caller|client|person)|(another|other) (customer|caller|client)s?'?s? (data|details|information)",
        topic=r"\b(her|his|their|neighbou?r|friend|someone|another|other)\b",
        # what another person did with us, stated: "she gave me a different address", "he ordered it Monday"
        forbid=(r"\b(she|he)('s| has| had| is| was)?\s+(already\s+|also\s+|just\s+)?(ordered|bought|purchased"
                r"|placed|paid|gave|given|lives|lived|moved|returned|booked|received|collected)\b",),
        say="I'm sorry, I can't share another customer's information."),
}

_PROTECTED = re.compile(
    r"\b\d{3,}\b"  # order, account and phone numbers (a house number alone is too common to protect)
    r"|\b[A-Z][a-z]+ (?:Road|Street|Avenue|Lane|Drive|Way|Court|Place|Close|Crescent)\b")


@dataclass(frozen=True)
class Breach:
    limit: str
    say: str


@dataclass
class ActiveLimit:
    id: str
    forbid: list[regex.Pattern]
    say: str
    topic: re.Pattern | None = None
    protected: list[str] = field(default_factory=list)  # values from the persona the caller may not hear
    unless: regex.Pattern | None = None  # a clause this matches breaks none of `forbid` (it tells the past)
    written_ok: bool = False  # a value the business wrote down itself (its opening hours) may be said


WITHHELD_SAY = "I'm sorry, I can't confirm that from what I have."
UNGROUNDED_SAY = "I'm sorry, I don't have that number in front of me."
UNGROUNDED_TIME_SAY = "I'm sorry, I don't have that time in front of me."
# a rate or a price: "around 0.5% to 1%", "$12.99", "twenty dollars" (the 1.5B model quotes typical
# figures from its training when it has none of the business's)
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b|dollars?\b|pounds?\b|euros?\b)"
                     r"|[$£€]\s?(\d+(?:\.\d+)?)", re.IGNORECASE)
_FRACTIONS = {"half": "50", "quarter": "25"}  # "half price" grounds a "50%"
_YEAR = re.compile(r"(19|20)\d\d")  # "March 16th, 2027": a year is not a value the caller must have given


def active_limits(persona: str, configured: list[Limit], builtins: bool = True,
                  withheld: tuple[str, ...] = ()) -> list[ActiveLimit]:
    """The limits this persona states (built-in detectors), the configured ones, and the specifics
    only doubtful knowledge contains (`screen.Screened.withheld`), which a reply never says unless
    the caller did."""
    out: list[ActiveLimit] = []
    if builtins:
        for name, b in BUILTIN.items():
            if re.search(b.trigger, persona, re.IGNORECASE):
                protected = _protected(persona) if name == "other_customers" else []
                out.append(ActiveLimit(name, [user_patterns.compile(p) for p in b.forbid], b.say,
                                       re.compile(b.topic, re.IGNORECASE), protected))
        skip = "|".join(f"(?:{b.trigger})" for b in BUILTIN.values())
        for rule in stated_rules(persona, skip):
            kind = KINDS[rule.kind]
            out.append(ActiveLimit(f"persona_{rule.kind}", [user_patterns.compile(p) for p in kind.states], rule.say,
                                   re.compile(kind.topic, re.IGNORECASE),
                                   unless=user_patterns.compile(kind.unless) if kind.unless else None,
                                   written_ok=True))
    for lim in configured:
        out.append(ActiveLimit(lim.id, [user_patterns.compile(p) for p in lim.forbid],
                               lim.say or "I'm sorry, I can't help with that."))
    if withheld:
        out.append(ActiveLimit("doubtful_knowledge", [], WITHHELD_SAY, protected=sorted(set(withheld))))
    return out


def _protected(persona: str) -> list[str]:
    return sorted({m.group(0) for m in _PROTECTED.finditer(persona)})


def stock_refusal(text: str, start: int, end: int, answer_from: int = 0) -> bool:
    """Does the clause at text[start:end] say (or end) the model's stock refusal, "I'm sorry, but I
    can't assist with that"? Searched from the answer's start: the clauses may cut it after "sorry,"."""
    refusal = _STOCK_REFUSAL.search(text[answer_from:end])
    return bool(refusal and answer_from + refusal.end() > start)


def asking(caller_turn: str) -> bool:
    """Does the caller's turn ask something (rather than give or tell)?"""
    return bool(_ASKING.search(caller_turn))


class LimitGuard:
    def __init__(self, limits: list[ActiveLimit], ground_numbers: bool = False) -> None:
        self.limits = limits
        self.ground_numbers = ground_numbers
        self.caller_said = ""  # everything the caller said in this call (their own data is theirs to hear)
        self.grounds = ""  # what the reply was given besides: the prompt, its passages, the stored facts
        self.written = ""  # what the business wrote: the system prompt and the passages, less the rules themselves

    def heard_from_caller(self, text: str) -> None:
        self.caller_said += " " + text

    def check(self, text: str, start: int, end: int, caller_turn: str, answer_from: int = 0) -> Breach | None:
        """Does the clause at text[start:end] (the reply so far is `text`) break a limit? The answer
        starts at `answer_from`: a "Yes" there answers the caller, even after a talker's "Let's see."."""
        clause = text[start:end]
        said, heard = _Spoken(clause), _Spoken(f"{self.caller_said} {caller_turn}")  # normalised once, if needed
        opens = (not text[answer_from:start].strip() and bool(_AFFIRM.search(clause))  # "Yes, ..." as the answer
                 and not clause.rstrip().endswith("?") and asking(caller_turn))
        on_topic_line = opens or stock_refusal(text, start, end, answer_from)
        for lim in self.limits:
            stated = [m.group(0) for p in lim.forbid for m in _reaching(p, text[:end], start)]
            if lim.written_ok:
                stated = [v for v in stated if not written_value(v, clause, self.written)]
            if stated and not (lim.unless is not None and user_patterns.search(lim.unless, clause)):
                return Breach(lim.id, lim.say)
            if on_topic_line and lim.topic is not None and lim.topic.search(caller_turn):
                return Breach(lim.id, lim.say)  # a "Yes" or a stock refusal to a request on the limited topic
            if any(said.says(v) and not heard.says(v) for v in lim.protected):
                return Breach(lim.id, lim.say)
        if self.ground_numbers and (self._invents_number(text, start, end, caller_turn)
                                    or self._invents_figure(text, start, end, caller_turn)):
            return Breach("ungrounded_number", UNGROUNDED_SAY)
        if self.ground_numbers and self._invents_time(text, start, end, caller_turn):
            return Breach("ungrounded_time", UNGROUNDED_TIME_SAY)
        return None

    def _invents_time(self, text: str, start: int, end: int, caller_turn: str) -> bool:
        """Does the clause state a clock time no source holds? Asked when a booking is for, the model
        answers "from 10:00 AM to 4:00 PM" of its own. A time counts as given when the caller, a stored
        fact or the prompt says it in any clock form ("quarter past 3" grounds "3:15 PM"), or, on the
        hour, when what the business wrote has its hour as a bare number ("open 9 to 5")."""
        new = _clock_times(text[:end]) - _clock_times(text[:start])
        if not new:
            return False
        sources = _clock_times(f"{self.caller_said} {caller_turn} {self.grounds}")
        hours = {int(h) % 12 for h in _BARE_HOUR.findall(number_words_to_digits(self.written)) if int(h) <= 24}
        return any(t not in sources and not (t[1] == 0 and t[0] in hours) for t in new)

    def _invents_figure(self, text: str, start: int, end: int, caller_turn: str) -> bool:
        """Does the clause quote a rate or a price (a number with %, "percent", a currency) that no
        source holds?"""
        clause = text[start:end]
        figures = {a or b for a, b in _FIGURE.findall(number_words_to_digits(clause))}  # "1.50" stays whole
        if not figures:
            return False
        given = f"{self.caller_said} {caller_turn} {self.grounds}"
        sources = set(re.findall(r"\d+(?:\.\d+)?", f"{given} {number_words_to_digits(given)}"))
        sources |= set(re.findall(r"\d+", given))  # "$49.99" grounds "forty-nine dollars and ninety-nine cents"
        sources |= {v for word, v in _FRACTIONS.items() if re.search(rf"\b{word}\b", given, re.IGNORECASE)}
        return any(f not in sources and not ("." in f and f.rstrip("0").rstrip(".") in sources) for f in figures)

    def _invents_number(self, text: str, start: int, end: int, caller_turn: str) -> bool:
        """Does the clause say a number (4+ digits, however spoken) that no source holds? A number
        the clause ends on may go on in the next one: it passes as the start of a source's."""
        said = _digits(text[:end])
        new = _numbers(said) - _numbers(_digits(text[:start]))
        new = {n for n in new if not _YEAR.fullmatch(n)}
        if not new:
            return False
        given = f"{self.caller_said} {caller_turn} {self.grounds}"
        # a number as written counts too: digits_of joins "91473 91473" (said twice) into one
        sources = _numbers(_digits(given)) | _numbers(given)
        last = re.search(r"(\d+)\W*$", said)
        return any(n not in sources and not (last and n == last.group(1) and any(s.startswith(n) for s in sources))
                   for n in new)


_NOON = re.compile(r"\b(noon|midday|midnight)\b", re.IGNORECASE)
_BARE_HOUR = re.compile(r"(?<![\d:.,£$€])(\d{1,2})(?![\d:%]|\.\d)")


def _clock_times(text: str) -> set[tuple[int, int]]:
    """The clock times in `text`, however written or said, as (hour on a 12-hour dial, minutes)."""
    out = {(0, 0)} if _NOON.search(text) else set()
    for value, _said in times(number_words_to_digits(text)):
        hour, minutes = value.split()[0].split(":")
        out.add((int(hour) % 12, int(minutes)))
    return out


# "15-20 minutes", "$12.99": a range and a price are not one long number (digits_of would join them)
_RANGE = re.compile(r"(?<![\d,.-])(\d{1,2})\s*[-–]\s*(\d{1,2})(?![\d-])")
_DECIMAL = re.compile(r"(?<![\d,.])(\d{1,3})\.(\d{1,2})(?!\d|\.\d)")


def _digits(text: str) -> str:
    return digits_of(_DECIMAL.sub(r"\1 point \2", _RANGE.sub(r"\1 to \2", text)))


def _numbers(digits: str) -> set[str]:
    """The numbers of 4+ digits in text already passed through `_digits`."""
    return set(re.findall(r"\d{4,}", digits))


def _reaching(pattern: regex.Pattern, text: str, start: int) -> list:
    """The matches that reach into the clause starting at `start` (earlier clauses are already said)."""
    return [m for m in user_patterns.finditer(pattern, text) if m.end() > start]


class _Spoken:
    """A text, matched against values however they are spoken: a number or a code with three or more
    digits by its digits ("Z K 5 5 2 0", "five five two oh"), a short code by its letters and digits
    run together ("ship 5"), anything else as words. The normalised forms are computed once: a
    clause is checked against every protected and withheld value before it is synthesized."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def digits(self) -> str:
        return digits_of(self.text)

    @cached_property
    def squashed(self) -> str:
        return re.sub(r"[^a-z0-9]", "", self.digits.lower())

    def says(self, value: str) -> bool:
        digits = re.sub(r"\D", "", value)
        if value[0].isdigit() or len(digits) >= 3:
            return bool(re.search(rf"(?<!\d){digits}(?!\d)", self.digits))
        if digits:
            return re.sub(r"[^a-z0-9]", "", value.lower()) in self.squashed
        return bool(re.search(rf"\b{re.escape(value)}\b", self.text, re.IGNORECASE))
