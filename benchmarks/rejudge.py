"""A bench run's adherence, public against held-out, judged again by the judge of this checkout.

Runs made at different commits are compared by what the agent said, not by how each commit's judge
counted it: every conversation's event log is judged again here. A scenario is held-out when its
file lies under `benchmarks/heldout*/` (written before the change it measures, never tuned on); each
such folder is counted apart, since a set whose misses a session has read is seen from then on.

Usage: python benchmarks/rejudge.py OUT [OUT …] --suite adherence,benchmarks/heldout4,… [--axis adherence] [-v]
                                    [--inventions]
  OUT is a `parley bench --out` folder; --suite what the run was given (suite names, files, folders);
  -v lists failures; --inventions also counts, per architecture, the recall answers that state a
  value nobody gave (the scorecard's `recall_inventions`).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from parley.bench.judge import judge
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


def rejudge(run: Path, scenarios: dict, axis: str, verbose: bool) -> dict[tuple, list[int]]:
    """(arch, public|heldout…[, voice]) → [passed, checks]."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for conv in sorted(run.glob("*/*/events.jsonl")):
        arch, name = conv.parent.parent.name, conv.parent.name
        sid = name.split("--")[0]
        if sid not in scenarios:
            continue
        held, scenario = scenarios[sid]
        # a run without --voices names each folder by the scenario alone: it ran in the scenario's own voice
        voice = name.split("--")[1] if "--" in name else scenario.voice or "joe"
        checks = [c for c in judge(scenario, read_events(conv)) if c.axis == axis and c.kind != "internal"]
        for key in ((arch, held), (arch, held, voice)):
            totals[key][0] += sum(c.passed for c in checks)
            totals[key][1] += len(checks)
        if verbose:
            for c in checks:
                if not c.passed:
                    print(f"  FAIL {arch} {sid} {voice} t{c.turn} {c.kind} {c.expected[:40]!r}: {c.heard[:150]!r}")
    return totals


def inventions(run: Path, scenarios: dict) -> None:
    """Each architecture's recall answers that state a value nobody gave, judged by this checkout."""
    for arch in sorted(p for p in run.iterdir() if p.is_dir()):
        convs = [Conversation(scenarios[sid][1], read_events(ev), key=ev.parent.name)
                 for ev in sorted(arch.glob("*/events.jsonl")) if (sid := ev.parent.name.split("--")[0]) in scenarios]
        out = invented_values(convs)
        print(f"{arch.name}: recall answers inventing a value {out['invented']} of {out['answers']}")
        for e in out["examples"]:
            print(f"  {e['conversation']} {e['values']}: {e['reply'][:120]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--suite", required=True, help="comma-separated suites, files or folders, as `parley bench` takes them")
    ap.add_argument("--axis", default="adherence")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--inventions", action="store_true")
    args = ap.parse_args()
    scenarios = labelled(args.suite)
    for run in args.runs:
        print(f"== {run}")
        for key, (passed, n) in sorted(rejudge(run, scenarios, args.axis, args.verbose).items()):
            print(f"{' / '.join(key):40s} {passed:4d} of {n:4d}  {passed / max(1, n):.3f}")
        if args.inventions:
            inventions(run, scenarios)


if __name__ == "__main__":
    main()
