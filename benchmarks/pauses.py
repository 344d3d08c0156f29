"""Pause handling per conversation, read from bench output folders: for every caller line with a
mid-utterance pause, whether the agent started a reply inside it (parley's pause TOR,
`bench.turn_metrics.pause_tor`). For comparing runs conversation by conversation, where the
scorecard gives one figure per run.

Usage: python benchmarks/pauses.py out/RUN/cascade [out/OTHER/cascade …]
"""

from __future__ import annotations

import sys
from pathlib import Path

from parley.bench.turn_metrics import pause_tor, user_lines
from parley.events import read_events


def main() -> None:
    for run in sys.argv[1:]:
        taken = total = 0
        for folder in sorted(p.parent for p in Path(run).glob("*/events.jsonl")):
            events = read_events(folder / "events.jsonl")
            lines = [i for i, s in enumerate(user_lines(events)) if s.pauses]
            if not lines:
                continue
            n = sum(pause_tor(events, i) for i in lines)
            taken, total = taken + n, total + len(lines)
            print(f"{run}  {folder.name:40s} {n}/{len(lines)}")
        print(f"{run}  all: {taken}/{total} pauses taken" + (f" ({taken / total:.3f})" if total else ""))


if __name__ == "__main__":
    main()
