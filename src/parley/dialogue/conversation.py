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
from parley.dialogue.rules import without_rules
from parley.dialogue.readback import Plan, ReadBack, spoken, unclear
from parley.dialogue.reply_gate import ReplyGate, Verdict
from parley.events import (
    AgentTurn, ComponentError, EventLog, FactStored, LimitBreached, ProcedureGuard, ProcedureStepDone,
    ReadBack as ReadBackEvent,
)
from parley.errors import ParleyError
from parley.patterns import PatternTimeout


class Conversation:
    def __init__(self, cfg: AgentConfig, documents: list[tuple[str, str]], log: EventLog) -> None:
        self.cfg = cfg
        self.persona = cfg.persona or DEFAULT_PERSONA
        self.documents = documents
        self.log = log
        # ~3 characters a token keeps history, system prompt and reply inside the model's window
        self.history = History(self._prompt(), max_chars=3 * (cfg.llm.n_ctx - cfg.llm.max_tokens))
        self._check_fits()
        self.procedure = ProcedureTracker(cfg.procedure)
        self.history.set_state(self.procedure.note())
        self.withheld: tuple[str, ...] = ()  # specifics of doubtful knowledge (`screen.Screened.withheld`)
        self._set_limits("")
        self.readback = ReadBack(cfg.readback)
        self._exchanges: dict[int, int] = {}  # reply turn → its index in history.turns
        self._unheard: tuple[int, str] | None = None  # the last turn nothing was heard of, and `pending` before it

    def _set_limits(self, caller_said: str) -> None:
        """The limits of the persona and knowledge as they stand; what the caller said stays theirs."""
        self.limits = LimitGuard(active_limits(self.persona, self.cfg.limits, self.cfg.persona_limits, self.withheld),
                                 self.cfg.ground_numbers)
        self.limits.caller_said = caller_said
        self.gate = ReplyGate(self.procedure, self.cfg.max_reply_words, self.limits)

    def withhold(self, specifics: list[str]) -> None:
        """Never say these (codes, numbers, links only doubtful knowledge contains) unless the caller did."""
        self.withheld = tuple(sorted({*self.withheld, *specifics}))
        self._set_limits(self.limits.caller_said)

    def _prompt(self) -> str:
        return system_prompt(self.persona, procedure_lines(self.cfg.procedure), self.documents)

    def use_documents(self, documents: list[tuple[str, str]]) -> None:
        """Replace the reference documents in the system prompt (before the first turn: screened)."""
        self.documents = documents
        self.history.system = self._prompt()
        self._check_fits()

    def use_persona(self, persona: str) -> None:
        """A new persona mid-call (a Realtime client's `instructions`): the prompt and the limits the
        persona states change; history, facts and procedure stay."""
        old = self.persona, self.history.system
        self.persona = persona.strip() or DEFAULT_PERSONA
        self.history.system = self._prompt()
        try:
            self._check_fits()
        except ParleyError:
            self.persona, self.history.system = old
            raise
        self._set_limits(self.limits.caller_said)

    def reheard(self, turn: int, agent: str) -> bool:
        """The user heard less of reply `turn` than was played (a client stopped its own playback
        earlier): history keeps only that. False if the exchange is not in history."""
        i = self._exchanges.get(turn)
        if i is None or i >= len(self.history.turns):
            return False
        user, before = self.history.turns[i]
        agent = agent.strip()
        if agent and len(agent) < len(before):
            self.history.turns[i] = (user, agent)
            self.history.interrupted.add(i)
        return True

    def forget(self, turn: int) -> bool:
        """Drop exchange `turn` from history (a client deleted the item); False if not there."""
        if self._unheard is not None and self._unheard[0] == turn:  # nothing was heard: its words wait in `pending`
            self.history.pending, self._unheard = self._unheard[1], None
            return True
        i = self._exchanges.pop(turn, None)
        if i is None or i >= len(self.history.turns):
            return False
        self.history.turns[i] = ("", "")  # indices of later exchanges and of folds stay valid
        return True

    def _check_fits(self) -> None:
        """A system prompt that leaves no room for the conversation is a configuration error, said
        before any model loads (llama.cpp would fail at the first prefill)."""
        if len(self.history.system) > 0.75 * self.history.max_chars:
            raise ParleyError(
                f"The system prompt (persona, procedure, documents) is ~{len(self.history.system) // 3} tokens, "
                f"too much of the LLM's {self.history.max_chars // 3}-token window; shorten the persona or put "
                "the documents in a knowledge base (`parley kb add`, [knowledge] path).")

    def read_back(self, turn: int, text: str, cue: str | None, confidence: float | None = None,
                  plausibility: float | None = None) -> Plan | None:
        """The read-back or ask-again line reply `turn` starts with (`readback.py`), or the caller's
        own value they asked for (`recall.py`), or that it does not have one (`recall.missing`), or
        None; `cue` is the end-of-turn cue on the caller's words, `confidence` the ASR's in them and
        `plausibility` the chat model's (`Reading`): a turn either probably misheard is asked for
        again (never twice in a row) instead of answered."""
        step = self.procedure.current()
        facts = self.history.heard_facts(text)
        plan = self.readback.plan(turn, facts, text, cue, step.readback if step is not None else None,
                                  unclear(confidence, self.cfg.asr.unclear_below, text)
                                  or unclear(plausibility, self.cfg.asr.implausible_below, text))
        if plan is None and not facts:
            if wanted := recall.asked(text, self.history.facts):
                disputed = any((f.kind, f.text) in self.readback.disputed for f in wanted)
                plan = Plan("recall" if recall.only_asks(text) else "state", recall.line(wanted, spoken, disputed),
                            tuple(f.text for f in wanted))
            elif what := recall.missing(text, self.history.facts, self.limits.caller_said):
                plan = Plan("missing", recall.missing_line(what))
        return self._planned(turn, plan)

    def doubted(self, turn: int, text: str, plausibility: float | None) -> Plan | None:
        """The ask-again line for reply `turn` when the chat model found the caller's words
        improbable (`[asr] implausible_below`) and that is known only after the reply began: a
        hybrid's opener is said before the model has read them."""
        if not unclear(plausibility, self.cfg.asr.implausible_below, text):
            return None
        return self._planned(turn, self.readback.ask_again(turn))

    def _planned(self, turn: int, plan: Plan | None) -> Plan | None:
        if plan is not None:
            self.log.emit(ReadBackEvent, turn=turn, action=plan.action, values=list(plan.values), said=plan.line)
        return plan

    def given(self, messages: list[dict]) -> None:
        """The prompt the next reply is drafted from: the numbers it may say (`limits.py`)."""
        facts = " ".join(f.text for f in self.history.facts)
        self.limits.grounds = " ".join([facts, *(str(m.get("content") or "") for m in messages)])
        self.limits.written = without_rules(" ".join(str(m.get("content") or "") for m in messages
                                                     if m.get("role") == "system"))

    def check(self, turn: int, text: str, clause: Clause, caller_turn: str, answer_from: int = 0) -> Verdict:
        """The reply gate's verdict on the next clause, its interventions logged. A configured pattern
        that overruns its time limit is logged and the clause goes unchecked: the call goes on."""
        try:
            verdict = self.gate.check(text, clause, caller_turn, answer_from)
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
        procedure the steps the caller's values and the reply did."""
        before, pending = list(self.history.facts), self.history.pending
        self.history.add(user, agent, interrupted=interrupted)
        if agent.strip():
            self._exchanges[turn] = len(self.history.turns) - 1
            self._unheard = None
        else:
            self._unheard = (turn, pending)  # its words carry into the next turn unless the turn is deleted
        for fact in self.history.facts:
            if fact not in before:
                gone = [f.text for f in before if f.kind == fact.kind and f not in self.history.facts
                        and f.text != fact.text]
                self.log.emit(FactStored, turn=turn, slot=fact.kind, value=fact.text, replaced=gone)
        self.readback.answered(user, self.history.facts)
        if agent:
            self.readback.heard(turn)
        self.limits.heard_from_caller(user)
        self.log.emit(AgentTurn, turn=turn, user=user, agent=agent, interrupted=interrupted)
        try:
            given = self.procedure.observe_caller(turn, user)
            done = self.procedure.observe(turn, agent)
        except PatternTimeout as exc:
            self.log.emit(ComponentError, component="pattern", message=str(exc))
            given, done = [], []
        for step in given:
            self.log.emit(ProcedureStepDone, turn=turn, step=step, by="caller")
        for step, in_order in done:
            self.log.emit(ProcedureStepDone, turn=turn, step=step, in_order=in_order)
        self.history.set_state(self.procedure.note())
