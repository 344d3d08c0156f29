"""What a Realtime client is told: parley's events and playout as the protocol's server events.

Wire events come from the session's event log, never from inside the agent (`on_event`), and from
the playout as the connection pulls it (`after_pull`):
- a user turn opens with `input_audio_buffer.speech_started` — at speech onset, or, when the agent
  was speaking, only once the overlap proved a barge-in (a backchannel or a cough never interrupts
  the client's playback) — and closes at parley's end of turn with `speech_stopped`, `committed`
  and `conversation.item.created`; the transcript follows when the final ASR pass is done;
- a response opens at the end of turn and its item at its first audio; transcript deltas are sent
  as each clause starts to play; it ends `completed`, or `cancelled` with the reason (a barge-in is
  `turn_detected`); an agent backchannel is a short response of its own (`metadata.parley`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from parley.duplex.playout import Reply
from parley.events import (
    AgentAudioResumed, AgentAudioStopped, AsrFinal, ComponentError, Event, TurnEndPredicted, UserSpeechStarted,
    UserSpeechStopped,
)
from parley.transports.realtime import wire
from parley.transports.realtime.wire import WireError

STOP_REASONS = {"barge_in": "turn_detected", "cancelled": "client_cancelled"}
KEEP = 256  # items remembered for truncate / delete


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


class Narrator:
    """The conversation's items and responses as the client sees them."""

    def __init__(self, send: Callable[..., None], error: Callable[..., None], agent, origin: float,
                 turn_detection: Callable[[], bool], encode: Callable[[np.ndarray], str]) -> None:
        self.send, self.error, self.agent, self.origin = send, error, agent, origin
        self.turn_detection = turn_detection  # the server decides turns (not `turn_detection: null`)
        self.encode = encode  # agent audio → the session's output format
        self.last_item: str | None = None
        self._user_item: str | None = None  # the user item of the turn in progress
        self._onset_deferred: float | None = None  # speech over the agent, not yet a barge-in
        self._speech_end = 0.0
        self._next_user: tuple[str, str] | None = None  # (item id, kind) of the turn `response.create` started
        self._user_items: dict[int, tuple[str, str]] = {}  # reply turn → (user item id, "audio" | "text")
        self._asr: dict[int, tuple[str, float]] = {}  # reply turn → (final transcript, audio s)
        self._responses: dict[int, Response] = {}  # by reply turn, until finished
        self._by_item: dict[str, Response] = {}  # assistant item id → response
        self._playing: Response | None = None

    # --- what the connection asks ------------------------------------------------------------------

    @property
    def responding(self) -> bool:
        return any(not r.done for r in self._responses.values())

    def expect(self, item: str, kind: str) -> None:
        """The next turn is the client's item (a commit or a message), not one the VAD heard."""
        self._next_user = (item, kind)

    def response_of(self, item_id: str) -> Response | None:
        return self._by_item.get(item_id)

    def turn_of(self, item_id: str) -> int | None:
        """The exchange an item (the user's or the agent's) belongs to."""
        for turn, (uid, _) in self._user_items.items():
            if uid == item_id:
                return turn
        resp = self._by_item.get(item_id)
        return resp.turn if resp is not None and resp.reply is not None and not resp.reply.backchannel else None

    def after_pull(self, reply: Reply | None, audible: bool, out: np.ndarray) -> None:
        """After each pull of agent audio: responses opened, audio and transcript sent, closed."""
        playout = self.agent.playout
        if reply is not None and (self._playing is None or self._playing.reply is not reply):
            self._finish(self._playing)
            self._playing = self._response_for(reply)
        resp = self._playing
        if resp is not None and audible:
            n_begun = playout.begun if playout.reply is reply else len(reply.chunks)
            self._transcript(resp, n_begun)
            self._add_item(resp)
            self.send("response.output_audio.delta", response_id=resp.id, item_id=resp.item_id, output_index=0,
                      content_index=0, delta=self.encode(out))
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
            resp = Response(turn=0, metadata={"parley": "acknowledgement" if reply.acknowledges else "backchannel"})
            self.send("response.created", response=wire.response_object(resp.id, status="in_progress",
                                                                          metadata=resp.metadata))
        else:
            resp = self._responses.get(reply.turn) or self._open_response(reply.turn)
        resp.reply, resp.first_chunk = reply, self.agent.playout.first_chunk
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
        if len(self._by_item) > KEEP:  # old items cannot be truncated any more
            self._by_item.pop(next(iter(self._by_item)))
        item = wire.assistant_item(resp.item_id)
        self.send("response.output_item.added", response_id=resp.id, output_index=0, item=item)
        self.item_created(item)
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

    def item_created(self, item: dict) -> None:
        self.send("conversation.item.created", previous_item_id=self.last_item, item=item)
        self.last_item = item["id"]

    # --- parley events → wire events ------------------------------------------------------------------

    def _ms(self, t: float) -> int:
        return max(0, int(round((t - self.origin) * 1000)))

    def _open_user_turn(self, t: float) -> None:
        if self._user_item is None:
            self._user_item = wire.new_id("item")
            self.send("input_audio_buffer.speech_started", audio_start_ms=self._ms(t), item_id=self._user_item)

    def on_event(self, ev: Event) -> None:
        if isinstance(ev, UserSpeechStarted) and self.turn_detection():
            if self.agent.playout.speaking:
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
            self.send("input_audio_buffer.committed", item_id=item, previous_item_id=self.last_item)
            self.item_created(wire.user_item(item, transcript=None))
        self._user_item = None
        self._user_items[turn] = (item, kind)
        if len(self._user_items) > KEEP:
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

