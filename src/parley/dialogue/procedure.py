"""Procedure adherence, tracked per turn: which steps the agent has done, and in which order.

A step is done when its `check` regex matches what the user heard from the agent; each is a
`procedure_step` event, marked when it came before a step it requires (a skipped gate). The model
learns the procedure from its system prompt (`persona.system_prompt`) and where the call stands
(`note`, in the history where it changed, next to the caller's words: a small model heeds it there;
the list of steps in the system prompt is what a 1.5B model lost track of). `premature` lets the reply
gate (`dialogue/reply_gate.py`) hold it to the gates clause by clause.

A step that asks the caller for a value is also done when the caller gives that value first
(`given`): "my order number is 58316" before it was asked, or the digits said although the agent
never asked for them. A call-centre agent does not ask again for what it was just told, and the
guard must not make it.
"""

from __future__ import annotations

import re

from parley.config import ProcedureStep
from parley.dialogue.memory import extract
from parley.textnorm import digits_of, mentions

_ASKS = re.compile(r"\b(ask|request|collect|obtain|take down)\b", re.IGNORECASE)
_NUMBER_ASKED = re.compile(r"\b(numbers?|digits?|codes?|reference|pin|zip|postcode|id)\b", re.IGNORECASE)
_NOT_GIVEN = re.compile(r"\b(don't|do not|doesn't|can't|cannot|haven't|forgot|no idea|not sure)\b", re.IGNORECASE)
_VALUE_KINDS = {"date", "time", "email", "address"}


def given(step: ProcedureStep, said: str, awaited: bool) -> bool:
    """Did the caller's words `said` give what asking step `step` asks for? Yes when a value of the
    step's slot was said ("my order number is 58316" for a step checked by "order number"), or the
    step's words with a value ("the last four are six two zero eight"); when the call is at this
    step (`awaited`) and it asks for a number, a bare number of four digits or more answers it.
    Never for a step that does something other than ask, nor for "I don't have my order number"."""
    if not said.strip() or not _ASKS.search(step.instruction):
        return False
    facts = extract(said, 0)
    if any(mentions(step.check, f.kind) for f in facts):
        return True
    if _NOT_GIVEN.search(said):
        return False
    numbers = re.findall(r"\d+", digits_of(said))
    if mentions(step.check, said) and (any(len(n) >= 3 for n in numbers) or any(f.kind in _VALUE_KINDS for f in facts)):
        return True
    return awaited and any(len(n) >= 4 for n in numbers) and bool(_NUMBER_ASKED.search(f"{step.instruction} {step.check}"))


_LEAD = re.compile(r"^\s*(?:(?:when|if|once|after|before)\b[^,]*,\s*)?(?:(?:then|next|first|finally|now|also)\b,?\s*)?",
                   re.IGNORECASE)
_CALLER = r"(?:them|the (?:caller|guest|customer|patient|member|client|user))"
_ASK_FOR = re.compile(rf"^(?:ask|request)(?: {_CALLER})? for (?P<x>[^.;!?]+)[.!?]?\s*$", re.IGNORECASE)
_ASK_IF = re.compile(rf"^ask(?: {_CALLER})? (?P<w>whether|if|which|what|why|how|when|where|who) (?P<x>[^.;!?]+)[.!?]?\s*$",
                     re.IGNORECASE)
_TELL = re.compile(rf"^(?:confirm|tell {_CALLER}|say|explain|let {_CALLER} know)(?: to {_CALLER})? that (?P<x>[^;!?]+?)"
                   r"[.!?]?\s*$", re.IGNORECASE)


def _to_caller(text: str) -> str:
    """The instruction's words about the caller, said to them: "their room number" → "your room number"."""
    text = re.sub(r"\bthe (?:caller|guest|customer|patient|member|client|user)('s)?", lambda m: "your" if m.group(1)
                  else "you", text, flags=re.IGNORECASE)
    swap = {"their": "your", "theirs": "yours", "them": "you", "they": "you", "themselves": "yourself"}
    return re.sub(r"\b(their|theirs|them|they|themselves)\b", lambda m: swap[m.group(1).lower()], text,
                  flags=re.IGNORECASE)


def conditional(step: ProcedureStep) -> bool:
    """Does the step wait for something the call may never bring ("If they decline the exchange, …",
    "When a caller wants to cancel, …")? Such a step is never done on the agent's initiative."""
    return bool(re.match(r"\s*(if|when|once|after|before|unless|in case)\b", step.instruction, re.IGNORECASE))


def spoken_line(step: ProcedureStep) -> str | None:
    """What the agent says to do `step`: its `say`, else a line made from an instruction of a known
    shape ("ask for their room number" → "Could I have your room number, please?", "confirm that
    checkout is extended to one pm" → "Checkout is extended to one pm."), else None."""
    if step.say:
        return step.say
    instruction = _LEAD.sub("", step.instruction.strip())
    if m := _ASK_FOR.match(instruction):
        return f"Could I have {_to_caller(m.group('x').strip())}, please?"
    if m := _ASK_IF.match(instruction):
        return f"Could you tell me {m.group('w').lower()} {_to_caller(m.group('x').strip())}?"
    if m := _TELL.match(instruction):
        said = _to_caller(m.group("x").strip())
        return said[0].upper() + said[1:] + "."
    return None


class ProcedureTracker:
    def __init__(self, steps: list[ProcedureStep]) -> None:
        self.steps = steps
        self.done: dict[str, int] = {}  # step id → turn it was done in
        self.by_caller: set[str] = set()  # asking steps the caller's own words did (`given`)
        self._given: tuple[tuple[str, int], list[str]] = (("", 0), [])  # (caller turn, steps done) → steps it gives

    def observe_caller(self, turn: int, said: str) -> list[str]:
        """Asking steps the caller's turn did by giving the value first; call before `observe`."""
        new = self.given_by(said)
        for step_id in new:
            self.done[step_id] = turn
            self.by_caller.add(step_id)
        return new

    def given_by(self, said: str) -> list[str]:
        """Steps not done yet that the caller's words `said` give, in order (each one given moves
        the call on, so a name then a bare number answer two steps)."""
        if self._given[0] != (said, len(self.done)):
            done, new = set(self.done), []
            for step in self.steps:
                if step.id in done:
                    continue
                awaited = step is next((s for s in self.steps if s.id not in done), None)
                if given(step, said, awaited):
                    done.add(step.id)
                    new.append(step.id)
            self._given = ((said, len(self.done)), new)
        return list(self._given[1])

    def observe(self, turn: int, heard: str) -> list[tuple[str, bool]]:
        """Steps newly done by this reply: (id, gates respected)."""
        new = []
        for step in self.steps:
            if step.id not in self.done and mentions(step.check, heard):
                ok = self._open_gate(step, set(self.done), self.by_caller) is None
                self.done[step.id] = turn
                new.append((step.id, ok))
        return new

    def current(self) -> ProcedureStep | None:
        """The first step not done yet (what the call is at)."""
        return next((s for s in self.steps if s.id not in self.done), None)

    def note(self) -> str | None:
        """Where the procedure stands, said to the model before the caller's turn; None without one."""
        step = self.current()
        if step is None:
            return "Procedure so far: every step is done." if self.steps else None
        done = [str(i) for i, s in enumerate(self.steps, 1) if s.id in self.done]
        so_far = f"step{'s' if len(done) > 1 else ''} {', '.join(done)} done" if done else "no step done yet"
        return (f"Procedure so far: {so_far}. The next step is {self.steps.index(step) + 1}: "
                f"{step.instruction.strip()} Do it in this reply if the caller's turn allows; never a later step first.")

    def premature(self, text: str, caller_turn: str = "", start: int | None = None
                  ) -> tuple[ProcedureStep, ProcedureStep] | None:
        """(step, open gate) when `text` would do `step` before the gate it requires; steps done
        earlier in the same text, or given by the caller's turn it answers, count as done. `start`:
        where the clause that would be dropped for it begins — a step done only inside that clause is
        not said, so the gate is the earliest step still open without it ("Please give me the
        tracking code and the new address": the tracking code is still to be asked for)."""
        given = {*self.by_caller, *self.given_by(caller_turn)}
        done = {*self.done, *given}
        kept, said = text[:start], set(done)
        for step in self.steps:
            if step.id in done or not mentions(step.check, text):
                continue
            gate = self._open_gate(step, done, given)
            if gate is not None:
                return step, self._first_open(gate.id, said)
            done.add(step.id)
            if mentions(step.check, kept):
                said.add(step.id)
        return None

    def _open_gate(self, step: ProcedureStep, done: set[str], given: set[str]) -> ProcedureStep | None:
        """The earliest step `step` still waits for, or None. A step the caller's words did skipped
        no gate but opens none either: what it requires is still required ("58316" said before the
        name was asked lets the agent skip asking for the number, not for the name)."""
        for r in step.requires:
            if r not in done:
                return self._first_open(r, done)
            if r in given and (gate := self._open_gate(self._step(r), done, given)) is not None:
                return gate
        return None

    def _first_open(self, step_id: str, done: set[str]) -> ProcedureStep:
        """The earliest step not yet done among `step_id` and what it transitively requires."""
        step = self._step(step_id)
        for r in step.requires:
            if r not in done:
                return self._first_open(r, done)
        return step

    def _step(self, step_id: str) -> ProcedureStep:
        return next(s for s in self.steps if s.id == step_id)
