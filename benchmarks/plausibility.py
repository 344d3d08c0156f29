"""How well the chat model's view of a transcript tells a garbled one from a good one.

Whisper, on a voice or line it hears badly, often writes fluent-looking nonsense with confidence
("We haven't moved, but the rest is donating" for "We have moved, the new address is two eighteen
Birchwood Avenue"); its own log-probability misses about half of the garbled transcripts
(`asr_confidence.py`). The chat model reads the words after the conversation so far: the mean
log-probability of their tokens (`LlamaEngine.read`, `Reading.plausibility`) is low where they make
no sense there.

Every caller turn of four words or more in the given bench runs is taken with what was said (the
simulated caller's line) and what the agent heard (`agent_turn.user`), the agent's previous line as
context, and scored by each embedded model. A transcript is garbled at WER >= 50 %, good at <= 10 %.
For each threshold: how many fall below it, how many of those are garbled, and how many good ones
would have been asked for again for nothing.

Usage: python benchmarks/plausibility.py OUT [OUT ...] [--llm quality,fast] [--json FILE]
  OUT: `parley bench --out` folders (every events.jsonl under them is read)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

from parley.components import registry
from parley.dialogue.persona import system_prompt
from parley.dialogue.readback import SHORT_WORDS
from parley.eventlog import read_events
from parley.events import AgentTurn, SimUtterance

sys.path.insert(0, str(Path(__file__).parent))
from voices_wer import edit_distance, words  # noqa: E402

THRESHOLDS = (-4.5, -5.0, -5.5, -6.0, -6.5, -7.0)


def turns(runs: list[str]) -> list[dict]:
    """(said, heard, the agent's line before) for every caller turn of more than SHORT_WORDS words."""
    rows = []
    for run in runs:
        for path in sorted(Path(run).glob("**/events.jsonl")):
            events = read_events(path)
            lines = [e for e in events if isinstance(e, SimUtterance)]
            before = None
            for e in (e for e in events if isinstance(e, AgentTurn)):
                said = max((s for s in lines if s.end <= e.t), key=lambda s: s.end, default=None)
                truth = said.text.replace("…", " ") if said else ""
                if said is not None and e.user.strip() and len(words(truth)) > SHORT_WORDS:
                    wer = edit_distance(words(truth), words(e.user)) / len(words(truth))
                    rows.append({"conversation": path.parent.name, "said": truth, "heard": e.user,
                                 "wer": round(wer, 3), "before": before})
                before = e.agent
    return rows


def score(engine, row: dict) -> float | None:
    messages = [{"role": "system", "content": system_prompt()}]
    if row["before"]:
        messages += [{"role": "user", "content": "Hello."}, {"role": "assistant", "content": row["before"]}]
    messages.append({"role": "user", "content": row["heard"]})
    return engine.executor.submit(engine.read, messages, row["heard"]).result().plausibility


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--llm", default="quality,fast")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = turns(args.runs)
    garbled, good = sum(r["wer"] >= 0.5 for r in rows), sum(r["wer"] <= 0.1 for r in rows)
    print(f"{len(rows)} caller turns: {garbled} garbled (WER >= 50 %), {good} good (WER <= 10 %)")
    out = {"machine": platform.platform(), "rows": rows, "models": {}}
    for model in args.llm.split(","):
        engine = registry.llama_engine(model, 8192, 2)
        for r in rows:
            r[model] = score(engine, r)
        print(f"\n{model}: mean token log-probability of the words heard")
        for label, pick in (("good", lambda r: r["wer"] <= 0.1), ("garbled", lambda r: r["wer"] >= 0.5)):
            v = [r[model] for r in rows if pick(r) and r[model] is not None]
            print(f"  {label:8s} percentiles 5/25/50/75/95: " + " ".join(f"{x:.2f}" for x in np.percentile(v, [5, 25, 50, 75, 95])))
        print(f"  {'below':>7} {'flagged':>8} {'garbled':>8} {'good':>6}")
        table = []
        for thr in THRESHOLDS:
            low = [r for r in rows if r[model] is not None and r[model] < thr]
            row = {"threshold": thr, "flagged": len(low), "garbled": sum(r["wer"] >= 0.5 for r in low),
                   "good": sum(r["wer"] <= 0.1 for r in low)}
            table.append(row)
            print(f"  {thr:>7} {row['flagged']:>8} {row['garbled']:>8} {row['good']:>6}")
        out["models"][model] = table
        engine.close()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
