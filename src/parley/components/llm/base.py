from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Callable, Protocol, TypedDict

from parley.cancel import CancelToken


class Message(TypedDict):
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class Reading:
    """How a chat model that exposes its logits reads the caller's last words (`LlamaEngine.read`)."""
    p_final: float  # P(the words are a finished utterance)
    plausibility: float | None  # mean log-probability of their tokens after the conversation


class ChatModel(Protocol):
    """Streams reply text for a chat; stops promptly when `cancel` is set."""

    name: str

    def stream(self, messages: list[Message], *, cancel: CancelToken, background: bool = False,
               prefix: str = "") -> AsyncIterator[str]:
        """The reply in deltas; `background`: idle work that any reply may overtake; `prefix`: the
        reply's text so far (cut off earlier), which the deltas continue."""

    async def warm(self, messages: list[Message]) -> None:
        """Prefill a stable prefix (the system prompt) so the next turn does not pay for it."""

    async def prefill_aside(self, messages: list[Message], cancel: CancelToken, on_live: Callable[[], None]) -> bool:
        """Prefill a prompt that replaces the current one's head (folded history) in idle time,
        keeping the current cache for replies until done; resumable after `cancel`. Once the whole
        of `messages` is cached and live, `on_live` is called (on the event loop) and True returned."""
