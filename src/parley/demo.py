"""The built-in demo: a six-turn customer-service call, spoken, through the cascade in real time.

The caller gives an order number in turn 2 and asks for it back in turn 5, three turns later: the
turn that shows whether a fast agent also remembers.
"""

from __future__ import annotations

from pathlib import Path

from parley.config import AgentConfig
from parley.runner import ConversationResult, run_conversation
from parley.textnorm import mentions
from parley.transports.loopback import UserLine

ORDER_NUMBER = "47192"
RECALL_TURN = 4  # 0-based index of the line that asks for the order number back

DEMO_LINES = [
    "Hi, my name is Maria Lopez. I'm calling about an order I placed last week.",
    "My order number is four seven one nine two.",
    "It was a blue rain jacket, in size medium.",
    "How long does delivery usually take?",
    "Sorry, can you remind me what my order number was?",
    "Great, thank you. That's all for today. Goodbye.",
]


def demo_lines() -> list[UserLine]:
    from parley.bench.voices import speak_as_user

    return [UserLine(text=t, pcm=speak_as_user(t)) for t in DEMO_LINES]


def recall_ok(result: ConversationResult) -> bool:
    """Did the agent say the order number back in the recall turn?"""
    for r in result.records:
        if r.user == DEMO_LINES[RECALL_TURN]:
            return mentions(ORDER_NUMBER, r.agent)
    return False


async def run_demo(cfg: AgentConfig, out_dir: Path, arch: str = "cascade") -> ConversationResult:
    return await run_conversation(cfg, demo_lines(), out_dir=out_dir, arch=arch)
