"""Pause handling per conversation, read from bench output folders: for every caller line with a
mid-utterance pause, whether the agent started a reply inside it (parley's pause TOR,
`bench.turn_metrics.pause_tor`), and whether the engine ended the turn inside it at all ("ended":
a wrong decision whether or not the reply's audio got out before the caller went on — the TOR
alone moves with compute speed, a slow reply missing the pause it was wrongly started in). For
comparing runs conversation by conversation, where the scorecard gives one figure per run. With `--verdicts`, every end-of-turn verdict instead, sorted by
where it fell (inside a mid-utterance pause, or after the line's true end) and why it waited: which
signal holds pauses and which one delays finished turns.

With `--diff A B`, the lines whose pause was taken in one run and not in the other, with the
end-of-turn cues given inside the pause in each.

Usage: python benchmarks/pauses.py [--verdicts] out/RUN/cascade [out/OTHER/cascade …]
       python benchmarks/pauses.py --diff out/BEFORE/cascade out/AFTER/cascade
"""

from __future__ import annotations

import sys
from pathlib import Path

from parley.bench.turn_metrics import pause_tor, user_lines
from parley.events import TurnEndPredicted, TurnPrediction, read_events


def verdicts(run: str) -> None:
    rows = []
    for path in sorted(Path(run).glob("*/events.jsonl")):
        events = read_events(path)
        lines = user_lines(events)
        for e in events:
            if not isinstance(e, TurnPrediction):
                continue
            sim = next((s for s in lines if s.start <= e.t <= s.end + 3.0), None)
            if sim is None:
                continue
            where = "pause" if any(a <= e.t <= b for a, b in sim.pauses) else "end" if e.t >= sim.end else "line"
            rows.append((where, e.cue or "-", e.p_done, e.p_final, e.wait_ms, e.text, path.parent.name))
    for where in ("pause", "end"):
        sel = [r for r in rows if r[0] == where]
        print(f"{run}  verdicts at a line's {where}: {len(sel)}")
        for cue in sorted({r[1] for r in sel}):
            group = [r for r in sel if r[1] == cue]
            print(f"  {cue:28s} {len(group):4d}")
        if where == "end":
            for r in sorted(sel, key=lambda r: -r[4])[: max(1, len(sel) // 10)]:
                print(f"    wait {r[4]:6.0f}  p_done {r[2]}  p_final {r[3]}  {r[1]:22s} {r[5]!r}  [{r[6]}]")


def _pause_lines(run: str) -> dict:
    """(conversation, line index) → (taken, cues of the verdicts inside its pauses, text)."""
    out = {}
    for path in sorted(Path(run).glob("*/events.jsonl")):
        events = read_events(path)
        for i, sim in enumerate(user_lines(events)):
            if sim.pauses:
                cues = [e.cue or "-" for e in events if isinstance(e, TurnPrediction)
                        and any(a <= e.t <= b for a, b in sim.pauses)]
                out[(path.parent.name, i)] = (pause_tor(events, i), cues, sim.text)
    return out


def diff(before: str, after: str) -> None:
    a, b = _pause_lines(before), _pause_lines(after)
    changed = [k for k in sorted(a) if k in b and a[k][0] != b[k][0]]
    for k in changed:
        print(f"{'held ' if a[k][0] else 'taken'}  {k[0]:48s} cues {a[k][1]} -> {b[k][1]}  {a[k][2][:50]!r}")
    print(f"held now: {sum(a[k][0] for k in changed)}, taken now: {sum(b[k][0] for k in changed)}")


def main() -> None:
    if sys.argv[1:2] == ["--diff"]:
        diff(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1:2] == ["--verdicts"]:
        for run in sys.argv[2:]:
            verdicts(run)
        return
    for run in sys.argv[1:]:
        taken = ended = total = 0
        for folder in sorted(p.parent for p in Path(run).glob("*/events.jsonl")):
            events = read_events(folder / "events.jsonl")
            sims = user_lines(events)
            lines = [i for i, s in enumerate(sims) if s.pauses]
            if not lines:
                continue
            n = sum(pause_tor(events, i) for i in lines)
            ends = [e.t for e in events if isinstance(e, TurnEndPredicted)]
            m = sum(any(a <= t <= b for t in ends for a, b in sims[i].pauses) for i in lines)
            taken, ended, total = taken + n, ended + m, total + len(lines)
            print(f"{run}  {folder.name:40s} {n}/{len(lines)}  ended {m}")
        if total:
            print(f"{run}  all: {taken}/{total} pauses taken ({taken / total:.3f}), "
                  f"the turn ended inside {ended}/{total} ({ended / total:.3f})")


if __name__ == "__main__":
    main()
