"""Deciding that the user is done: Smart Turn's audio verdict, cues in the transcript, and silence.

Silence alone cuts people off mid-number and waits too long after a clear question. Here the
silence required before taking the floor depends on how sure we are the user has finished:

- the transcript says the user is not done — a trailing "and / but / so / um", a number or spelling
  still being read out, "my number is" with nothing after it — → wait through the pause (up to the
  `hold` wait, ~2 s at medium eagerness);
- Smart Turn says complete (P ≥ 0.7) or the text ends in a question mark → answer after a short
  `done` wait;
- Smart Turn is sure the user is not done (P < 0.15) and the words are not a closing ("thanks",
  "goodbye") or a completed number → the `hold` wait as well: pauses inside a sentence are where
  people think;
- Smart Turn leans to "not done" (0.15 ≤ P < 0.5, below the model's own decision threshold) →
  the `doubtful` wait (1.2 s at medium): Whisper tiny often "completes" the words before a pause
  ("last week and" → "last weekend."), so the audio's verdict must count even when the text reads
  as finished, but a finished sentence the model merely doubts should not cost the full hold;
- the chat model finds the words unfinished (P(sentence end right after them) < 0.02, their own
  final punctuation removed), or doubts them (< 0.1: a scripted 1.4–1.8 s pause after "a table for
  four" or "my first name is spelled S I" scored 0.03–0.09, and a shorter wait only holds a pause
  it outlasts) → the `hold` wait: Whisper often turns a trailing "and" or "the" into
  a word that ends a sentence ("two shirts and" → "two shirts in.", "about the" → "about this."),
  which no word list catches, and Smart Turn hears the synthesized or clipped pre-pause word as
  final (0.9+); the language model still finds "I ordered two shirts in" unfinished (0.000 vs 0.5+
  for finished sentences, `LlamaEngine.read`). Two-word answers ("Yes.", "Okay.") and questions
  (Whisper's "?" is evidence of a question's intonation) are exempt;
- the final transcript is one the agent would ask to hear again (Whisper's own confidence below
  `[asr] unclear_below`, `readback.unclear`) → the `hold` wait: garbled words are no evidence that
  the caller finished, and "Sorry, I didn't catch that", ready at once, spoken into a pause cuts off
  the very words that might have made the turn clear; on the pause bench it was 12 of the hybrid's
  23 replies started inside a pause. The price is a later ask on a garbled finished turn;
- otherwise → the `unsure` wait.
`eagerness` (low / medium / high) scales the three waits. The reply is being prepared during all of
them (speculation), so a short wait is directly a shorter latency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.components.llm.base import Reading
from parley.dialogue.readback import SHORT_WORDS
from parley.events import ComponentError, EventLog
from parley.textnorm import DIGIT_WORDS, digits_of

# silence in ms before taking the floor: (clearly done, unsure, doubtful, user holding the floor)
WAITS_MS = {
    "low": (600, 1000, 1600, 2400),
    "medium": (400, 700, 1200, 2000),  # 400: a comma pause in fluent speech lasts up to ~300 ms
    "high": (250, 500, 900, 1400),
}

# conjunctions, fillers, articles and possessives end no sentence, not even a question ("about the?")
_NEVER_FINAL_WORDS = {"and", "but", "so", "or", "um", "uh", "erm", "er", "because", "if",
                      "the", "a", "an", "my", "your", "our", "their"}
# these and most prepositions cannot end a statement: they hold the floor even when Whisper
# punctuated them as a sentence end (a question may end in one: "what is it for?")
_STRONG_HOLD_WORDS = _NEVER_FINAL_WORDS | {"like", "then", "to", "of", "with", "about", "at"}
# words that can end a sentence ("that was it.", "come in.") hold it only without final punctuation
_WEAK_HOLD_WORDS = {"for", "is", "was", "that", "which", "in", "on"}
# "... the problem is that." — a complement clause announced but not said
_OPEN_CLAUSE = re.compile(r"\b(is|was|think|thought|said|know|mean|guess|hope|sure|say) that\W*$")
# "spelled", "spelled L" or, as Whisper writes the first letters of a spelling as one word,
# "spelled SI" (2-3 capitals: a spelled name is rarely that short, and "spelled Kim" is a word)
_SPELLING_STARTED = re.compile(r"(?i:\bspell(?:ed|s|ing)?)\b(?:\W+(?:[A-Za-z]|[A-Z]{2,3})\b)?\W*$")
_MIN_NUMBER_DIGITS = 5  # order, account and phone numbers are rarely shorter
_NUMBER_CONTEXT = re.compile(r"\b(number|phone|code|zip|postcode|account|order|card|digits?|pin|extension)\b")
_WORD = re.compile(r"[a-z0-9']+")


def hold_cue(text: str) -> str | None:
    """Why the transcript suggests the user has not finished, or None."""
    t = text.strip().lower()
    if not t:
        return None
    if t.endswith(("...", "…", "-", ",")):
        return "trailing off"
    words = _WORD.findall(t)
    if not words:
        return None
    last = words[-1]
    if t.endswith("?"):  # a question is a finished turn, unless it breaks off on an article or "and"
        return f"trailing '{last}'" if last in _NEVER_FINAL_WORDS else None
    sentence_end = t.endswith((".", "!"))
    if len(words) >= 2 and all(len(w) == 1 and w.isalpha() for w in words[-2:]):
        return "spelling in progress"
    if _SPELLING_STARTED.search(text.strip()):
        return "spelling in progress"  # "it's spelled L…": nobody spells a name with one letter
    if last in _STRONG_HOLD_WORDS or (last in _WEAK_HOLD_WORDS and not sentence_end):
        return f"trailing '{last}'"
    if _OPEN_CLAUSE.search(t):
        return "clause announced"
    tail = " ".join(t.split()[-8:])
    if (last in DIGIT_WORDS or last.isdigit()) and _NUMBER_CONTEXT.search(tail):
        if _trailing_digits(tail) < _MIN_NUMBER_DIGITS and not _complete_code(t):
            return "number in progress"
    return value_in_progress(t)


# "my e-mail is", "the postcode is", "my flight is", "I live at": a value is announced
_SLOTS = (r"e-?mail(?: address)?|post ?code|zip(?: code)?|flight(?: number)?|reference(?: number)?"
          r"|booking(?: reference)?|confirmation(?: code| number)?|code|tracking(?: number)?|surname|last name|address")
_ANNOUNCED = re.compile(rf"\b(email me at|i live at|(?:{_SLOTS}|order number|account number|phone number|number)"
                        rf"(?: is| was|'s))\W*$|\b(i live at|email me at|(?:{_SLOTS})(?: is| was|'s))\s+(.+)$")
# a value starts with a letter said alone, a digit, a number word or an e-mail's first word
_VALUE_START = re.compile(r"^(?:[a-z]\b|[a-z]{0,3}\d|(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b)")
_MIN_CODE_CHARS = 4  # booking codes, flight numbers and postcodes are rarely shorter


def value_in_progress(t: str) -> str | None:
    """An announced value that is not complete yet: "my e-mail is j." (no domain), "the postcode is
    SW1.", "my flight is B at 2", "the reference number is Q" — Whisper writes the half-said value as a
    finished sentence and Smart Turn agrees, but the grammar of the value says it is unfinished."""
    m = _ANNOUNCED.search(t)
    if m is None:
        return None
    if m.group(1):
        return "value announced"
    slot, value = m.group(2), m.group(3)
    words = _WORD.findall(value)
    if len(words) > 4:
        return None  # the sentence moved on
    if slot.startswith(("e-mail", "email")):
        return None if re.search(r"(@|\bat\b).*(\.|\bdot\b)\s*[a-z]{2,}", value) else "e-mail in progress"
    if slot.startswith(("i live at", "address")):
        return None if len(words) >= 3 else "address in progress"
    if slot.startswith(("surname", "last name")):
        return None
    if not _VALUE_START.match(value):
        return None  # "the code is being sent": not a value
    chars = _code_chars(words)
    return "code in progress" if len(chars) < _MIN_CODE_CHARS else None


def _code_chars(words: list[str]) -> str:
    """The code at the start of `words`: letters and digits up to the first ordinary word."""
    chars = ""
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if len(w) == 1 or any(c.isdigit() for c in w) or (len(w) <= 3 and any(c.isdigit() for c in nxt)):
            chars += w
        else:
            break
    return chars


def _complete_code(t: str) -> bool:
    """An announced code with enough letters and digits ("the confirmation code is K 7 Q 4 2")."""
    m = _ANNOUNCED.search(t)
    return bool(m and m.group(3) and len(_code_chars(_WORD.findall(m.group(3)))) >= _MIN_CODE_CHARS)


def _trailing_digits(text: str) -> int:
    runs = re.findall(r"\d+", digits_of(text))
    return len(runs[-1]) if runs else 0


P_DONE = 0.7       # Smart Turn at or above: the user is done
P_DOUBTFUL = 0.5   # below: leaning to "not done" (Smart Turn's own decision threshold)
P_NOT_DONE = 0.15  # below: the user is mid-utterance
# the chat model's P(sentence end) below this: the words are unfinished. Measured on the hearing
# suite: Whisper's pre-pause fragments 0.0001-0.01; finished turns mostly 0.15-0.98, but a finished
# turn garbled on a phone or noisy line can fall to 0.01-0.06 ("D-ship the Canada.").
P_UNFINISHED = 0.02
# below this the words are doubtful, and the floor is held as for unfinished words all the same: on
# the pause bench it held 12 of the cascade's 42 wrongly taken pauses (of 186), at the price of the
# 2 s wait on 5 of 184 finished turns that Smart Turn called done — garbled ones among them
# (docs/benchmarks.md, "Doubtful words"; `benchmarks/finality.py`: 90 % of the written words before
# a pause fall below it, 2-8 % of finished lines, with either chat model).
P_WORDS_DOUBTFUL = 0.1
NOT_DONE = "smart turn: not done"
UNCLEAR = "words unclear"
_CLOSING = re.compile(r"\b(thanks|thank you|goodbye|bye|that's all|that is all|cheers)\W*$")


@dataclass(frozen=True)
class TurnVerdict:
    p_done: float | None
    cue: str | None
    wait_ms: float
    holding: bool  # the user is judged to be mid-turn (a good moment for an agent backchannel)

    @property
    def words_finished(self) -> bool:
        """The words read as a finished turn (no cue holds them); only the audio may doubt it."""
        return not self.holding or self.cue == NOT_DONE


def required_wait(p_done: float | None, text: str, eagerness: str = "medium",
                  p_final: float | None = None, unclear: bool = False) -> TurnVerdict:
    done, unsure, doubtful, hold = WAITS_MS[eagerness]
    cue = hold_cue(text)
    if cue:
        return TurnVerdict(p_done, cue, hold, True)
    if unclear:
        return TurnVerdict(p_done, UNCLEAR, hold, True)
    t = text.strip().lower()
    number_said = _number_said(t)
    if p_final is not None and p_final < P_WORDS_DOUBTFUL and finality_matters(t):
        return TurnVerdict(p_done, "words unfinished" if p_final < P_UNFINISHED else "words doubtful", hold, True)
    if t.endswith("?") or (p_done is not None and p_done >= P_DONE):
        return TurnVerdict(p_done, None, done, False)
    if p_done is not None and p_done < P_DOUBTFUL and t and not _CLOSING.search(t) and not number_said:
        if p_done < P_NOT_DONE:
            return TurnVerdict(p_done, NOT_DONE, hold, True)
        return TurnVerdict(p_done, "smart turn: doubtful", doubtful, False)
    return TurnVerdict(p_done, None, unsure, False)


def _number_said(t: str) -> bool:
    """Smart Turn hears a digit sequence as unfinished; once a whole number has been said, don't hold."""
    return bool(re.search(r"\d\W*$", digits_of(t))) and _trailing_digits(t) >= _MIN_NUMBER_DIGITS


def finality_matters(text: str) -> bool:
    """Can the chat model's finality change the verdict on these words? Not for a question, two
    words or fewer, a closing, a finished number or words already held by a cue — so the end of turn
    need not wait for it there (it costs the prompt's prefill, ~0.3 s on two cores)."""
    t = text.strip().lower()
    return (len(_WORD.findall(t)) > 2 and not t.endswith("?") and not _CLOSING.search(t)
            and not _number_said(t) and hold_cue(text) is None)


async def read_words(llm, messages: list, words: str, log: EventLog, plausibility: bool = False) -> Reading | None:
    """The chat model's `Reading` of the caller's `words` (P(finished utterance), and how probable
    it finds them); None where neither can change anything (the finality cannot change the verdict
    and, with `plausibility`, the words are too few to be asked for again), the model cannot tell
    (a remote endpoint), is wanted by other sessions' first words (a shared server: the end of turn
    would wait behind them) or fails: the end of turn and the reply then go without it."""
    read = getattr(llm, "read", None)
    if read is None or not (finality_matters(words) or plausibility and len(words.split()) > SHORT_WORDS):
        return None
    if getattr(llm, "contended", False):  # other callers wait for the model: Smart Turn and the cues decide
        return None
    try:
        return await read(messages, words, plausibility=plausibility)
    except Exception as exc:
        log.emit(ComponentError, component="llm", message=f"reading the caller's words: {exc}")
        return None
