"""The conversation's side of a reply: what the agent may say and what it remembers of each turn.

The cascade owns listening, timing and playout; this owns the dialogue state every reply consults —
history (what was heard), the fact store inside it, the procedure, the persona limits and the
read-back — and the events that record how it changed. A hybrid or remote architecture drafts its
replies differently but keeps its conversation the same way.
"""

from __future__ import annotations

from parley.components.tts.clauses import Clause
from parley.config import AgentConfig
from parley.dialogue.history import History
from parley.dialogue.limits import LimitGuard, active_limits
from parley.dialogue.persona import DEFAULT_PERSONA, procedure_lines, system_prompt
from parley.dialogue.procedure import ProcedureTracker
from parley.dialogue import recall
from parley.dialogue.readback import Plan, ReadBack, spoken
from parley.dialogue.reply_gate import ReplyGate, Verdict
from parley.events import (
    AgentTurn, ComponentError, EventLog, FactStored, LimitBreached, ProcedureGuard, ProcedureStepDone,
    ReadBack as ReadBackEvent,
)
from parley.errors import ParleyError
from parley.patterns import PatternTimeout


class Conversation:
    def __init__(self, cfg: AgentConfig, documents: list[tuple[str, str]], log: EventLog) -> None:
        persona = cfg.persona or DEFAULT_PERSONA
        self._prompt = lambda docs: system_prompt(persona, procedure_lines(cfg.procedure), docs)
        self.log = log
        # ~3 characters a token keeps history, system prompt and reply inside the model's window
        self.history = History(self._prompt(documents),
                               max_chars=3 * (cfg.llm.n_ctx - cfg.llm.max_tokens))
        self._check_fits()
        self.procedure = ProcedureTracker(cfg.procedure)
        self.limits = LimitGuard(active_limits(persona, cfg.limits, cfg.persona_limits))
        self.gate = ReplyGate(self.procedure, cfg.max_reply_words, self.limits)
        self.readback = ReadBack(cfg.readback)

    def use_documents(self, documents: list[tuple[str, str]]) -> None:
        """Replace the reference documents in the system prompt (before the first turn: screened)."""
        self.history.system = self._prompt(documents)
        self._check_fits()

    def _check_fits(self) -> None:
        """A system prompt that leaves no room for the conversation is a configuration error, said
        before any model loads (llama.cpp would fail at the first prefill)."""
        if len(self.history.system) > 0.75 * self.history.max_chars:
            raise ParleyError(
                f"The system prompt (persona, procedure, documents) is ~{len(self.history.system) // 3} tokens, "
                f"too much of the LLM's {self.history.max_chars // 3}-token window; shorten the persona or put "
                "the documents in a knowledge base (`parley kb add`, [knowledge] path).")

    def read_back(self, turn: int, text: str, cue: str | None) -> Plan | None:
        """The read-back or ask-again line reply `turn` starts with (`readback.py`), or the caller's
        own value they asked for (`recall.py`), or None; `cue` is the end-of-turn cue on the
        caller's words."""
        step = self.procedure.current()
        facts = self.history.heard_facts(text)
        plan = self.readback.plan(turn, facts, text, cue, step.readback if step is not None else None)
        if plan is None and not facts and (wanted := recall.asked(text, self.history.facts)):
            plan = Plan("recall" if recall.only_asks(text) else "state", recall.line(wanted, spoken),
                        tuple(f.text for f in wanted))
        if plan is not None:
            self.log.emit(ReadBackEvent, turn=turn, action=plan.action, values=list(plan.values), said=plan.line)
        return plan

    def check(self, turn: int, text: str, clause: Clause, caller_turn: str) -> Verdict:
        """The reply gate's verdict on the next clause, its interventions logged. A configured pattern
        that overruns its time limit is logged and the clause goes unchecked: the call goes on."""
        try:
            verdict = self.gate.check(text, clause, caller_turn)
        except PatternTimeout as exc:
            self.log.emit(ComponentError, component="pattern", message=str(exc))
            return Verdict(text, clause, True)
        if verdict.breach is not None:
            self.log.emit(LimitBreached, turn=turn, limit=verdict.breach.limit, dropped=clause.text,
                          said=verdict.clause.text)
        if verdict.guarded is not None:
            step, gate = verdict.guarded
            self.log.emit(ProcedureGuard, turn=turn, step=step.id, gate=gate.id, dropped=clause.text,
                          said=verdict.clause.text)
        return verdict

    def heard(self, turn: int, user: str, agent: str, interrupted: bool) -> None:
        """A reply ended: history gets what was heard, the fact store the caller's values, and the
        procedure the steps the reply did."""
        before = list(self.history.facts)
        self.history.add(user, agent, interrupted=interrupted)
        for fact in self.history.facts:
            if fact not in before:
                gone = [f.text for f in before if f.kind == fact.kind and f not in self.history.facts
                        and f.text != fact.text]
                self.log.emit(FactStored, turn=turn, slot=fact.kind, value=fact.text, replaced=gone)
        if agent:
            self.readback.heard(turn)
        self.limits.heard_from_caller(user)
        self.log.emit(AgentTurn, turn=turn, user=user, agent=agent, interrupted=interrupted)
        try:
            done = self.procedure.observe(turn, agent)
        except PatternTimeout as exc:
            self.log.emit(ComponentError, component="pattern", message=str(exc))
            done = []
        for step, in_order in done:
            self.log.emit(ProcedureStepDone, turn=turn, step=step, in_order=in_order)
