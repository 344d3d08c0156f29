"""One Realtime WebSocket client ↔ one parley `Session`: the server is just another transport.

What the client is told is the `Narrator`'s (`narrator.py`), the audio's pace the `AudioPacer`'s
(`pacing.py`: in as it completes, out every 32 ms); this module handles what the client asks.
With `turn_detection: null` the VAD does not decide turns: `commit` makes the user item and
`response.create` the reply. `conversation.item.truncate` cuts history to what the client played.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.errors import ParleyError
from parley.events import RecordingStarted
from parley.transports.realtime import wire
from parley.transports.realtime.narrator import Narrator
from parley.transports.realtime.pacing import FRAME_S, AudioPacer
from parley.transports.realtime.wire import AudioIn, AudioOut, Outbox, SessionSettings, WireError



@dataclass(frozen=True)
class Limits:
    """What one connection may send; past each, an `error` event (the connection stays open)."""
    max_message_bytes: int = 4 * 1024 * 1024
    max_ahead_s: float = 30.0  # audio sent ahead of real time that is buffered, not refused
    max_session_s: float = 3600.0  # then the session ends (error event, socket closed)
    opening_s: float = 60.0  # a connection that starts no session by then is closed (it holds a slot)


class RealtimeConnection:
    """Implements `Transport` for one WebSocket: `opening()` until the agent is needed, then `run()`."""

    def __init__(self, ws, settings: SessionSettings, limits: Limits = Limits()) -> None:
        self.ws = ws
        self.settings = settings
        self.limits = limits
        self.outbox = Outbox()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._first: dict | None = None  # the client event that made the session start
        self.session = None
        self._audio_in = AudioIn(settings.input_format)
        self._audio_out = AudioOut(settings.output_format)
        self._uncommitted: list[np.ndarray] = []  # turn_detection null: audio since the last commit
        self._pending_input: tuple[str, Any, str] | None = None  # ("audio"|"text", value, user item id)
        self.narrator: Narrator | None = None
        self.pacer: AudioPacer | None = None

    # --- the wire ---------------------------------------------------------------------------------

    def send(self, kind: str, **fields: Any) -> None:
        self._queue.put_nowait(self.outbox.event(kind, **fields))

    def error(self, err: WireError, kind: str = "invalid_request_error") -> None:
        self.send("error", error=wire.error_body(err, kind))

    async def _sender(self) -> None:
        while True:
            event = await self._queue.get()
            await self.ws.send(json.dumps(event))

    async def _messages(self):
        """Client events, parsed; a malformed or oversized one is answered with `error` and skipped."""
        async for raw in self.ws:
            if len(raw) > self.limits.max_message_bytes:
                self.error(WireError(f"Message of {len(raw)} bytes is over the {self.limits.max_message_bytes}-byte "
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

    # --- before the agent exists ---------------------------------------------------------------------

    async def opening(self) -> bool:
        """Send `session.created` and take client events until one needs the agent; False if the
        client left first. `session.update`s before that shape the agent that is built."""
        sender = asyncio.ensure_future(self._sender())
        self.send("session.created", session=self.settings.wire())
        try:
            async for event in self._messages():
                if event["type"] == "session.update":
                    try:
                        self._apply_settings(event)
                    except WireError as err:
                        err.event_id = event.get("event_id")
                        self.error(err)
                        continue
                self._first = event
                return True
            return False
        finally:
            await self.drain()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    async def drain(self) -> None:
        while not self._queue.empty():
            await self.ws.send(json.dumps(self._queue.get_nowait()))

    def _apply_settings(self, event: dict) -> list[str]:
        changed = self.settings.update(event.get("session"))
        if "input_format" in changed:
            self._audio_in = AudioIn(self.settings.input_format)
        if "output_format" in changed:
            self._audio_out = AudioOut(self.settings.output_format)
        return changed

    # --- the session -------------------------------------------------------------------------------

    async def run(self, session) -> None:
        self.session = session
        agent = session.agent
        agent.retune(self.settings.turn_taking(session.cfg.turn_taking))
        agent.listen(self.settings.turn_detection is not None)
        origin = session.recorder.origin = session.clock.now()
        session.log.emit(RecordingStarted, t=origin)
        self.narrator = Narrator(self.send, self.error, agent, origin,
                                 lambda: self.settings.turn_detection is not None, lambda pcm: self._audio_out.encode(pcm))
        self.pacer = AudioPacer(session, self.narrator.after_pull, origin)
        session.log.subscribe(self.narrator.on_event)
        session.log.subscribe(self.pacer.wake_on)
        from websockets.exceptions import ConnectionClosed

        tasks = [asyncio.ensure_future(c) for c in (self._reader(), self._paced(origin), self._sender())]
        try:
            await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
            for task in tasks[:2]:
                if task.done() and task.exception() is not None:
                    raise task.exception()
            await asyncio.wait_for(self.drain(), 2.0)
        except (asyncio.TimeoutError, ConnectionError, ConnectionClosed):
            pass  # the client left: the session closes and keeps what happened
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _reader(self) -> None:
        if self._first is not None:
            await self._handle(self._first)
        async for event in self._messages():
            await self._handle(event)

    async def _handle(self, event: dict) -> None:
        kind = event["type"]
        handler = getattr(self, "_c_" + kind.replace(".", "_"), None)
        try:
            if handler is None:
                raise WireError(f"Unknown or unsupported client event type {kind!r}.", code="unknown_event", param="type")
            await handler(event)
        except WireError as err:
            err.event_id = event.get("event_id")
            self.error(err)
        except ParleyError as err:
            self.error(WireError(str(err), event_id=event.get("event_id")))

    # --- client events -----------------------------------------------------------------------------

    async def _c_session_update(self, event: dict) -> None:
        before = self.settings.instructions
        changed = self._apply_settings(event)
        agent = self.session.agent
        if "instructions" in changed and self.settings.instructions is not None:
            try:
                await agent.responder.instruct(self.settings.instructions)
            except ParleyError:
                self.settings.instructions = before
                raise
        if "turn_detection" in changed:
            agent.retune(self.settings.turn_taking(self.session.cfg.turn_taking))
            agent.listen(self.settings.turn_detection is not None)
        self.send("session.updated", session=self.settings.wire())

    async def _c_input_audio_buffer_append(self, event: dict) -> None:
        pcm = self._audio_in.decode(event.get("audio"))
        if self.pacer.buffered + len(pcm) > self.limits.max_ahead_s * SAMPLE_RATE:
            raise WireError(f"Audio is arriving faster than real time (over {self.limits.max_ahead_s:g} s buffered); "
                            "this chunk was dropped: send audio at the pace it is captured.", code="audio_rate")
        if self.settings.turn_detection is None:
            self._uncommitted.append(pcm)
        self.pacer.push(pcm)

    async def _c_input_audio_buffer_clear(self, event: dict) -> None:
        self._uncommitted.clear()
        self.pacer.clear()
        self.send("input_audio_buffer.cleared")

    async def _c_input_audio_buffer_commit(self, event: dict) -> None:
        if self.settings.turn_detection is not None:
            raise WireError("Turn detection is on, so the server commits turns itself; set turn_detection to null "
                            "to commit them yourself.", code="turn_detection_active")
        audio = np.concatenate(self._uncommitted) if self._uncommitted else np.zeros(0, np.float32)
        if len(audio) < 0.1 * SAMPLE_RATE:
            raise WireError("Input audio buffer holds less than 100 ms of audio; nothing was committed.",
                            code="input_audio_buffer_commit_empty")
        self._uncommitted.clear()
        item = wire.new_id("item")
        self._pending_input = ("audio", audio, item)
        self.send("input_audio_buffer.committed", item_id=item, previous_item_id=self.narrator.last_item)
        self.narrator.item_created(wire.user_item(item, transcript=None))

    async def _c_conversation_item_create(self, event: dict) -> None:
        item = event.get("item")
        if not isinstance(item, dict) or item.get("type") != "message" or item.get("role") != "user":
            raise WireError("parley accepts user messages only: its history holds what the caller said and heard.",
                            code="unsupported", param="item")
        content = item.get("content") if isinstance(item.get("content"), list) else []
        texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "input_text"]
        audios = [c.get("audio") for c in content if isinstance(c, dict) and c.get("type") == "input_audio"]
        item_id = item.get("id") if isinstance(item.get("id"), str) and len(item["id"]) <= 64 else wire.new_id("item")
        if texts and all(isinstance(t, str) for t in texts):
            self._pending_input = ("text", " ".join(texts), item_id)
            self.narrator.item_created(wire.user_item(item_id, text=" ".join(texts)))
        elif audios:
            decoder = AudioIn(self.settings.input_format)
            audio = np.concatenate([decoder.decode(a) for a in audios])
            self._pending_input = ("audio", audio, item_id)
            self.narrator.item_created(wire.user_item(item_id, transcript=None))
        else:
            raise WireError("A user message needs input_text or input_audio content.", param="item.content")

    async def _c_conversation_item_truncate(self, event: dict) -> None:
        resp = self.narrator.response_of(event.get("item_id"))
        end_ms = event.get("audio_end_ms")
        if resp is None:
            raise WireError(f"No assistant item {event.get('item_id')!r} to truncate.", code="item_not_found",
                            param="item_id")
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
            raise WireError("audio_end_ms must be a non-negative integer.", param="audio_end_ms")
        sent_ms = resp.samples * 1000 // SAMPLE_RATE
        if end_ms > sent_ms + 2 * FRAME_S * 1000:
            raise WireError(f"audio_end_ms {end_ms} is past the {sent_ms} ms of audio sent for this item.",
                            param="audio_end_ms")
        agent = self.session.agent
        if resp.reply is not None and not resp.reply.backchannel:
            heard = agent.playout.text_at(resp.reply, resp.first_chunk, end_ms * SAMPLE_RATE // 1000)
            if agent.playout.reply is resp.reply:
                agent.playout.stop("cancelled", self.session.clock.now())
            agent.responder.conversation.reheard(resp.turn, heard)
        self.send("conversation.item.truncated", item_id=resp.item_id, content_index=0, audio_end_ms=end_ms)

    async def _c_conversation_item_delete(self, event: dict) -> None:
        item_id = event.get("item_id")
        if self._pending_input is not None and self._pending_input[2] == item_id:
            self._pending_input = None
        else:
            turn = self.narrator.turn_of(item_id)
            if turn is None:
                raise WireError(f"No item {item_id!r} in the conversation.", code="item_not_found", param="item_id")
            self.session.agent.responder.conversation.forget(turn)
        self.send("conversation.item.deleted", item_id=item_id)

    async def _c_response_create(self, event: dict) -> None:
        if self.narrator.responding:
            raise WireError("A response is already in progress; cancel it first.",
                            code="conversation_already_has_active_response")
        if self._pending_input is None:
            raise WireError("Nothing to respond to: parley replies to a user turn (commit audio, or create a "
                            "user message, first).", code="no_user_input")
        kind, value, item = self._pending_input
        self._pending_input = None
        self.narrator.expect(item, kind)
        self.session.agent.respond_now(**({"audio": value} if kind == "audio" else {"text": value}))

    async def _paced(self, origin: float) -> None:
        """The audio, until the session's length limit: then an error event and the socket closed."""
        await self.pacer.run(origin + self.limits.max_session_s)
        self.error(WireError(f"The session reached its {self.limits.max_session_s:g} s limit and ends.",
                             code="session_expired"))
        await self.drain()
        await self.ws.close(1000, "session length limit")

    async def _c_response_cancel(self, event: dict) -> None:
        if not self.session.agent.cancel_reply():
            raise WireError("There is no response in progress to cancel.", code="response_cancel_not_active")

