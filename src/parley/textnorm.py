"""Text normalisation for speech: what to hand the TTS, and how to compare spoken numbers.

- `for_speech` removes what only reads well as text (markdown, emoji, URLs) and spells long digit
  strings digit by digit ("47192" → "4 7 1 9 2"), the way people read order and phone numbers.
- `digits_of` turns spoken numbers back into digit strings ("four seven one nine two",
  "forty-seven" or "4-7-1-9-2") so that checks on what was heard are robust to how it was said.
"""

from __future__ import annotations

import re

from parley import patterns as user_patterns

_MARKDOWN = re.compile(r"[*_`#>|~]+")
_LIST_BULLET = re.compile(r"^\s*(?:[-•]|\d+[.)])\s+", re.MULTILINE)
_URL = re.compile(r"https?://\S+")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF]")
_LONG_DIGITS = re.compile(r"\d+(?:-\d+)+|\d{4,}")  # "47192", "4-7-192"


def for_speech(text: str) -> str:
    text = _URL.sub("the link", text)
    text = _LIST_BULLET.sub("", text)
    text = _MARKDOWN.sub("", text)
    text = _EMOJI.sub("", text)

    def spell(m: re.Match) -> str:
        s = m.group(0)
        digits = s.replace("-", "")
        if len(digits) < 4:
            return s  # "5-7 days" is a range
        if len(s) == 4 and 1900 <= int(s) <= 2099:
            return s  # a year reads as a number
        return " ".join(digits)

    text = _LONG_DIGITS.sub(spell, text)
    return re.sub(r"\s+", " ", text).strip()


_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
DIGIT_WORDS = frozenset(w for w, v in _UNITS.items() if v < 10 and len(w) > 1)  # how a digit is said
# words that carry no content of their own: what is left says what a sentence is about
FUNCTION_WORDS = frozenset(
    "a an the is are was were do does did that this it its there here what where when which who how why from to of "
    "in on for and or but so can could would should will i you me my your about come comes came say said get got".split())
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}


def _words_to_digits(words: list[str]) -> str:
    """A run of number words → digits. Digit-by-digit runs concatenate ("four seven" → "47");
    compositional numbers add up ("forty seven" → "47", "two hundred five" → "205")."""
    if all(w in _UNITS and _UNITS[w] < 10 for w in words):
        return "".join(str(_UNITS[w]) for w in words)
    out, total, current = [], 0, None
    for w in words:
        if w in _SCALES:
            current = (current or 1) * _SCALES[w]
            if _SCALES[w] == 1000:
                total, current = total + current, None
            continue
        v = _UNITS.get(w, _TENS.get(w))
        if current is None:
            current = v
        elif current % 10 == 0 and current % 100 != 0 and v < 10:
            current += v  # "forty" + "seven", "one hundred ninety" + "two"
        elif current >= 100 and current % 100 == 0 and v < 100:
            current += v  # "two hundred" + "five"
        else:  # a new number starts: emit the last one as digits
            out.append(str(total + current))
            total, current = 0, v
    if current is not None or total:
        out.append(str(total + (current or 0)))
    return "".join(out)


def digits_of(text: str) -> str:
    """Rewrite `text` with spoken numbers as digit strings and digit groups joined: for matching."""
    tokens = re.findall(r"[a-z]+|\d+|[^\sa-z\d]", text.lower().replace("-", " "))
    out: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            out.append(_words_to_digits(run))
            run.clear()

    for tok in tokens:
        if tok in _UNITS or tok in _TENS or (tok in _SCALES and run):
            if tok in ("o", "oh") and not run:  # "oh" is zero only inside a digit run
                close_run()
                out.append(tok)
                continue
            run.append(tok)
        elif tok.isdigit():
            close_run()
            out.append(tok)
        elif tok in {",", "."} and run:
            continue  # "four, seven" is still one digit string
        else:
            close_run()
            out.append(tok)
    close_run()
    # join adjacent digit groups ("4 7 1 9 2", "47 192") into one number
    joined = re.sub(r"(?<=\d)[\s,.]+(?=\d)", "", " ".join(out))
    return joined


_SPELLED = re.compile(r"\b[A-Za-z](?:[\s.,-]+[A-Za-z]\b)+")  # "A L V A R E Z", "N-G-U-Y-E-N"


def unspell(text: str) -> str:
    """Letters said one by one become the word they spell: "A-L-V-A-R-E-Z" → "ALVAREZ"."""
    return _SPELLED.sub(lambda m: re.sub(r"[\s.,-]+", "", m.group(0)), text)


def mentions(pattern: str, text: str) -> bool:
    """Does `text` say `pattern` (a regex, case-insensitive)? Numbers are normalized on both sides,
    so "4417", "44-17" and "four four one seven" are the same number, and a spelled word counts as
    the word ("A L V A R E Z" says "Alvarez")."""
    texts = (text, digits_of(text), unspell(text))
    plain = re.escape(pattern).replace("\\ ", " ") == pattern  # no regex syntax: normalize it too
    patterns = (pattern, digits_of(pattern)) if plain else (pattern,)
    return any(user_patterns.search(p, t) for p in patterns for t in texts)
