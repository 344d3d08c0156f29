"""The WebSocket as the protocol sees it: client events in, parsed and size-checked; server events
out, in order, each with its `event_id` (`wire.Outbox`).

A malformed or oversized client message is answered with an `error` event and skipped, so what
reaches the connection's handlers is always a JSON object with a string `type`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from parley.transports.realtime import wire
from parley.transports.realtime.wire import Outbox, WireError


class Channel:
    def __init__(self, ws, max_message_bytes: int) -> None:
        self.ws = ws
        self.max_message_bytes = max_message_bytes
        self.outbox = Outbox()
        self._queue: asyncio.Queue = asyncio.Queue()

    def send(self, kind: str, **fields: Any) -> None:
        self._queue.put_nowait(self.outbox.event(kind, **fields))

    def error(self, err: WireError, kind: str = "invalid_request_error") -> None:
        self.send("error", error=wire.error_body(err, kind))

    async def sender(self) -> None:
        """Send queued events for as long as it runs (one task per phase of the connection)."""
        while True:
            event = await self._queue.get()
            await self.ws.send(json.dumps(event))

    async def drain(self) -> None:
        """Send what is queued now."""
        while not self._queue.empty():
            await self.ws.send(json.dumps(self._queue.get_nowait()))

    async def messages(self):
        """Client events, parsed; a malformed or oversized one is answered with `error` and skipped."""
        async for raw in self.ws:
            if len(raw) > self.max_message_bytes:
                self.error(WireError(f"Message of {len(raw)} bytes is over the {self.max_message_bytes}-byte "
                                     "limit; send audio in smaller appends.", code="message_too_large"))
                continue
            try:
                event = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                self.error(WireError("Message is not valid JSON.", code="invalid_json"))
                continue
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                self.error(WireError("A client event is a JSON object with a string `type`.", code="invalid_event"))
                continue
            yield event
