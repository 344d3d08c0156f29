"""Prefix reuse: the LLM's first-token time as the conversation grows.

The cascade's prompt is system (persona, procedure, knowledge) + history + the new user turn, and the
history only grows at its end, so llama.cpp's KV cache keeps the longest common prefix and each turn
prefills only what is new: the previous reply as heard and the new user words. This replays a
scripted text conversation (no audio) through the same History and LlamaChatModel the cascade uses,
with the six bench knowledge documents (~3 KB, ~800 tokens) in the system prompt, and times
request → first token per turn.

Usage: python benchmarks/prefix_reuse.py [--turns N] [--llm quality|fast] [--runs R] [--json FILE]
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

from parley.cancel import CancelToken
from parley.clock import RealClock
from parley.components import registry
from parley.config import AgentConfig
from parley.dialogue.history import History
from parley.dialogue.persona import DEFAULT_PERSONA, system_prompt

KB = Path(__file__).parent.parent / "src/parley/bench/scenarios/kb"
QUESTIONS = [
    "Hi, my name is Dana and my order number is 44172.", "How much does express shipping cost?",
    "Do you ship to Canada?", "How long is the warranty on Trailhead boots?", "Is the Boise store open on Sundays?",
    "What does the Summit plan cost?", "Can I return a swimsuit?", "How long does a refund take?",
    "What is the rain shell made of?", "Where is the Reno outlet?", "Do members get free returns?",
    "When is standard shipping free?", "How do I claim the warranty?", "What colors does the shell come in?",
    "Can I pick up an online order in Reno?", "How much is resoling after the warranty?",
    "What time does Portland open on Saturday?", "Is the Plus plan worth it?", "How heavy is the rain shell?",
    "What was my order number again?", "Thanks, one more thing: do you price match?", "Goodbye.",
]


async def run(cfg: AgentConfig, turns: int) -> list[float]:
    docs = [(p.stem, p.read_text()) for p in sorted(KB.glob("*.md"))]
    history = History(system_prompt(DEFAULT_PERSONA, documents=docs), max_chars=3 * (cfg.llm.n_ctx - cfg.llm.max_tokens))
    llm = registry.chat_model(cfg.llm, RealClock())
    await llm.warm(history.messages())
    firsts = []
    for i in range(turns):
        user = QUESTIONS[i % len(QUESTIONS)]
        t0 = time.perf_counter()
        first, text = None, ""
        async for delta in llm.stream(history.messages(user), cancel=CancelToken()):
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            text += delta
        firsts.append(first)
        history.add(user, text)
    return firsts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--llm", default="quality")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    cfg = AgentConfig()
    cfg.llm.model = args.llm
    runs = [asyncio.run(run(cfg, args.turns)) for _ in range(args.runs)]
    per_turn = np.median(np.array(runs), axis=0)
    early = float(np.median(per_turn[1:3]))        # turns 2–3
    late = float(np.median(per_turn[-3:]))         # the last three turns
    result = {"llm": args.llm, "turns": args.turns, "runs": args.runs,
              "first_token_ms_by_turn": [round(float(x), 1) for x in per_turn],
              "turn_2_3_ms": round(early, 1), "last_3_ms": round(late, 1), "ratio": round(late / early, 2),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
