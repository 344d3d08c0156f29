"""`parley duplex-check`: synthesized duplex situations through the cascade, scored from event logs.

Five kinds, ten cases each by default, every other case with the agent's echo mixed back into the
user's channel (−20 dB, 30–60 ms):
- pause: a sentence with a 1.0–1.8 s pause in the middle (after "and", "um", a number, ...);
- backchannel: a question that draws a long reply, and "mhm" / "yeah" / "okay" / "right" / a cough
  (a noise burst) 1.2–2.6 s into the reply;
- smooth: a complete question, then silence;
- interruption: a question that draws a long reply, and a new request 1.5–3 s into it;
- monologue: the user tells a story for 25 s or more with 0.6–1.6 s pauses; the agent should only
  backchannel (Full-Duplex-Bench's backchannel task).
Each case is its own session, run on a virtual clock that charges measured compute (or real time).
`turn_taking.json` holds parley's event-log metrics and, beside them, Full-Duplex-Bench's official
figures computed on samples cut from the same cases (`fdb_*`; bench/fdb.py).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.bench.fdb import conversation_samples, export_tree, merge
from parley.bench.fdb_score import fdb_scores
from parley.bench.turn_metrics import CaseLog, turn_taking
from parley.bench.user import spoken_with_pauses
from parley.bench.voices import speak_as_user
from parley.clock import RealClock, VirtualClock
from parley.config import AgentConfig
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

PAUSES = [
    ("I ordered a jacket last week and", "it still has not arrived."),
    ("My order number is four four", "seven one nine two."),
    ("So I was wondering, um", "whether you ship to Canada."),
    ("I would like to change the delivery address to", "twelve Baker Street, please."),
    ("The jacket I got is the wrong size, so", "I want to exchange it."),
    ("My phone number is five five five", "two one three four."),
    ("Could you tell me about the", "warranty on your boots?"),
    ("I paid with my credit card but", "the charge appeared twice."),
    ("My name is spelled L O", "P E Z."),
    ("I think the problem is that", "the zipper is broken."),
]
LONG_QUESTIONS = [
    "Can you explain your return policy to me in detail, step by step?",
    "Could you describe all the delivery options you offer and how long each one takes?",
    "Please tell me everything I need to know about caring for a wool coat.",
    "What are the differences between your three membership plans?",
    "Can you walk me through how to measure myself to find the right size?",
]
BACKCHANNELS = ["Mhm.", "Yeah.", "Okay.", "Right.", "<cough>"]
MONOLOGUES = [  # pieces said with a pause after each; each story runs 25-35 s
    ["So last month I ordered a winter coat for my daughter,", "and when it came the sleeves were far too long,",
     "so I sent it back the next day with the return label,", "but the refund still has not shown up on my card,",
     "and I called twice already and nobody could tell me anything,", "and the second time I waited on hold for forty minutes,",
     "which is a long time when you are calling from work."],
    ["Let me explain what happened with the delivery.", "The driver came on Tuesday while I was at work,",
     "and he left the parcel with a neighbour I have never met,", "and that neighbour moved out on Friday,",
     "so now I have no idea where my boots actually are,", "and the tracking page still says that they were delivered,",
     "which is technically true, I suppose, but not very helpful."],
    ["I have been a customer of yours for about six years,", "and I have always liked the quality of the shirts,",
     "but the last three orders all had loose buttons,", "and one of them had a tear along the seam,",
     "so I am starting to wonder whether something changed at the factory,", "or maybe it is just bad luck with the shipping,",
     "because the boxes looked like somebody had sat on them."],
    ["My husband and I are planning a hiking trip in October,", "and we need two rain jackets and two pairs of boots,",
     "and I would like everything to arrive before the twentieth,", "because we leave early on the morning of the twenty first,",
     "and I really do not want to buy things at the airport,", "since the last time we did that the boots gave me blisters",
     "for the whole first week of the holiday."],
    ["The reason I am calling is a bit complicated.", "I bought a gift card for my brother at Christmas,",
     "and he tried to use it online last week,", "but the website said the card had already been used,",
     "and he is quite sure that he never used it before,", "and I still have the receipt from the store downtown,",
     "with the card number printed right at the bottom of it."],
]
SMOOTH = [
    "What time do you open on Saturdays?",
    "Do you sell gift cards?",
    "How much does standard shipping cost?",
    "Is the blue rain jacket waterproof?",
    "Can I pay with PayPal?",
    "Where is my nearest store?",
    "Do you have this shirt in size large?",
    "How do I reset my password?",
    "Can I cancel my order?",
    "What is your phone number?",
]
INTERRUPTIONS = [
    "Sorry, wait. What about exchanges instead?",
    "Hold on, I only need to know the price.",
    "Actually, stop. Can you just send me an email?",
    "Sorry to interrupt, but how long does it take?",
    "Wait, wait. Is that free?",
]



@dataclass
class Case:
    name: str
    kind: str
    echo: bool
    lines: list[UserLine]


def _cough(seed: int) -> np.ndarray:
    """A 250 ms broadband burst with a fast decay: what a cough looks like to a VAD and an ASR."""
    rng = np.random.default_rng(seed)
    n = 4000
    env = np.exp(-np.linspace(0, 6, n))
    return (0.3 * env * rng.standard_normal(n)).astype(np.float32)


def build_cases(per_kind: int = 10, *, echo_all: bool = False) -> list[Case]:
    cases: list[Case] = []
    for i in range(per_kind):
        echo = echo_all or i % 2 == 1
        a, b = PAUSES[i % len(PAUSES)]
        pause_s = 1.0 + 0.8 * (i % 5) / 4
        pcm, spans = spoken_with_pauses([a, b], [int(pause_s * 1000)], "joe")
        cases.append(Case(f"pause-{i:02d}", "pause", echo, [UserLine(f"{a} … {b}", pcm, pauses=tuple(spans))]))

        q = LONG_QUESTIONS[i % len(LONG_QUESTIONS)]
        bc = BACKCHANNELS[i % len(BACKCHANNELS)]
        bc_pcm = _cough(i) if bc == "<cough>" else speak_as_user(bc)
        cases.append(Case(f"backchannel-{i:02d}", "backchannel", echo, [
            UserLine(q, speak_as_user(q)), UserLine(bc, bc_pcm, after_agent_starts_s=1.2 + 0.35 * (i % 5))]))

        s = SMOOTH[i % len(SMOOTH)]
        cases.append(Case(f"smooth-{i:02d}", "smooth", echo, [UserLine(s, speak_as_user(s))]))

        q2 = LONG_QUESTIONS[(i + 2) % len(LONG_QUESTIONS)]
        it = INTERRUPTIONS[i % len(INTERRUPTIONS)]
        cases.append(Case(f"interruption-{i:02d}", "interruption", echo, [
            UserLine(q2, speak_as_user(q2)), UserLine(it, speak_as_user(it), after_agent_starts_s=1.5 + 0.375 * (i % 5))]))

        story = MONOLOGUES[i % len(MONOLOGUES)]
        pauses = [600 + 250 * ((i + k) % 5) for k in range(len(story) - 1)]
        pcm, spans = spoken_with_pauses(story, pauses, "joe")
        cases.append(Case(f"monologue-{i:02d}", "monologue", echo, [UserLine(" … ".join(story), pcm, pauses=tuple(spans))]))
    return cases


async def run_case(cfg: AgentConfig, case: Case, out_dir: Path | None, clock: str, arch: str = "cascade") -> CaseLog:
    from parley.architectures.registry import clock_for

    clk = VirtualClock() if clock_for(arch, clock) == "virtual" else RealClock()
    res = await run_conversation(
        cfg, case.lines, clock=clk, out_dir=out_dir / case.name if out_dir else None, session=case.name, arch=arch,
        echo_db=-20.0 if case.echo else None, echo_delay_s=0.03 + 0.03 * (sum(map(ord, case.name)) % 3) / 2,
        reply_timeout_s=8.0, tail_s=1.5,
    )
    return CaseLog.single(case.name, case.kind, case.echo, res.log.events)


def duplex_check(cfg: AgentConfig, out_dir: Path, *, per_kind: int = 10, clock: str = "virtual",
                 echo_all: bool = False, export_fdb: Path | None = None, progress=None, arch: str = "cascade") -> dict:
    cases = build_cases(per_kind, echo_all=echo_all)
    logs, samples = [], []
    for case in cases:
        log = asyncio.run(run_case(cfg, case, out_dir / "cases", clock, arch))
        logs.append(log)
        kinds = [None] * len(case.lines)
        kinds[log.probes[0][1]] = case.kind
        samples.append(conversation_samples(out_dir / "cases" / case.name, log.events, kinds))
        if progress:
            progress(case)
    metrics = {**turn_taking(logs), **fdb_scores(merge(samples))}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "turn_taking.json").write_text(json.dumps(metrics, indent=2))
    if export_fdb is not None:
        export_tree(export_fdb, {arch: merge(samples)})
    return metrics
