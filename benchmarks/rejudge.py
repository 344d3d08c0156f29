"""A bench run's adherence, public against held-out, judged again by the judge of this checkout.

Runs made at different commits are compared by what the agent said, not by how each commit's judge
counted it: every conversation's event log is judged again here. A scenario is held-out when its
file lies under `benchmarks/heldout*/` (written before the change it measures, never tuned on); each
such folder is counted apart, since a set whose misses a session has read is seen from then on.

Usage: python benchmarks/rejudge.py OUT [OUT …] --suite adherence,benchmarks/heldout4,… [--axis adherence] [-v]
                                    [--inventions] [--times]
  OUT is a `parley bench --out` folder; --suite what the run was given (suite names, files, folders);
  -v lists failures; --inventions also counts, per architecture, the recall answers that state a
  value nobody gave (the scorecard's `recall_inventions`); --times lists the replies that state a clock
  time no source gave (the caller's words as heard, the facts stored, the persona, the knowledge
  documents, earlier replies): what `ground_numbers`' time check replaces, for runs made before it.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from parley.bench.run import select_scenarios
from parley.bench.scorecard import Conversation, invented_values
from parley.eventlog import read_events


def labelled(suites: str) -> dict[str, tuple[str, object]]:
    """Scenario id → (its set: "public" or the held-out folder it lies in, the scenario), for the
    comma-separated suites as `parley bench --suite` takes them (names, files, folders)."""
    out: dict[str, tuple[str, object]] = {}
    for entry in suites.split(","):
        path = Path(entry)
        held = [part for part in path.resolve().parts if part.startswith("heldout")] if path.exists() else []
        for scenario in select_scenarios([entry]):
            out.setdefault(scenario.id, (held[-1] if held else "public", scenario))
    return out


def conversations(run: Path, scenarios: dict) -> list[tuple[str, str, Conversation]]:
    """(arch, its set, the conversation judged by this checkout) for each conversation of `run` in
    `scenarios`. A folder is `<scenario>--<voice>--<condition>`, or `<scenario>` alone where the
    run kept each scenario's own voice and line."""
    out = []
    for events in sorted(run.glob("*/*/events.jsonl")):
        arch, name = events.parent.parent.name, events.parent.name
        sid, *line = name.split("--")
        if sid in scenarios:
            held, scenario = scenarios[sid]
            voice, condition = line if line else (None, None)
            out.append((arch, held, Conversation(scenario, read_events(events), voice=voice, condition=condition,
                                                 key=name)))
    return out


def rejudge(convs: list, axis: str, verbose: bool) -> dict[tuple, list[int]]:
    """(arch, public|heldout…[, voice]) → [passed, checks]."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for arch, held, conv in convs:
        checks = [c for c in conv.checks if c.axis == axis and c.kind != "internal"]
        for key in ((arch, held), (arch, held, conv.voice)):
            totals[key][0] += sum(c.passed for c in checks)
            totals[key][1] += len(checks)
        if verbose:
            for c in checks:
                if not c.passed:
                    print(f"  FAIL {arch} {conv.scenario.id} {conv.voice} t{c.turn} {c.kind} {c.expected[:40]!r}: "
                          f"{c.heard[:150]!r}")
    return totals


def inventions(convs: list) -> None:
    """Each architecture's recall answers that state a value nobody gave (the scorecard's measure)."""
    for arch in sorted({arch for arch, _held, _conv in convs}):
        out = invented_values([conv for a, _held, conv in convs if a == arch])
        print(f"{arch}: recall answers inventing a value {out['invented']} of {out['answers']}")
        for e in out["examples"]:
            print(f"  {e['conversation']} {e['values']}: {e['reply'][:120]!r}")


def ungrounded_times(convs: list) -> None:
    """Replies stating a clock time that nothing the reply was given holds (`LimitGuard._invents_time`)."""
    from parley.dialogue.limits import LimitGuard
    from parley.dialogue.persona import DEFAULT_PERSONA

    replies, bad = 0, []
    for arch, _held, conv in convs:
        guard = LimitGuard([], ground_numbers=True)
        docs = " ".join(p.read_text(encoding="utf-8") for p in conv.scenario.knowledge_paths())
        guard.written = guard.grounds = f"{conv.scenario.persona or DEFAULT_PERSONA} {docs}"
        for e in conv.events:
            if e.kind == "fact_stored":
                guard.grounds += f" {e.value}"
            elif e.kind == "agent_turn":
                replies += 1
                said = e.agent or ""
                breach = guard.check(said, 0, len(said), e.user or "")
                if breach is not None and breach.limit == "ungrounded_time":
                    bad.append(f"  {arch} {conv.key}: {e.user!r} -> {said[:120]!r}")
                guard.heard_from_caller(e.user or "")
                guard.grounds += f" {said}"
    print(f"replies stating a clock time no source gave: {len(bad)} of {replies}")
    print("\n".join(bad))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--suite", required=True, help="comma-separated suites, files or folders, as `parley bench` takes them")
    ap.add_argument("--axis", default="adherence")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--inventions", action="store_true")
    ap.add_argument("--times", action="store_true")
    args = ap.parse_args()
    scenarios = labelled(args.suite)
    for run in args.runs:
        print(f"== {run}")
        convs = conversations(run, scenarios)
        for key, (passed, n) in sorted(rejudge(convs, args.axis, args.verbose).items()):
            print(f"{' / '.join(key):40s} {passed:4d} of {n:4d}  {passed / max(1, n):.3f}")
        if args.inventions:
            inventions(convs)
        if args.times:
            ungrounded_times(convs)


if __name__ == "__main__":
    main()
