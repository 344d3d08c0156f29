"""Cooperative cancellation shared by the event loop and model threads.

Model calls run in worker threads and check the token between tokens or chunks; the event loop
cancels by setting it. A `threading.Event` is safe to read from both sides.
"""

from __future__ import annotations

import threading


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def child(self) -> "CancelToken":
        """A token cancelled with this one, that can also be cancelled alone (stop one stage of a
        reply, e.g. the LLM stream, without cancelling the reply)."""
        return _Child(self)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"CancelToken(cancelled={self.cancelled}, reason={self.reason!r})"


class _Child(CancelToken):
    def __init__(self, parent: CancelToken) -> None:
        super().__init__()
        self._parent = parent

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or self._parent.cancelled
