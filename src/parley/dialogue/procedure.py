"""Procedure adherence, tracked per turn: which steps the agent has done, and in which order.

A step is done when its `check` regex matches what the user heard from the agent; each is a
`procedure_step` event, marked when it came before a step it requires (a skipped gate). The model
learns the procedure from its system prompt (`persona.system_prompt`) and where the call stands
(`note`, in the history where it changed, next to the caller's words: a small model heeds it there;
the list of steps in the system prompt is what a 1.5B model lost track of). `premature` lets the reply
gate (`dialogue/reply_gate.py`) hold it to the gates clause by clause.
"""

from __future__ import annotations

from parley.config import ProcedureStep
from parley.textnorm import mentions


class ProcedureTracker:
    def __init__(self, steps: list[ProcedureStep]) -> None:
        self.steps = steps
        self.done: dict[str, int] = {}  # step id → turn it was done in

    def observe(self, turn: int, heard: str) -> list[tuple[str, bool]]:
        """Steps newly done by this reply: (id, gates respected)."""
        new = []
        for step in self.steps:
            if step.id not in self.done and mentions(step.check, heard):
                ok = all(r in self.done for r in step.requires)
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

    def premature(self, text: str) -> tuple[ProcedureStep, ProcedureStep] | None:
        """(step, open gate) when `text` would do `step` before the gate it requires; steps done
        earlier in the same text count as done."""
        done = set(self.done)
        for step in self.steps:
            if step.id in done or not mentions(step.check, text):
                continue
            missing = [r for r in step.requires if r not in done]
            if missing:
                return step, self._first_open(missing[0], done)
            done.add(step.id)
        return None

    def _first_open(self, step_id: str, done: set[str]) -> ProcedureStep:
        """The earliest step not yet done among `step_id` and what it transitively requires."""
        step = next(s for s in self.steps if s.id == step_id)
        for r in step.requires:
            if r not in done:
                return self._first_open(r, done)
        return step
