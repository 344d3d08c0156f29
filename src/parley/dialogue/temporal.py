"""Dates and times as callers say them, in canonical form: "Thursday the sixteenth", "the 16th of
March", "March 3rd, 2005"; "three thirty pm", "5.30pm", "half past two", "quarter to one", "at seven
thirty", "nine fifteen in the morning". Part of the entity grammar (`entities.py`), and what the
limits check a reply's dates and times against (`limits.py`, `rules.py`). Text comes in with number
words already digits (`entities.number_words_to_digits`).
"""

from __future__ import annotations

import re

from parley.textnorm import _TENS

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30}
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_ORD = r"(?:\d{1,2}(?:st|nd|rd|th)?|(?:twenty|thirty)[ -]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|" \
       + "|".join(_ORDINALS) + ")"
_YEAR = r"(?:,? ((?:19|20)\d\d)\b)?"  # a date of birth needs its year: "the fourth of June, 1972"
DATE = re.compile(rf"\b(?:({WEEKDAYS}),? )?(?:the )?({_ORD})(?: of)? ({MONTHS})\b{_YEAR}"
                  rf"|\b({MONTHS}) (?:the )?({_ORD})\b{_YEAR}|\b({WEEKDAYS}),? (?:the )?({_ORD})\b", re.IGNORECASE)
# "3pm", "3:30 pm", "5.30pm" (the British stop), "15:30"
TIME = re.compile(r"(?<![\d.:])\b(\d{1,2})(?:[:.]?(\d{2}))? ?([ap])\.? ?m\b|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)


def _day(tok: str) -> int | None:
    t = tok.lower().replace("-", " ")
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", t):
        return int(m.group(1))
    parts = t.split()
    if len(parts) == 2 and parts[0] in ("twenty", "thirty") and parts[1] in _ORDINALS:
        return _TENS[parts[0]] + _ORDINALS[parts[1]]
    return _ORDINALS.get(t)


def dates(text: str) -> list[tuple[str, str]]:
    out = []
    for m in DATE.finditer(text):
        if m.group(2):
            weekday, day, month, year = m.group(1), _day(m.group(2)), m.group(3), m.group(4)
        elif m.group(5):
            weekday, day, month, year = None, _day(m.group(6)), m.group(5), m.group(7)
        else:
            weekday, day, month, year = m.group(8), _day(m.group(9)), None, None
        if day is None or not 1 <= day <= 31:
            continue
        value = " ".join(x for x in (weekday and weekday.capitalize(), month and month.capitalize(),
                                      _ordinal(day)) if x) + (f", {year}" if year else "")
        out.append((value, m.group(0)))
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# the clock as people say it, number words already digits: "half past 2", "quarter to 4", "10 past 5",
# "5 o'clock" (no am / pm: the caller did not say which); "one" stays a word in the digits' reading.
# Only the minutes a clock is read in, and no unit after: "5 to 10 minutes", "2 to 3 days" are no time.
_CLOCK = re.compile(r"\b(?:(half|quarter|5|10|20|25)(?: minutes)? (past|after|to) (\d{1,2}|one)"
                    r"|(\d{1,2}|one) o'?clock)\b(?! ?(?:minutes?|mins?|hours?|days?|weeks?|months?|years?))",
                    re.IGNORECASE)


# "at seven thirty", "from 8.30", "nine fifteen in the morning": an hour and its minutes said as two
# numbers (read as one, "730") are a time after a word that places something in the day or before
# words that do; "730" alone may be anything.
_DAY_WORDS = r"(?:in the (?:morning|afternoon|evening)|tonight|this (?:morning|afternoon|evening)|today|tomorrow" \
             r"|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))"
_PLACED = r"\b(?:at|for|from|until|till|til|by|before|after|around|about|between) "
_NOT_A_TIME_AFTER = r"(?!\.\d| ?(?:[ap]\.? ?m\b|%|minutes?|mins?|hours?|days?|weeks?|months?|years?|dollars?|pounds?" \
                    r"|euros?|percent|people|guests|of)\b)"
_READ_CLOCK = re.compile(rf"(?:{_PLACED}|(?=\b\d+\.?\d* {_DAY_WORDS}))(?<!\d )(?<![\d.,:-])"
                         rf"\b(1[0-2]|0?[1-9])\.?([0-5]\d)\b{_NOT_A_TIME_AFTER}", re.IGNORECASE)


def _hour(word: str) -> int:
    return 1 if word.lower() == "one" else int(word)


def _clock(m: re.Match) -> str | None:
    if m.group(4):
        hour, minutes = _hour(m.group(4)), 0
    else:
        part, hour = m.group(1).lower(), _hour(m.group(3))
        minutes = 30 if part == "half" else 15 if part == "quarter" else int(part)
        if m.group(2).lower() == "to":
            if part == "half":
                return None  # "half to" is no time
            hour, minutes = (hour - 1) % 12 or 12, 60 - minutes
    return f"{hour}:{minutes:02d}" if 1 <= hour <= 12 and minutes < 60 else None


def times(text: str) -> list[tuple[str, str]]:
    out = [(v, m.group(0)) for m in _CLOCK.finditer(text) if (v := _clock(m))]
    out += [(f"{int(m.group(1))}:{m.group(2)}", m.group(0)) for m in _READ_CLOCK.finditer(text)]
    for m in TIME.finditer(text):
        if m.group(1):
            h, mi, ap = int(m.group(1)), m.group(2) or "00", m.group(3).lower()
            out.append((f"{h}:{mi} {ap}m", m.group(0)))
        else:
            out.append((f"{int(m.group(4))}:{m.group(5)}", m.group(0)))
    return out
