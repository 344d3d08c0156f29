"""One Realtime WebSocket client ↔ one parley `Session`: the server is just another transport.

The connection hands the agent each 32 ms frame of the client's audio as soon as it is complete
(never ahead of the wall clock), and silence once the client has sent nothing for 120 ms (a client
that stops sending still gets its turn ended; padding a late frame with silence instead would cut
gaps into the caller's words). It pulls the agent's audio every 32 ms of wall time and sends it as
`response.output_audio.delta`. Audio therefore leaves in real
time, so what the server played and what the client heard differ only by the client's jitter buffer,
and a barge-in stops the agent within a frame on both sides.

Wire events come from parley's event log, never from inside the agent (`_on_event`), and from the
playout as the ticker pulls it (`_after_pull`):
- a user turn opens with `input_audio_buffer.speech_started` — at speech onset, or, when the agent
  was speaking, only once the overlap proved a barge-in (a backchannel or a cough never interrupts
  the client's playback) — and closes at parley's end of turn with `speech_stopped`, `committed`
  and `conversation.item.created`; the transcript follows when the final ASR pass is done;
- a response opens at the end of turn and its item at its first audio; transcript deltas are sent
  as each clause starts to play; it ends `completed`, or `cancelled` with the reason (a barge-in is
  `turn_detected`); an agent backchannel is a short response of its own (`metadata.parley`).
With `turn_detection: null` the VAD does not decide turns: `commit` makes the user item and
`response.create` the reply. `conversation.item.truncate` cuts history to what the client played.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame
from parley.duplex.playout import Reply
from parley.errors import ParleyError
from parley.events import (
    AgentAudioResumed, AgentAudioStopped, AsrFinal, ComponentError, Event, RecordingStarted, TtsChunk,
    TurnEndPredicted, UserSpeechStarted, UserSpeechStopped,
)
from parley.transports.realtime import wire
from parley.transports.realtime.wire import AudioIn, AudioOut, Outbox, SessionSettings, WireError

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
STARVE_S = 0.12  # no client audio this long: the caller's line is silent, not late
STOP_REASONS = {"barge_in": "turn_detected", "cancelled": "client_cancelled"}


@dataclass(frozen=True)
class Limits:
    """What one connection may send; past each, an `error` event (the connection stays open)."""
    max_message_bytes: int = 4 * 1024 * 1024
    max_ahead_s: float = 30.0  # audio sent ahead of real time that is buffered, not refused
    max_session_s: float = 3600.0  # then the session ends (error event, socket closed)


@dataclass
class Response:
    """One response on the wire, for one parley reply."""
    turn: int
    id: str = field(default_factory=lambda: wire.new_id("resp"))
    item_id: str = field(default_factory=lambda: wire.new_id("item"))
    reply: Reply | None = None
    metadata: dict | None = None
    item_added: bool = False
    begun: int = 0  # chunks whose transcript was sent
    first_chunk: int = 0
    transcript: str = ""
    samples: int = 0  # agent samples (16 kHz) sent as audio
    done: bool = False


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
        self._inbuf: deque[np.ndarray] = deque()
        self._inbuf_n = 0
        self._uncommitted: list[np.ndarray] = []  # turn_detection null: audio since the last commit
        self._pending_input: tuple[str, Any, str] | None = None  # ("audio"|"text", value, user item id)
        self._user_item: str | None = None  # the user item of the turn in progress
        self._onset_deferred: float | None = None  # speech over the agent, not yet a barge-in
        self._speech_end = 0.0
        self._last_item: str | None = None
        self._user_items: dict[int, tuple[str, str]] = {}  # reply turn → (user item id, "audio" | "text")
        self._asr: dict[int, tuple[str, float]] = {}  # reply turn → (final transcript, audio s)
        self._responses: dict[int, Response] = {}  # by reply turn, until finished
        self._by_item: dict[str, Response] = {}  # assistant item id → response (truncate, delete)
        self._next_user: tuple[str, str] | None = None  # (item id, kind) of the turn `response.create` started
        self._playing: Response | None = None
        self._sending = False  # the last tick sent reply audio
        self._wake = asyncio.Event()  # a reply may have audio to start with
        self._origin = 0.0

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
        self._origin = self._in_t = self._arrived = session.clock.now()
        session.recorder.origin = self._origin
        session.log.emit(RecordingStarted, t=self._origin)
        session.log.subscribe(self._on_event)
        from websockets.exceptions import ConnectionClosed

        tasks = [asyncio.ensure_future(c) for c in (self._reader(), self._ticker(), self._sender())]
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
        if self._inbuf_n + len(pcm) > self.limits.max_ahead_s * SAMPLE_RATE:
            raise WireError(f"Audio is arriving faster than real time (over {self.limits.max_ahead_s:g} s buffered); "
                            "this chunk was dropped: send audio at the pace it is captured.", code="audio_rate")
        self._inbuf.append(pcm)
        self._inbuf_n += len(pcm)
        self._arrived = self.session.clock.now()
        if self.settings.turn_detection is None:
            self._uncommitted.append(pcm)
        self._feed()

    async def _c_input_audio_buffer_clear(self, event: dict) -> None:
        self._uncommitted.clear()
        self._inbuf.clear()
        self._inbuf_n = 0
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
        self.send("input_audio_buffer.committed", item_id=item, previous_item_id=self._last_item)
        self._item_created(wire.user_item(item, transcript=None))

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
            self._item_created(wire.user_item(item_id, text=" ".join(texts)))
        elif audios:
            decoder = AudioIn(self.settings.input_format)
            audio = np.concatenate([decoder.decode(a) for a in audios])
            self._pending_input = ("audio", audio, item_id)
            self._item_created(wire.user_item(item_id, transcript=None))
        else:
            raise WireError("A user message needs input_text or input_audio content.", param="item.content")

    async def _c_conversation_item_truncate(self, event: dict) -> None:
        resp = self._by_item.get(event.get("item_id"))
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
            turns = [t for t, (uid, _) in self._user_items.items() if uid == item_id]
            turns += [r.turn for r in self._by_item.values() if r.item_id == item_id and r.reply is not None
                      and not r.reply.backchannel]
            if not turns:
                raise WireError(f"No item {item_id!r} in the conversation.", code="item_not_found", param="item_id")
            self.session.agent.responder.conversation.forget(turns[0])
        self.send("conversation.item.deleted", item_id=item_id)

    async def _c_response_create(self, event: dict) -> None:
        if any(not r.done for r in self._responses.values()):
            raise WireError("A response is already in progress; cancel it first.",
                            code="conversation_already_has_active_response")
        if self._pending_input is None:
            raise WireError("Nothing to respond to: parley replies to a user turn (commit audio, or create a "
                            "user message, first).", code="no_user_input")
        kind, value, item = self._pending_input
        self._pending_input = None
        self._next_user = (item, kind)
        self.session.agent.respond_now(**({"audio": value} if kind == "audio" else {"text": value}))

    async def _c_response_cancel(self, event: dict) -> None:
        if not self.session.agent.cancel_reply():
            raise WireError("There is no response in progress to cancel.", code="response_cancel_not_active")

    # --- audio in, audio out -------------------------------------------------------------------------

    def _take_input(self, pad: bool) -> np.ndarray | None:
        """The next frame of client audio; None while it is incomplete (unless `pad`: then the rest
        is silence — the client stopped sending)."""
        if self._inbuf_n < FRAME_SAMPLES and not pad:
            return None
        out = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        filled = 0
        while filled < FRAME_SAMPLES and self._inbuf:
            head = self._inbuf[0]
            n = min(FRAME_SAMPLES - filled, len(head))
            out[filled:filled + n] = head[:n]
            filled += n
            if n == len(head):
                self._inbuf.popleft()
            else:
                self._inbuf[0] = head[n:]
        self._inbuf_n -= filled
        return out

    def _feed(self) -> None:
        """Hand the agent every frame of client audio that is complete and due, as soon as it is
        (input time never runs ahead of the wall clock); when the client has sent nothing for
        STARVE_S, it hears silence from now on, so a turn still ends."""
        now = self.session.clock.now()
        while self._in_t + FRAME_S <= now + FRAME_S:
            starved = now - self._arrived > STARVE_S
            pcm = self._take_input(pad=starved)
            if pcm is None:
                return
            self._in_t = max(self._in_t + FRAME_S, now - STARVE_S) if starved else self._in_t + FRAME_S
            self.session.recorder.add_user(self._in_t, pcm)
            self.session.agent.push_audio(AudioFrame(pcm, SAMPLE_RATE, self._in_t))
            if starved:
                return  # one frame of silence a tick

    async def _ticker(self) -> None:
        """One frame out every 32 ms of wall time (and silence in, when the client sends none)."""
        clock, agent, recorder = self.session.clock, self.session.agent, self.session.recorder
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            t = clock.now()
            if t - self._origin > self.limits.max_session_s:
                self.error(WireError(f"The session reached its {self.limits.max_session_s:g} s limit and ends.",
                                     code="session_expired"))
                await self.drain()
                await self.ws.close(1000, "session length limit")
                return
            self._feed()
            playout = agent.playout
            reply, audible = playout.reply, playout.has_audio
            out = agent.pull_audio(FRAME_SAMPLES, clock.now())
            recorder.add_agent(t, out)
            self._after_pull(reply, audible, out)
            self._sending = audible
            due += FRAME_S
            if loop.time() - due > 0.5:  # the loop stalled: do not race to catch up
                due = loop.time()
            await self._until(due)
            if agent.playout.has_audio and not self._sending:
                due = loop.time()  # a reply's first audio goes out now, not at the next tick

    async def _until(self, due: float) -> None:
        """Sleep until `due`, or until a reply has audio to start with (`_wake`)."""
        loop = asyncio.get_running_loop()
        while (delay := due - loop.time()) > 0:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                return
            if self.session.agent.playout.has_audio and not self._sending:
                return

    def _after_pull(self, reply: Reply | None, audible: bool, out: np.ndarray) -> None:
        playout = self.session.agent.playout
        if reply is not None and (self._playing is None or self._playing.reply is not reply):
            self._finish(self._playing)
            self._playing = self._response_for(reply)
        resp = self._playing
        if resp is not None and audible:
            n_begun = playout.begun if playout.reply is reply else len(reply.chunks)
            self._transcript(resp, n_begun)
            self._add_item(resp)
            self.send("response.output_audio.delta", response_id=resp.id, item_id=resp.item_id, output_index=0,
                      content_index=0, delta=self._audio_out.encode(out))
            resp.samples += len(out)
        if resp is not None and playout.reply is not resp.reply:
            self._finish(resp)
            self._playing = None
        for other in [r for r in self._responses.values() if r.reply is None and r is not self._playing
                      and (playout.reply is None or playout.reply.turn != r.turn)]:
            self._finish(other)  # never reached the playout

    # --- responses ---------------------------------------------------------------------------------

    def _response_for(self, reply: Reply) -> Response:
        if reply.backchannel:
            resp = Response(turn=0, metadata={"parley": "backchannel"})
            self.send("response.created", response=wire.response_object(resp.id, status="in_progress",
                                                                          metadata=resp.metadata))
        else:
            resp = self._responses.get(reply.turn) or self._open_response(reply.turn)
        resp.reply, resp.first_chunk = reply, self.session.agent.playout.first_chunk
        resp.begun = resp.first_chunk
        return resp

    def _open_response(self, turn: int) -> Response:
        resp = Response(turn=turn)
        self._responses[turn] = resp
        self.send("response.created", response=wire.response_object(resp.id, status="in_progress"))
        return resp

    def _add_item(self, resp: Response) -> None:
        if resp.item_added:
            return
        resp.item_added = True
        self._by_item[resp.item_id] = resp
        if len(self._by_item) > 256:  # old items cannot be truncated any more
            self._by_item.pop(next(iter(self._by_item)))
        item = wire.assistant_item(resp.item_id)
        self.send("response.output_item.added", response_id=resp.id, output_index=0, item=item)
        self._item_created(item)
        self.send("response.content_part.added", response_id=resp.id, item_id=resp.item_id, output_index=0,
                  content_index=0, part={"type": "audio", "transcript": ""})

    def _transcript(self, resp: Response, n_begun: int) -> None:
        chunks = resp.reply.chunks
        for chunk in chunks[resp.begun:n_begun]:
            text = chunk.text.strip()
            if text:
                self._add_item(resp)
                delta = (" " if resp.transcript else "") + text
                resp.transcript += delta
                self.send("response.output_audio_transcript.delta", response_id=resp.id, item_id=resp.item_id,
                          output_index=0, content_index=0, delta=delta)
        resp.begun = max(resp.begun, n_begun)

    def _finish(self, resp: Response | None) -> None:
        if resp is None or resp.done:
            return
        resp.done = True
        self._responses.pop(resp.turn, None)
        if resp.reply is None:  # stopped before it reached the playout (a client's cancel)
            cancelled, reason = True, "client_cancelled"
        else:
            cancelled = resp.reply.cancel.cancelled and resp.reply.cancel.reason in STOP_REASONS
            reason = STOP_REASONS.get(resp.reply.cancel.reason or "")
        if resp.reply is not None and not cancelled:
            self._transcript(resp, len(resp.reply.chunks))  # the clauses of the last pull
        output = []
        if resp.item_added:
            item = wire.assistant_item(resp.item_id, transcript=resp.transcript,
                                       status="incomplete" if cancelled else "completed")
            common = {"response_id": resp.id, "item_id": resp.item_id, "output_index": 0, "content_index": 0}
            self.send("response.output_audio.done", **common)
            self.send("response.output_audio_transcript.done", transcript=resp.transcript, **common)
            self.send("response.content_part.done", part={"type": "audio", "transcript": resp.transcript}, **common)
            self.send("response.output_item.done", response_id=resp.id, output_index=0, item=item)
            output = [item]
        self.send("response.done", response=wire.response_object(
            resp.id, status="cancelled" if cancelled else "completed", output=output,
            reason=reason if cancelled else None, metadata=resp.metadata))

    def _item_created(self, item: dict) -> None:
        self.send("conversation.item.created", previous_item_id=self._last_item, item=item)
        self._last_item = item["id"]

    # --- parley events → wire events ------------------------------------------------------------------

    def _ms(self, t: float) -> int:
        return max(0, int(round((t - self._origin) * 1000)))

    def _open_user_turn(self, t: float) -> None:
        if self._user_item is None:
            self._user_item = wire.new_id("item")
            self.send("input_audio_buffer.speech_started", audio_start_ms=self._ms(t), item_id=self._user_item)

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, UserSpeechStarted) and self.settings.turn_detection is not None:
            if self.session.agent.playout.speaking:
                self._onset_deferred = ev.t  # a barge-in, a backchannel or a noise: not known yet
            else:
                self._open_user_turn(ev.t)
        elif isinstance(ev, UserSpeechStopped):
            self._speech_end = ev.t
        elif isinstance(ev, AgentAudioResumed):
            self._onset_deferred = None
        elif isinstance(ev, AgentAudioStopped):
            if ev.reason == "barge_in" and self._onset_deferred is not None:
                self._open_user_turn(self._onset_deferred)
                self._onset_deferred = None
        elif isinstance(ev, TurnEndPredicted):
            self._turn_ended(ev.turn)
            self._wake.set()
        elif isinstance(ev, TtsChunk):
            self._wake.set()
        elif isinstance(ev, AsrFinal):
            self._asr[ev.turn] = (ev.text, ev.audio_s)
            self._transcribed(ev.turn)
        elif isinstance(ev, ComponentError):
            self.error(WireError(f"{ev.component}: {ev.message}", code=ev.component or "component"), "server_error")

    def _turn_ended(self, turn: int) -> None:
        if self._next_user is not None:  # a client's commit or message
            item, kind = self._next_user
            self._next_user = None
        else:
            self._open_user_turn(self._speech_end)
            item, kind = self._user_item, "audio"
            self.send("input_audio_buffer.speech_stopped", audio_end_ms=self._ms(self._speech_end), item_id=item)
            self.send("input_audio_buffer.committed", item_id=item, previous_item_id=self._last_item)
            self._item_created(wire.user_item(item, transcript=None))
        self._user_item = None
        self._user_items[turn] = (item, kind)
        if len(self._user_items) > 256:
            self._user_items.pop(next(iter(self._user_items)))
        self._open_response(turn)
        self._transcribed(turn)

    def _transcribed(self, turn: int) -> None:
        if turn in self._asr and turn in self._user_items:
            text, audio_s = self._asr.pop(turn)
            item, kind = self._user_items[turn]
            if kind == "audio":
                self.send("conversation.item.input_audio_transcription.completed", item_id=item, content_index=0,
                          transcript=text, usage={"type": "duration", "seconds": round(audio_s, 3)})
        for old in [t for t in self._asr if t < turn - 8]:  # speculations that never became turns
            del self._asr[old]

