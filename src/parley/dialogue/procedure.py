"""Procedure adherence, tracked per turn: which steps the agent has done, and in which order.

A step is done when its `check` regex matches what the user heard from the agent; each is a
`procedure_step` event, marked when it came before a step it requires (a skipped gate). The model
learns the procedure from its system prompt (`persona.system_prompt`). A per-turn status line
("done: …; next: …") after the cached prefix was tried: with the 1.5B model adherence did not
improve (0.67 vs 0.78 on the adherence suite) and every reply paid ~300 ms more prefill.
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
