"""Real-time latency of the cascade over ≥ 20 spoken turns, with a per-stage breakdown.

Latency = true end of the user's audio → first agent sample played (wall clock, RealClock). Stages,
all from the event log:
  endpoint_wait    true end of user audio → end of turn decided
  asr_tail         speculation start (first silence) → final transcript
  llm_first_token  LLM request → first token
  first_clause     LLM request → first clause complete (text)
  tts_first_chunk  synthesis time of the first clause

Usage: python benchmarks/latency.py [--llm quality|fast] [--turns N] [--no-finality] [--json FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from parley.bench.voices import speak_as_user
from parley.config import AgentConfig
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llm", default="quality", choices=["quality", "fast"])
    ap.add_argument("--turns", type=int, default=len(LINES))
    ap.add_argument("--no-finality", action="store_true",
                    help="end of turn without the chat model's finality (endpoint.finality = false)")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--out", default=None, help="also write the conversation's artefacts (events, wav, transcript) here")
    args = ap.parse_args()

    cfg = AgentConfig()
    cfg.llm.model = args.llm
    cfg.turn_taking.endpoint.finality = not args.no_finality
    lines = [UserLine(t, speak_as_user(t)) for t in LINES[: args.turns]]
    wall = time.time()
    res = asyncio.run(run_conversation(cfg, lines, out_dir=Path(args.out) if args.out else None))
    wall = time.time() - wall

    lat = [r.latency_ms for r in res.records if r.latency_ms is not None]
    stages = ["endpoint_wait", "asr_tail", "llm_first_token", "first_clause", "tts_first_chunk"]
    rows = {"latency": lat}
    for s in stages:
        rows[s] = [r.breakdown_ms[s] for r in res.records if s in r.breakdown_ms]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    print(f"cascade, llm={args.llm}, finality={cfg.turn_taking.endpoint.finality}, {len(lat)} turns in real time, {wall:.0f} s wall; machine: {machine}")
    print(f"{'stage':<18}{'p50 ms':>10}{'p95 ms':>10}{'n':>5}")
    out = {"llm": args.llm, "finality": cfg.turn_taking.endpoint.finality, "turns": len(lat), "machine": machine, "stages": {}}
    for name, vals in rows.items():
        print(f"{name:<18}{pct(vals, 50):>10.0f}{pct(vals, 95):>10.0f}{len(vals):>5}")
        out["stages"][name] = {"p50": round(pct(vals, 50), 1), "p95": round(pct(vals, 95), 1), "n": len(vals)}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
