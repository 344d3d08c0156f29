"""The scorecard: every axis computed from event logs and scenarios, nothing else (docs/metrics.md).

- latency: per user turn that expects a reply, true end of the user's audio → first agent audio
  (`p50_ms`, `p95_ms`), and → first audio of the reply itself (`content_p50_ms`: agent
  backchannels, emitted as turn 0, and a hybrid's opener, before `agent_content_started`, do not
  count as an answer).
- memory: memory checks passed / judged; recall checks also by distance bucket.
- knowledge: grounded-answer expectations passed / judged; citations separately.
- adherence: procedure-step and persona checks passed / judged.
- turn_taking: bench/turn_metrics.py over every scripted turn (its kind comes from its directive),
  and beside it the `fdb_*` figures: Full-Duplex-Bench's official rules run on the samples cut from
  the same conversations (bench/fdb.py, bench/fdb_score.py).
- by_voice / by_condition: all of the above again for the conversations in each voice and condition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pathlib import Path

from parley.bench.fdb import merge
from parley.bench.fdb_score import fdb_scores
from parley.bench.judge import Check, judge
from parley.bench.scenario import Scenario
from parley.bench.turn_metrics import CaseLog, line_windows, turn_taking
from parley.dialogue.memory import extract
from parley.dialogue.talker import invented_specifics, unsupported
from parley.events import Event

# recall distance d (turns between the fact and the question) → bucket: [1, 3), [3, 10), [10, 25), [25, ∞)
DISTANCE_BUCKETS = ((1, "1"), (3, "3"), (10, "10"), (25, "25"))


def distance_bucket(d: int) -> str:
    label = DISTANCE_BUCKETS[0][1]
    for lo, name in DISTANCE_BUCKETS:
        if d >= lo:
            label = name
    return label


@dataclass
class Conversation:
    scenario: Scenario
    events: list[Event]
    error: str | None = None
    checks: list[Check] = field(default_factory=list)
    voice: str | None = None      # default: the scenario's own
    condition: str | None = None
    samples: dict[str, list[Path]] = field(default_factory=dict)  # FDB samples by task (bench/fdb.py)
    key: str | None = None  # its folder under DIR/<arch>/; default: the scenario's id

    def __post_init__(self) -> None:
        self.key = self.key or self.scenario.id
        self.voice = self.voice or self.scenario.own_voice
        self.condition = self.condition or self.scenario.own_condition
        if not self.checks and self.events:
            self.checks = judge(self.scenario, self.events)


def turn_latencies(scenario: Scenario, events: list[Event]) -> tuple[list[float], list[float]]:
    """(to first agent audio, to first reply audio) in ms, one pair per turn that got a reply."""
    audio = sorted((e.t, e.turn) for e in events if e.kind == "agent_audio_started")
    answers = {e.turn: e.t for e in events if e.kind == "agent_content_started"}  # after an opener
    first, content = [], []
    for i, (sim, until) in enumerate(line_windows(events)):
        if i >= len(scenario.turns) or scenario.turns[i].kind == "backchannel":
            continue
        window = [(t, turn) for t, turn in audio if sim.end - 0.05 <= t < until]
        replies = [answers.get(turn, t) for t, turn in window if turn > 0]
        if replies:
            content.append(max(0.0, replies[0] - sim.end) * 1000)
            first.append(max(0.0, window[0][0] - sim.end) * 1000)
    return first, content


def _acc(checks: list[Check]) -> float | None:
    return round(sum(c.passed for c in checks) / len(checks), 3) if checks else None


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 1) if xs else None


def architecture_card(convs: list[Conversation]) -> dict:
    checks = [c for conv in convs for c in conv.checks]
    by_axis = {axis: [c for c in checks if c.axis == axis] for axis in ("memory", "knowledge", "adherence")}
    recall = [c for c in by_axis["memory"] if c.kind == "recall"]
    first, content = [], []
    for conv in convs:
        f, c = turn_latencies(conv.scenario, conv.events)
        first += f
        content += c
    knowledge = by_axis["knowledge"]
    cases = [CaseLog(conv.scenario.id, conv.condition == "echo", conv.events,
                     [(t.kind, i) for i, t in enumerate(conv.scenario.turns)])
             for conv in convs if conv.events]
    return {
        "latency": {"p50_ms": _pct(first, 50), "p95_ms": _pct(first, 95), "content_p50_ms": _pct(content, 50),
                    "content_p95_ms": _pct(content, 95), "n": len(first)},
        "memory": {
            "accuracy": _acc(by_axis["memory"]),
            "by_distance": {name: _acc([c for c in recall if distance_bucket(c.distance) == name])
                            for _, name in DISTANCE_BUCKETS},
            "n": len(by_axis["memory"]),
        },
        "knowledge": {
            "accuracy": _acc([c for c in knowledge if c.kind != "citation"]),
            "citation_accuracy": _acc([c for c in knowledge if c.kind == "citation"]),
            "n": len([c for c in knowledge if c.kind != "citation"]),
        },
        "adherence": {"accuracy": _acc(by_axis["adherence"]), "n": len(by_axis["adherence"])},
        "turn_taking": {**turn_taking(cases), **fdb_scores(merge([conv.samples for conv in convs]))},
        "conversations": len(convs),
        "failures": sum(1 for conv in convs if conv.error),
        "checks_failed": sum(1 for c in checks if not c.passed),
        "internal_spoken": sum(1 for c in checks if c.kind == "internal"),  # replies that spoke a marker
        "recall_inventions": invented_values(convs),
        **talker_claims(convs),
    }


def invented_values(convs: list[Conversation]) -> dict:
    """Recall answers that state a value nobody gave: digits or a name in the reply that nothing the
    caller was heard saying in the call contains ("I have your address listed as 123 Elm St,
    Anytown"). A wrong value the ASR delivered is a miss, not an invention; this counts the model's
    own."""
    answers, bad = 0, []
    for conv in convs:
        said = [e.text for e in conv.events if e.kind == "asr_final"]
        # each turn's values as the agent stores them ("N-T-U-Y-N" is the name NTUYN): read turn by
        # turn, since a spelling does not survive being run together with the next turn's words
        caller = " ".join(said + [f.text for text in said for f in extract(text, 0, [])])
        for c in conv.checks:
            if c.kind != "recall" or not c.heard:
                continue
            answers += 1
            if made_up := invented_specifics(c.heard, caller):
                bad.append({"conversation": conv.key, "turn": c.turn, "reply": c.heard, "values": made_up})
    return {"answers": answers, "invented": len(bad), "examples": bad[:10]}


def talker_claims(convs: list[Conversation]) -> dict:
    """A hybrid's talker lines — openers and acknowledgements — checked against what the caller
    said in that turn (`dialogue/talker.unsupported`): `{}` for an architecture without a talker."""
    lines, bad = 0, []
    for conv in convs:
        heard = {e.turn: e.text for e in conv.events if e.kind == "asr_final"}
        for e in conv.events:
            if (e.kind == "opener" and e.source == "talker") or e.kind == "acknowledgement":
                lines += 1
                if claims := unsupported(e.text, heard.get(e.turn, "")):
                    bad.append({"conversation": conv.key, "turn": e.turn, "line": e.text, "claims": claims})
    return {"talker": {"lines": lines, "unsupported": len(bad), "examples": bad[:10]}} if lines else {}


def _grouped(convs: list[Conversation], attr: str) -> dict[str, dict]:
    groups: dict[str, list[Conversation]] = {}
    for conv in convs:
        groups.setdefault(getattr(conv, attr), []).append(conv)
    return {name: architecture_card(group) for name, group in groups.items()}


def build_scorecard(suites: list[str], results: dict[str, list[Conversation]], skipped: dict[str, str]) -> dict:
    archs: dict[str, dict] = {}
    for name, convs in results.items():
        archs[name] = {**architecture_card(convs), "by_voice": _grouped(convs, "voice"),
                       "by_condition": _grouped(convs, "condition")}
    for name, reason in skipped.items():
        archs[name] = {"skipped": reason}
    return {"suites": suites, "architectures": archs}
