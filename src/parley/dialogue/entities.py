"""Entities in what the caller said, in canonical form: the grammar behind the fact store.

Whisper writes what callers spell and dictate in many shapes: "A L V A R E Z", "A-L-V-A-R-E-Z",
"j dot okafor at gmail dot com", "j.okafor@gmail.com", "U A fourteen twenty nine", "S W one A two
A A". The LLM copies whatever shape it is given, and a 1.5B model re-joins letters and digits
unreliably, so each value is normalised once, here, and handed to it as data:

- spelled sequences: three or more single letters in a row (with "double-u", "oh"/"zero" for 0
  inside a code, and the NATO words) → "ALVAREZ";
- e-mail addresses: spoken or written local part, "at"/"@", a domain ending in a known top-level
  domain → "j.okafor@gmail.com";
- codes after a code word ("flight", "postcode", "reference", "confirmation code", …): letters and
  numbers, said digit by digit or as numbers → "UA1429", "SW1A2AA";
- numbers after a number word ("order number", "phone", "account", …) → digits;
- dates ("Thursday the sixteenth", "March 3rd", "the 16th of March") and times ("three thirty pm",
  "half past two"), read by `temporal.py`;
- street addresses with a unit ("flat twelve B, forty Harbour Road" → "Flat 12B, 40 Harbour Road").
Each entity carries a slot (what it is: "surname", "email", "flight", "order number", …) so a later
value for the same slot can replace an earlier one (a correction). Rule-based on purpose: it must
never invent a value, and it costs nothing per turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.dialogue.temporal import dates, times
from parley.textnorm import _SCALES, _TENS, _UNITS, _words_to_digits

NATO = {"alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E", "foxtrot": "F",
        "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J", "kilo": "K", "lima": "L",
        "mike": "M", "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R", "sierra": "S",
        "tango": "T", "uniform": "U", "victor": "V", "whiskey": "W", "whisky": "W", "x-ray": "X", "xray": "X",
        "yankee": "Y", "zulu": "Z"}
_TLDS = {"com", "org", "net", "edu", "io", "co", "uk", "de", "fr", "ca", "au", "info", "biz", "us", "ie", "nl", "es", "it"}
_CODE_SLOTS = re.compile(
    r"\b(flight|post ?code|zip(?: code)?|reference|booking|confirmation|tracking|policy|membership|ticket|voucher"
    r"|registration|license plate|licence plate|account|order|customer|invoice|serial|product|discount|promo)"
    r"(?: (?:number|code|id|reference|no))?\b", re.IGNORECASE)
_NUMBER_SLOTS = re.compile(r"\b(phone|mobile|cell|telephone|card)(?: number)?\b", re.IGNORECASE)
# a number the caller gives to be called on, with no word for it: "call me back on …", "my number is …"
_CALLBACK = re.compile(r"\b(?:(?:call|ring|reach|text|phone) me(?: back)? (?:on|at)|my number(?: is)?)\b",
                       re.IGNORECASE)
_NAME_SLOTS = re.compile(r"\b(surname|last name|family name|first name|name)\b", re.IGNORECASE)
_STREET = r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Close|Crescent)"
_ADDRESS = re.compile(rf"\b(?:(flat|apartment|apt|unit|suite) (\w+(?: [a-z])?),? )?(\d+[a-z]?) ((?:[A-Z][a-z]+ ){{1,3}}{_STREET})\b",
                      re.IGNORECASE)
_LETTER_WORDS = {"double-u": "W", "double u": "W", "dub": "W", "ex": "X", "why": "Y", "zed": "Z", "zee": "Z", "bee": "B",
                 "see": "C", "cee": "C", "dee": "D", "gee": "G", "jay": "J", "kay": "K", "pee": "P", "cue": "Q",
                 "queue": "Q", "tee": "T", "vee": "V", "you": "U", "are": "R", "eye": "I", "oh": "O"}


@dataclass(frozen=True)
class Entity:
    slot: str   # what it is: "surname", "email", "flight", "order number", "date", …
    value: str  # canonical
    said: str   # the transcript words it came from


def _tokens(text: str) -> list[str]:
    """Words, digit strings and the separators an e-mail needs ('.', '@')."""
    text = re.sub(r"\bdouble[ -]u\b", "double-u", text, flags=re.IGNORECASE)
    return re.findall(r"double-u|x-ray|[A-Za-z]+(?:'[a-z]+)?|\d+|[@.]", text)


def _char(tok: str) -> str | None:
    """The letter a token spells, or None: single letters, 'double-u', NATO words."""
    t = tok.lower()
    if len(t) == 1 and t.isalpha():
        return t.upper()
    if t == "double-u":
        return "W"
    return NATO.get(t)


_SPELL_CUE = re.compile(r"\b(spelled|spell|spelling|that is|that's|as in)\W*(the\W+)?$", re.IGNORECASE)
# Whisper writes a name said and then spelled as one capital clump ("It's under PIPROVA" for "under
# Petrova, P E T R O V A"): right after a word that introduces a name, a clump of four or more is letters
_NAME_CUE = re.compile(r"\b(under|named|(sur|last |family |first )?name is|(sur|last |family |first )?name's)"
                       r"\W*$", re.IGNORECASE)


def spelled(text: str) -> list[tuple[str, str]]:
    """(canonical letters, words) for each run of three or more letters said one by one. After a
    spelling cue ("that is", "spelled") Whisper also writes letters in capital clumps ("the LVAR EZ"),
    which count as letters too, as does a clump of four or more right after a name's cue ("under") and
    one hyphened to the letters after it ("PT-T-R-O-V-A")."""
    toks = [m for m in re.finditer(r"double-u|x-ray|[A-Za-z]+(?:'[a-z]+)?|\d+", _DOUBLE_U.sub("double-u", text))]
    out, run = [], []

    def close() -> None:
        if sum(len(c) for c, _, _ in run) >= 3 and (len(run) > 1 or len(run[0][0]) >= 3):
            out.append(("".join(c for c, _, _ in run), " ".join(t for _, t, _ in run)))
        run.clear()

    for m in toks:
        tok = m.group(0)
        c = _char(tok)
        if c is None and tok.isalpha() and tok.isupper() and 2 <= len(tok) <= 8 and tok not in _CAPS_WORDS:
            start = run[0][2] if run else m.start()
            if (_SPELL_CUE.search(text[:start]) or (not run and len(tok) >= 4 and _NAME_CUE.search(text[:start]))
                    or _HYPHENED_LETTER.match(text, m.end())):
                c = tok
        if c is not None:
            run.append((c, tok, run[0][2] if run else m.start()))
            continue
        close()
    close()
    return out


_DOUBLE_U = re.compile(r"\bdouble[ -]u\b", re.IGNORECASE)
# "PT-T-R-O-V-A": a clump hyphened to a single letter is the head of a spelling Whisper ran together
_HYPHENED_LETTER = re.compile(r"-[A-Z](?![A-Za-z])")
_CAPS_WORDS = {"OK", "US", "USA", "UK", "TV", "ID", "AM", "PM", "IT", "ASAP", "FAQ"}


# Whisper glues "at" into the words around it ("samatoutlook.com", "bergetgmail.com"); with a
# well-known mail provider after it the split is unambiguous
_PROVIDERS = "gmail|googlemail|yahoo|outlook|hotmail|icloud|aol|protonmail|proton|live|msn|gmx|mail"
_GLUED = re.compile(rf"\b([a-z0-9]+(?:\.[a-z0-9]+)*?)\s?(?:at|et|@)\s?({_PROVIDERS})\.", re.IGNORECASE)


def emails(text: str) -> list[tuple[str, str]]:
    """(address, words) for each e-mail address, spoken ("j dot smith at gmail dot com") or written."""
    text = _GLUED.sub(lambda m: f"{m.group(1)} at {m.group(2)}.", text)
    toks = _tokens(text)
    low = [t.lower() for t in toks]
    out = []
    for i, t in enumerate(low):
        if t not in ("at", "@"):
            continue
        domain, j = [], i + 1
        while j < len(low) and (low[j].isalnum() or low[j] == "."):
            if low[j] in ("dot", "."):
                if j + 1 < len(low) and low[j + 1].isalnum() and low[j + 1] != "dot":
                    domain.append(".")
                    j += 1
                    continue
                break
            if domain and domain[-1] != ".":
                break
            domain.append(low[j])
            j += 1
        if len(domain) < 3 or domain[-1] not in _TLDS or "." not in domain:
            continue
        local, k = [], i - 1
        while k >= 0 and low[k] not in _EMAIL_STOP and (low[k].isalnum() or low[k] == "."):
            tok = "." if low[k] in ("dot", ".") else "_" if low[k] == "underscore" else \
                "-" if low[k] in ("dash", "hyphen") else low[k]
            if local and tok not in "._-" and local[0] not in "._-" and not (len(tok) == 1 and len(local[0]) == 1):
                break  # two words with no "dot" between them: the first is not part of the address
            local.insert(0, tok)
            k -= 1
        while local and local[0] in "._-":
            local.pop(0)
        if not local:
            continue
        out.append(("".join(local) + "@" + "".join(domain), " ".join(toks[k + 1:j])))
    return out


_EMAIL_STOP = {"is", "my", "email", "emails", "e", "mail", "address", "addresses", "it's", "its", "me", "at", "the", "was", "to", "you",
               "reach", "and", "on", "please", "that", "so", "use", "it", "under", "send", "write", "contact", "@",
               "oh", "yes", "no", "sorry", "actually", "um", "uh"}


def _code_value(words: list[str]) -> tuple[str, int]:
    """Letters and numbers said one after another → (canonical code, words used)."""
    out, i, num = [], 0, []

    def flush_num() -> None:
        if num:
            out.append(_words_to_digits(num))
            num.clear()

    while i < len(words):
        w = words[i].lower()
        if w in ("to", "too") and (out or num) and i + 1 < len(words) and _continues_code(words[i + 1].lower()):
            w = "two"  # Whisper writes the digit "two" inside a code as its homophone: "6 to 9 481"
        if w in _UNITS or w in _TENS or (w in _SCALES and num):
            if w == "oh" and not (out or num) and not (i + 1 < len(words) and _continues_number(words[i + 1].lower())):
                break  # "oh, …" opens a thought; "oh seven seven …" opens a phone number
            num.append("zero" if w == "oh" else w)
            i += 1
            continue
        flush_num()
        if w.isdigit():
            out.append(w)
        elif re.fullmatch(r"[a-z0-9]*\d[a-z0-9]*", w) and len(w) <= 10:
            out.append(w.upper())  # Whisper joins a code's letters and digits: "k7Q42"
        elif (c := _char(w)) is not None and (len(w) == 1 or w in NATO or w == "double-u"):
            if w in ("i", "a") and out and _word_follows(words, i):
                break  # "629481 I think", "K7Q42 a bit": the pronoun or article after the code
            out.append(c)
        elif _letter_group(words, i, bool(out)):
            out.append(words[i])  # Whisper writes a code's letters in capitals: "BA 283", "SW1A 2AA"
        else:
            break
        i += 1
    flush_num()
    return "".join(out).upper(), i


def _letter_group(words: list[str], i: int, inside: bool) -> bool:
    """Is words[i] two or three capitals of a code: before its digits, or ending one ("SW1A 2AA")?"""
    w = words[i]
    if not (w.isalpha() and w.isupper() and 2 <= len(w) <= 3) or w in _NOT_CODE_LETTERS:
        return False
    nxt = words[i + 1] if i + 1 < len(words) else ""
    return any(ch.isdigit() for ch in nxt) or (inside and not _continues_code(nxt.lower()))


# capitals that are words, not a code's letters: abbreviations, and words Whisper writes shouted
_NOT_CODE_LETTERS = _CAPS_WORDS | {"AND", "THE", "FOR", "BUT", "NOT", "YES", "NO", "OR", "SO", "IS", "MY", "TO", "OF",
                                   "IN", "ON", "AT"}


def _word_follows(words: list[str], i: int) -> bool:
    """Does a lower-case word of two or more letters, not a number's, follow words[i]?"""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    return (len(nxt) >= 2 and nxt.isalpha() and nxt.islower() and nxt not in NATO
            and nxt not in _UNITS and nxt not in _TENS and nxt not in _SCALES and nxt not in ("to", "too"))


def _continues_number(w: str) -> bool:
    return w.isdigit() or w in _UNITS


def _continues_code(w: str) -> bool:
    return w.isdigit() or w in _UNITS or len(w) == 1 or bool(re.fullmatch(r"[a-z]*\d[a-z0-9]*", w))


def codes(text: str) -> list[tuple[str, str, str]]:
    """(slot, code, words) for each code named by a code or number word ("flight", "postcode", "order
    number", "phone number", …) and said right after it (after "is", "it's", a colon)."""
    out = []
    for rx in (_CODE_SLOTS, _NUMBER_SLOTS, _CALLBACK):
        for m in rx.finditer(text):
            rest = _tokens(text[m.end():])
            while rest and rest[0].lower() in ("is", "it's", "its", "was", "number", "code", "the", "my", "will",
                                               "be", "of", "um", "uh", "."):
                rest = rest[1:]
            words = [w for w in rest[:16] if w != "."]
            value, n = _code_value(words)
            if rx is _CALLBACK and not (value.isdigit() and len(value) >= 6):
                continue  # "call me back at ten thirty" is a time
            if len(value) >= 3 and any(ch.isdigit() for ch in value):
                slot = "phone number" if rx is _CALLBACK else m.group(0).lower()
                out.append((slot, value, " ".join(words[:n])))
    return out


def bare_code(text: str) -> str | None:
    """The longest code or number said with no code word ("no, it is P X seven seven three zero one"):
    only asked for when the caller is correcting a code just read back or given."""
    words = [w for w in _tokens(text) if w != "."]
    best = ""
    for i in range(len(words)):
        value, _n = _code_value(words[i:])
        if len(value) > len(best) and any(ch.isdigit() for ch in value):
            best = value
    return best if len(best) >= 3 else None


def addresses(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _ADDRESS.finditer(text):
        unit = f"{m.group(1).capitalize()} {m.group(2).replace(' ', '').upper()}, " if m.group(1) else ""
        out.append((f"{unit}{m.group(3).upper()} {m.group(4)}", m.group(0)))
    return out


def entities(text: str) -> list[Entity]:
    """Every entity in one user turn, canonical, with its slot. Number words are read as digits
    first ("forty Harbour Road" → "40 Harbour Road"), except inside spelled runs and codes."""
    found: list[Entity] = []
    for value, said in emails(text):
        found.append(Entity("email", value, said))
    digits = number_words_to_digits(text)
    for slot, value, said in codes(text):
        if not any(e.slot == "email" and said and said.split()[0] in e.said for e in found):
            found.append(Entity(slot, value, said))
    name_slot = _NAME_SLOTS.search(text)
    for value, said in spelled(text):
        if any(said.split()[0].lower() in e.said.lower().split() for e in found):
            continue  # letters that belong to an e-mail or a code already found
        slot = name_slot.group(1).lower() if name_slot else "spelled"
        found.append(Entity(slot, value, said))
    found += [Entity("date", v, s) for v, s in dates(digits)]
    found += [Entity("time", v, s) for v, s in times(digits)]
    found += [Entity("address", v, s) for v, s in addresses(digits)]
    return found


def number_words_to_digits(text: str) -> str:
    """Runs of number words → digits, leaving all else as it was ("forty Harbour" → "40 Harbour",
    "nineteen seventy-two" → "1972", "two thousand and five" → "2005")."""
    words = list(re.finditer(r"[A-Za-z]+(?:-[A-Za-z]+)*|\S+", text))
    vocab = {**_UNITS, **_TENS, **_SCALES}

    def parts(j: int) -> list[str]:
        """The number words of token j ("seventy-two" is two), or [] if it is not all number words."""
        ws = words[j].group(0).lower().split("-")
        return ws if all(w in vocab and w not in ("o", "oh", "a") for w in ws) else []

    out, i, pos = [], 0, 0
    while i < len(words):
        run = []
        j = i
        while j < len(words):
            if ws := parts(j):
                run += ws
            elif (words[j].group(0).lower() == "and" and run and run[-1] in _SCALES and j + 1 < len(words)
                  and parts(j + 1)):
                pass  # "two thousand and five", "one hundred and twelve"
            else:
                break
            j += 1
        if run and not (len(run) == 1 and run[0] == "one"):
            out.append(text[pos:words[i].start()] + _words_to_digits(run))
            pos = words[j - 1].end()
            i = j
        else:
            i += 1
    out.append(text[pos:])
    return "".join(out)
