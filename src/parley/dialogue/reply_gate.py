"""What of a drafted reply gets spoken: persona limits, the procedure guard and the length cap, clause by clause.

The LLM drafts; the user hears clauses. Before each clause is synthesized the gate decides: speak
it; or, if it is the model's stock refusal ("I can't assist with that") to a caller who asked
nothing ("Room four one two."), say the procedure's current step instead; or, if it breaks a
persona limit (`dialogue/limits.py`), drop it and say the limit's line; or, if the reply so far
would do a step whose gate is still open, drop it and say the open step's `say` line instead
(prompting alone did not keep a 1.5B model to its gates); or, if it winds the call up ("Is there
anything else?") while the procedure has a step to do, say that step instead; or, once the reply has `max_words`,
start no new sentence (a listener loses the thread of a long answer).
Pure text logic, so it is cheap enough to run per clause and testable without models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.components.tts.clauses import OPENING_APOLOGY, Clause
from parley.config import ProcedureStep
from parley.dialogue.limits import Breach, LimitGuard, asking, stock_refusal
from parley.dialogue.procedure import ProcedureTracker, conditional, spoken_line
from parley.textnorm import mentions

# the model winding the call up: "Is there anything else I can help you with?", "Have a great day!"
_CLOSING = re.compile(r"\b(is there anything else|anything else (i|we) can|have a (great|good|nice|lovely) day"
                      r"|thank you for calling|thanks for calling|goodbye)\b", re.IGNORECASE)
GENERIC_GATE_LINE = "Before I can help with that, I need to check a detail with you first."


@dataclass(frozen=True)
class Verdict:
    text: str                 # the reply as it stands once this clause is dealt with
    clause: Clause | None     # what to synthesize now: the clause, the gate's line, or nothing
    more: bool                # whether the reply may go on after it
    guarded: tuple[ProcedureStep, ProcedureStep] | None = None  # (step, open gate) when the guard cut in
    breach: Breach | None = None  # the persona limit the clause would have broken


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?"))


# words a line may open with that are lower case inside a sentence (a name such as "Dr Patel" stays as written)
_COMMON_OPENERS = {"thank", "thanks", "and", "but", "so", "our", "your", "we", "we're", "we'll", "you", "you're",
                   "the", "that", "this", "there", "it", "it's", "please", "could", "can", "may", "would", "what",
                   "which", "when", "before", "for", "to", "let", "let's", "a", "an", "only", "all"}


def _after(before: str, line: str) -> str:
    """`line` as the continuation of `before`: lower case after a comma, a capital after a stop."""
    if before.endswith(","):
        first = line.split(" ", 1)[0].rstrip(",.!?").lower()
        return line[:1].lower() + line[1:] if first in _COMMON_OPENERS else line
    return line[:1].upper() + line[1:]


def _instead(text: str, clause: Clause, line: str) -> tuple[str, Clause]:
    """The reply with `line` said in place of `clause` and whatever followed it, and the line's clause.
    A line's opening apology is left out when the reply already said one ("I'm sorry," is a first
    clause of its own: `ClauseSplitter`), and the line goes on from it; after a first clause cut
    mid-sentence ("My phone number is"), the line is a self-repair, marked as one in what was said."""
    before = text[:clause.start].rstrip()
    if re.search(r"\b(sorry|unfortunately),?$", before, re.IGNORECASE):
        if apology := OPENING_APOLOGY.match(line):
            line = line[apology.end():].lstrip()
        line = _after(before, line)  # "I'm sorry, thank you. And the name?", not "I'm sorry, Thank you."
    elif before and before[-1].isalnum():
        before += " —"
    spoken = f"{before} {line}".strip()
    return spoken, Clause(line, len(spoken) - len(line), len(spoken))


class ReplyGate:
    def __init__(self, procedure: ProcedureTracker, max_words: int, limits: LimitGuard | None = None) -> None:
        self.procedure = procedure
        self.max_words = max_words  # 0 = no cap
        self.limits = limits or LimitGuard([])

    def check(self, text: str, clause: Clause, caller_turn: str = "", answer_from: int = 0) -> Verdict:
        """`clause` is the next one released from the draft `text` (its span indexes `text`), in
        reply to `caller_turn`; the answer proper starts at `answer_from` (after a talker's opener)."""
        step = self.procedure.current()
        # a line made from a conditional step's instruction ("If they still want to cancel, …") only
        # where the operator wrote it: the condition may not hold
        line = (step.say or (None if conditional(step) else spoken_line(step))) if step is not None else None
        if line and not asking(caller_turn) and stock_refusal(text, clause.start, clause.end, answer_from):
            # the model refused a caller who gave or asked for nothing off-limits ("Room four one two."):
            # the call goes on with the step it is at
            return Verdict(*_instead(text, clause, line), False, (step, step))
        breach = self.limits.check(text, clause.start, clause.end, caller_turn, answer_from)
        if breach is not None:
            return Verdict(*_instead(text, clause, breach.say), False, breach=breach)
        premature = self.procedure.premature(text[:clause.end], caller_turn, clause.start)
        if premature is not None:
            line = spoken_line(premature[1]) or GENERIC_GATE_LINE
            return Verdict(*_instead(text, clause, line), False, premature)
        if (step is not None and self.procedure.done and not conditional(step) and _CLOSING.search(clause.text)
                and not mentions(step.check, text[:clause.end]) and (line := spoken_line(step))):
            # the model wound the call up with a step still to do ("I've confirmed your order number.
            # Is there anything else?" where the order was to be cancelled): the step is done instead
            return Verdict(*_instead(text, clause, line), False, (step, step))
        cap, said = self.max_words, len(text[:clause.end].split())
        if cap and said > cap and clause.start > 0 and _ends_sentence(text[:clause.start]):
            return Verdict(text[:clause.start].rstrip(), None, False)  # this clause would start a sentence past the cap
        if cap and said >= cap and _ends_sentence(clause.text):
            return Verdict(text[:clause.end], clause, False)
        return Verdict(text, clause, True)
