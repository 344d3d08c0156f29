from __future__ import annotations

from typing import AsyncIterator, Protocol, TypedDict

from parley.cancel import CancelToken


class Message(TypedDict):
    role: str  # system | user | assistant
    content: str


class ChatModel(Protocol):
    """Streams reply text for a chat; stops promptly when `cancel` is set."""

    name: str

    def stream(self, messages: list[Message], *, cancel: CancelToken) -> AsyncIterator[str]: ...

    async def warm(self, messages: list[Message]) -> None:
        """Prefill a stable prefix (the system prompt) so the next turn does not pay for it."""
