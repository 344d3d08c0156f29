"""The context budget: how each architecture spends its window on a conversation, and what it loses.

A spoken conversation fills a context at very different rates depending on what the model reads:

- cascade (text LLM): the transcript as text tokens, ~195 tokens per minute of conversation
  (≈ 150 spoken words a minute, one speaker at a time, ≈ 1.3 tokens a word) plus the chat template's
  few tokens per message; persona and knowledge are text tokens too. Window: the configured model's
  context (`llm.n_ctx`).
- moshi / personaplex (audio-native): one step per 80 ms of time (12.5 steps/s), whether anyone
  speaks or not; the text prompt is fed at one token per step before the conversation; the window
  is 3000 steps (240 s) and is a ring: the oldest content, prompts first, drops out (REFERENCE.md §2).
- realtime (OpenAI-Realtime-style endpoint): audio tokens for both sides plus text tokens for the
  instructions; window 32,000 tokens (gpt-realtime's documented context). Audio is assumed at
  10 tokens/s for the user and 20 tokens/s for the agent, each speaking about half the time.

Numbers are estimates for planning, not measurements: the point is the order of magnitude — the
cascade keeps ten minutes and a knowledge base in a few thousand tokens, an audio-native window
forgets the start of the call within four minutes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

TEXT_TOKENS_PER_MIN = 195          # transcript of a two-party call, text tokens
TEMPLATE_TOKENS_PER_MIN = 40       # ~4 exchanges a minute × 2 messages × ~5 template tokens
MOSHI_STEPS_PER_S = 12.5
MOSHI_WINDOW = 3000
REALTIME_WINDOW = 32_000
REALTIME_AUDIO_TOKENS_PER_MIN = 60 * (10 * 0.5 + 20 * 0.5)  # user and agent each talk half the time


@dataclass
class Budget:
    window: int
    unit: str
    used: int               # what the whole conversation would need
    fits: bool
    lost_minutes: float     # minutes of conversation history no longer in the window at the end
    prompt: int             # persona + knowledge, in the window's unit
    prompt_lost: bool       # the prompt itself fell out of the window (ring caches)
    reply_reserve: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def text_tokens(text: str) -> int:
    """A planning estimate: ~4 characters per token for English."""
    return max(1, round(len(text) / 4)) if text else 0


def cascade(minutes: float, prompt_tokens: int, n_ctx: int, reply_tokens: int) -> Budget:
    per_min = TEXT_TOKENS_PER_MIN + TEMPLATE_TOKENS_PER_MIN
    used = round(prompt_tokens + minutes * per_min + reply_tokens)
    overflow = max(0, used - n_ctx)
    # parley keeps the prompt and drops (later: summarizes) the oldest turns first
    lost = min(minutes, overflow / per_min)
    return Budget(n_ctx, "tokens", used, used <= n_ctx, round(lost, 2), prompt_tokens, False, reply_tokens)


def moshi(minutes: float, prompt_tokens: int) -> Budget:
    per_min = MOSHI_STEPS_PER_S * 60
    conversation = minutes * per_min
    used = round(prompt_tokens + conversation)
    dropped = max(0, used - MOSHI_WINDOW)  # a ring: the prompt goes first, then the oldest audio
    history_lost = max(0.0, dropped - prompt_tokens)
    return Budget(MOSHI_WINDOW, "steps (80 ms)", used, used <= MOSHI_WINDOW, round(history_lost / per_min, 2),
                  prompt_tokens, dropped > 0)


def moshi_prompt_room(minutes: float) -> int:
    """The most prompt tokens a Moshi-style window holds beside `minutes` of conversation, so that
    `moshi(minutes, room).fits` and `prompt_lost` is false."""
    return max(0, MOSHI_WINDOW - int(minutes * MOSHI_STEPS_PER_S * 60))


def realtime(minutes: float, prompt_tokens: int) -> Budget:
    per_min = REALTIME_AUDIO_TOKENS_PER_MIN
    used = round(prompt_tokens + minutes * per_min)
    overflow = max(0, used - REALTIME_WINDOW)  # the server truncates the oldest items, instructions kept
    return Budget(REALTIME_WINDOW, "tokens", used, used <= REALTIME_WINDOW, round(min(minutes, overflow / per_min), 2),
                  prompt_tokens, False)


def plan(minutes: float, knowledge_tokens: int, persona: str, n_ctx: int, reply_tokens: int) -> dict[str, Budget]:
    prompt = text_tokens(persona) + knowledge_tokens
    return {
        "cascade": cascade(minutes, prompt, n_ctx, reply_tokens),
        "moshi": moshi(minutes, prompt),
        "personaplex": moshi(minutes, prompt),
        "realtime": realtime(minutes, prompt),
    }
