"""Real-time latency over ≥ 20 spoken turns, per architecture side by side, with a per-stage breakdown.

Latency = true end of the user's audio → first agent sample played (wall clock, RealClock), a
hybrid talker's acknowledgement of the pause included; content = → first sample of the reply
itself, after any opener (for the cascade the same as latency). `hybrid-no-ack` is the hybrid
with `[hybrid] acknowledge = false`, for a side-by-side run. Architectures run one after the other
in this process, on the same lines, so their ratio is measured on one machine in one run. Stages, all from the event log:
  endpoint_wait    true end of user audio → end of turn decided
  asr_tail         speculation start (first silence) → final transcript
  llm_first_token  LLM request → first token
  first_clause     LLM request → first clause complete (text)
  tts_first_chunk  synthesis time of the first clause

With `--compete N` each architecture runs twice, alone and then beside N CPU-bound processes (a
busy loop each, the load of another program on the box), and the p95 ratio is printed.

Usage: python benchmarks/latency.py [--arch cascade[,hybrid[,hybrid-no-ack]]] [--llm quality|fast] [--turns N] [--no-finality]
                                    [--asr-beam N] [--no-second-opinion]
                                    [--compete N] [--json FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import time
from pathlib import Path

import numpy as np

from parley.bench.voices import speak_as_user
from parley.config import AgentConfig
from parley.events import TurnPrediction
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

LINES = [
    "Hi, my name is Daniel Brooks.",
    "I'd like to check on an order I placed on Monday.",
    "The order number is three eight two five one.",
    "It was a pair of running shoes.",
    "The size was ten and a half.",
    "Can you tell me when it will arrive?",
    "Is express shipping available for my area?",
    "I live in Portland, Oregon.",
    "How much would express shipping cost?",
    "Okay, and what is your return policy?",
    "Can I exchange the shoes for a different color?",
    "What colors do they come in?",
    "I think I'd like the blue ones instead.",
    "Will the exchange cost anything?",
    "How long does an exchange usually take?",
    "Do I need to print a shipping label?",
    "Can you send the label to my email?",
    "My email is dan at example dot com.",
    "Sorry, what was my order number again?",
    "And what size did I order?",
    "Great. Is there anything else I should know?",
    "Thank you so much for your help. Goodbye.",
]


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


STAGES = ["endpoint_wait", "asr_tail", "llm_first_token", "first_clause", "tts_first_chunk"]


def run(label: str, args) -> dict:
    cfg = AgentConfig()
    arch = "hybrid" if label == "hybrid-no-ack" else label
    cfg.hybrid.acknowledge = label != "hybrid-no-ack"
    cfg.llm.model = args.llm
    cfg.turn_taking.endpoint.finality = not args.no_finality
    if args.asr_beam is not None:
        cfg.asr.beam_size = args.asr_beam
    if args.no_second_opinion:
        cfg.asr.second_opinion_below = None
    lines = [UserLine(t, speak_as_user(t)) for t in LINES[: args.turns]]
    wall = time.time()
    out_dir = Path(args.out) / label if args.out else None
    res = asyncio.run(run_conversation(cfg, lines, out_dir=out_dir, arch=arch))
    wall = time.time() - wall
    rows = {"latency": [r.latency_ms for r in res.records if r.latency_ms is not None],
            "content": [r.content_ms for r in res.records if r.content_ms is not None]}
    for s in STAGES:
        rows[s] = [r.breakdown_ms[s] for r in res.records if s in r.breakdown_ms]
    print(f"\n{label}, llm={args.llm}, finality={cfg.turn_taking.endpoint.finality}, asr beam={cfg.asr.beam_size}, "
          f"{len(rows['latency'])} turns in real time, {wall:.0f} s wall")
    print(f"{'stage':<18}{'p50 ms':>10}{'p95 ms':>10}{'n':>5}")
    stages = {}
    for name, vals in rows.items():
        print(f"{name:<18}{pct(vals, 50):>10.0f}{pct(vals, 95):>10.0f}{len(vals):>5}")
        stages[name] = {"p50": round(pct(vals, 50), 1), "p95": round(pct(vals, 95), 1), "n": len(vals)}
    verdicts = {e.turn: e for e in res.log.of(TurnPrediction)}  # each turn's last verdict
    slowest = sorted((r for r in res.records if r.latency_ms is not None), key=lambda r: -r.latency_ms)[:3]
    for r in slowest:  # the p95 tail, with the end-of-turn verdict that set its wait
        v = verdicts.get(r.turn)
        print(f"  slow: {r.latency_ms:6.0f} ms  {v.cue if v and v.cue else 'no hold'}"
              f" (wait {v.wait_ms if v else float('nan'):.0f} ms, p_done {v.p_done if v else None})  {r.heard_user!r}")
    return {"turns": len(rows["latency"]), "wall_s": round(wall), "stages": stages}


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy(n: int):
    """`n` processes that keep one core each busy, as another program on the box would."""
    procs = [multiprocessing.get_context("spawn").Process(target=_spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        yield
    finally:
        for p in procs:
            p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="cascade", help="architectures, comma-separated (e.g. cascade,hybrid)")
    ap.add_argument("--llm", default="quality", choices=["quality", "fast"])
    ap.add_argument("--turns", type=int, default=len(LINES))
    ap.add_argument("--no-finality", action="store_true",
                    help="end of turn without the chat model's finality (endpoint.finality = false)")
    ap.add_argument("--asr-beam", type=int, default=None, help="beam width of the ASR's final pass ([asr] beam_size)")
    ap.add_argument("--no-second-opinion", action="store_true",
                    help="no Whisper base on doubtful finals ([asr] second_opinion_below = None)")
    ap.add_argument("--compete", type=int, default=0, help="also run beside N busy CPU-bound processes")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--out", default=None, help="also write each conversation's artefacts here, DIR/<arch>/")
    args = ap.parse_args()

    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    print(f"machine: {machine}")
    out = {"llm": args.llm, "finality": not args.no_finality, "asr_beam": args.asr_beam or AgentConfig().asr.beam_size,
           "second_opinion": not args.no_second_opinion,
           "machine": machine, "architectures": {}}
    for arch in [a.strip() for a in args.arch.split(",") if a.strip()]:
        out["architectures"][arch] = run(arch, args)
        if args.compete:
            with busy(args.compete):
                contended = out["architectures"][f"{arch}+{args.compete}busy"] = run(arch, args)
            alone = out["architectures"][arch]["stages"]["latency"]["p95"]
            print(f"{arch}: p95 beside {args.compete} busy process(es) / alone: "
                  f"{contended['stages']['latency']['p95'] / alone:.2f}")
    archs = out["architectures"]
    if len(archs) > 1:
        base, *others = list(archs)
        for other in others:
            for metric in ("latency", "content"):
                a, b = archs[other]["stages"][metric]["p50"], archs[base]["stages"][metric]["p50"]
                print(f"{other}/{base} {metric} p50: {a / b:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
