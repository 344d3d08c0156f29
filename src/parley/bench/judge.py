"""The deterministic judge: a scenario's expectations checked against what the user actually heard.

"Heard" is the agent's text up to the last character played (`agent_turn.agent` in the event log),
so a reply cut off by a barge-in is judged on what got out, not on what the LLM wrote. The reply to
user turn i is every agent reply whose audio started between that turn's start and the start of the
next turn that is not a backchannel. Matching is case-insensitive, and numbers are normalized on
both sides: "four four one seven", "44-17" and "4417" are the same number.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import regex

from parley import patterns as user_patterns
from parley.bench.scenario import Scenario
from parley.bench.turn_metrics import user_lines
from parley.errors import ParleyError
from parley.events import Event
from parley.dialogue.procedure import ProcedureTracker
from parley.components.tts.internal import internal_marks
from parley.textnorm import mentions


@dataclass
class Check:
    turn: int            # 1-based user turn whose reply is judged
    axis: str | None     # memory | knowledge | adherence | None (counts only as a failure to show)
    kind: str            # must_mention | must_not_mention | recall | grounded | citation | step | persona | internal
    expected: str
    heard: str
    passed: bool
    distance: int | None = None  # recall: turns between the fact and the question

    def to_dict(self) -> dict:
        return asdict(self)


def cites(title: str, text: str) -> bool:
    """The reply names the document: most of its title's words (≥ 60 %), in any order, since a
    speaker says "our returns policy" for "Northwind Returns Policy"."""
    words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) > 3] or title.lower().split()
    said = set(re.findall(r"[a-z0-9]+", text.lower()))
    return sum(w in said for w in words) >= 0.6 * len(words)


def replies_by_turn(scenario: Scenario, events: list[Event]) -> dict[int, str]:
    """1-based user turn → the agent text the user heard in reply to it."""
    sims = user_lines(events)
    started: dict[int, float] = {}
    for e in events:
        if e.kind == "agent_audio_started" and e.turn > 0:
            started.setdefault(e.turn, e.t)
    heard = [(started.get(e.turn, e.t), e.agent) for e in events if e.kind == "agent_turn" and e.turn > 0]
    out: dict[int, str] = {}
    for i, sim in enumerate(sims):
        if i >= len(scenario.turns) or scenario.turns[i].kind == "backchannel":
            continue
        nxt = next((s.start for s in sims[i + 1:] if scenario.turns[s.index].kind != "backchannel"), float("inf"))
        out[i + 1] = " ".join(text for t, text in heard if sim.start <= t < nxt and text).strip()
    return out


def doc_title(path: Path) -> str:
    """The title the agent was given for this document (its first heading, or its file name)."""
    from parley.dialogue.knowledge import read_document

    try:
        return read_document(path)[0]
    except ParleyError:
        return path.stem


def judge(scenario: Scenario, events: list[Event]) -> list[Check]:
    replies = replies_by_turn(scenario, events)
    docs = {p.name: p for p in scenario.knowledge_paths()}
    tracker = ProcedureTracker(scenario.procedure)  # the agent's own step tracking, on what was said and heard
    for n, turn in enumerate(scenario.turns, 1):
        if turn.kind != "backchannel":
            tracker.observe_caller(n, turn.say)  # what the caller gave before it was asked needs no asking
        tracker.observe(n, replies.get(n, ""))
    first_reached = tracker.done
    checks: list[Check] = []
    for n, turn in enumerate(scenario.turns, 1):
        heard = replies.get(n, "")
        e = turn.expect
        if e is not None:
            axis = e.axis or scenario.axis
            checks += [Check(n, axis, "must_mention", p, heard, mentions(p, heard)) for p in e.must_mention]
            checks += [Check(n, axis, "must_not_mention", p, heard, not mentions(p, heard)) for p in e.must_not_mention]
            if e.recall:
                checks.append(Check(n, "memory", "recall", e.recall.value, heard, mentions(e.recall.value, heard),
                                    distance=n - e.recall.turn))
            if e.grounded:
                g = e.grounded
                checks.append(Check(n, "knowledge", "grounded", " & ".join(g.mention), heard,
                                    all(mentions(p, heard) for p in g.mention)))
                if g.cite:
                    title = doc_title(docs[g.doc])
                    checks.append(Check(n, "knowledge", "citation", title, heard, cites(title, heard)))
            if e.step:
                checks.append(Check(n, "adherence", "step", e.step, heard,
                                    _step_ok(scenario, e.step, n, first_reached, tracker.by_caller)))
        pc = scenario.persona_checks
        if pc is not None and heard:
            problems = []
            if pc.max_words is not None and len(heard.split()) > pc.max_words:
                problems.append(f"more than {pc.max_words} words")
            problems += [f"matches {p!r}" for p in pc.forbid
                         if user_patterns.search(user_patterns.compile(p, user_patterns.FLAGS | regex.MULTILINE), heard)]
            checks.append(Check(n, "adherence", "persona", "; ".join(problems) or "persona rules", heard, not problems))
    checks += internal_checks(events)
    return checks


def internal_checks(events: list[Event]) -> list[Check]:
    """Every reply of every run: nothing internal (markers, tags, role tags) was spoken. Only a
    failure is recorded, on no axis, so it shows in the report without moving a score."""
    return [Check(e.turn, None, "internal", "no internal text spoken", e.agent, False)
            for e in events if e.kind == "agent_turn" and internal_marks(e.agent)]


def _step_ok(scenario: Scenario, step_id: str, turn: int, first_reached: dict[str, int],
             by_caller: set[str] = frozenset()) -> bool:
    """Reached by this turn's reply (or given by the caller by this turn), and no required step
    (transitively) came later than it; the caller's own words skip no gate."""
    reached = first_reached.get(step_id)
    if reached is None or reached > turn:
        return False
    if step_id in by_caller:
        return True
    steps = {s.id: s for s in scenario.procedure}
    pending = list(steps[step_id].requires)
    while pending:
        r = pending.pop()
        if first_reached.get(r, turn + 1) > reached:
            return False  # a gate skipped: this step was done before the step it depends on
        pending += steps[r].requires
    return True
