"""One Realtime WebSocket client ↔ one parley `Session`: the server is just another transport.

What the client is told is the `Narrator`'s (`narrator.py`), the audio's pace the `AudioPacer`'s
(`pacing.py`: in as it completes, out every 32 ms), the socket's framing the `Channel`'s
(`channel.py`); this module handles what the client asks.
With `turn_detection: null` the VAD does not decide turns: `commit` makes the user item and
`response.create` the reply (`turn_input.py`). `conversation.item.truncate` cuts history to what the client played.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from parley.audio.frame import SAMPLE_RATE
from parley.errors import ParleyError
from parley.events import RecordingStarted
from parley.transports.realtime import wire
from parley.transports.realtime.channel import Channel
from parley.transports.realtime.narrator import Narrator
from parley.transports.realtime.pacing import FRAME_S, AudioPacer
from parley.transports.realtime.turn_input import TurnInput
from parley.transports.realtime.wire import AudioIn, AudioOut, SessionSettings, WireError



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
        self.channel = Channel(ws, limits.max_message_bytes)
        self.send, self.error, self.drain = self.channel.send, self.channel.error, self.channel.drain
        self._first: dict | None = None  # the client event that made the session start
        self.session = None
        self._audio_in = AudioIn(settings.input_format)
        self._audio_out = AudioOut(settings.output_format)
        self.turn_input = TurnInput()  # turn_detection null: what the next response.create answers
        self.narrator: Narrator | None = None
        self.pacer: AudioPacer | None = None

    # --- before the agent exists ---------------------------------------------------------------------

    async def opening(self) -> bool:
        """Send `session.created` and take client events until one needs the agent; False if the
        client left first. `session.update`s before that shape the agent that is built."""
        sender = asyncio.ensure_future(self.channel.sender())
        self.send("session.created", session=self.settings.wire())
        try:
            async for event in self.channel.messages():
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

        tasks = [asyncio.ensure_future(c) for c in (self._reader(), self._paced(origin), self.channel.sender())]
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
        async for event in self.channel.messages():
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
            self.turn_input.append(pcm)
        self.pacer.push(pcm)

    async def _c_input_audio_buffer_clear(self, event: dict) -> None:
        self.turn_input.clear()
        self.pacer.clear()
        self.send("input_audio_buffer.cleared")

    async def _c_input_audio_buffer_commit(self, event: dict) -> None:
        if self.settings.turn_detection is not None:
            raise WireError("Turn detection is on, so the server commits turns itself; set turn_detection to null "
                            "to commit them yourself.", code="turn_detection_active")
        item = self.turn_input.commit()
        self.send("input_audio_buffer.committed", item_id=item, previous_item_id=self.narrator.last_item)
        self.narrator.item_created(wire.user_item(item, transcript=None))

    async def _c_conversation_item_create(self, event: dict) -> None:
        self.narrator.item_created(self.turn_input.message(event.get("item"), self.settings.input_format))

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
        if not self.turn_input.forget(item_id):
            turn = self.narrator.turn_of(item_id)
            if turn is None:
                raise WireError(f"No item {item_id!r} in the conversation.", code="item_not_found", param="item_id")
            self.session.agent.responder.conversation.forget(turn)
        self.send("conversation.item.deleted", item_id=item_id)

    async def _c_response_create(self, event: dict) -> None:
        if self.narrator.responding:
            raise WireError("A response is already in progress; cancel it first.",
                            code="conversation_already_has_active_response")
        kind, value, item = self.turn_input.take()
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

