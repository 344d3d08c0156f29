"""A remote speech-to-speech model that takes its own turns, behind parley's duplex interface.

The endpoint's turn detection (`semantic_vad` / `server_vad`) decides when the caller is done and
when they barge in; parley streams the caller's audio, plays the reply's audio as it arrives and
records what happened in the event contract (docs/architecture.md), so the bench scores the
endpoint's turn-taking, not parley's:

| endpoint event | parley event |
|---|---|
| `input_audio_buffer.speech_started` | `user_speech_started` (t = the audio time it names); while the agent is audible: barge-in — playback stops, `conversation.item.truncate` with the milliseconds played, `agent_audio_stopped(barge_in)` |
| `input_audio_buffer.speech_stopped` | `user_speech_stopped` |
| `input_audio_buffer.committed` | a new turn |
| `…input_audio_transcription.completed` | `asr_final` (the endpoint's transcript of the caller) |
| `response.output_audio.delta` | audio queued for playout; `agent_audio_started` at its first sample played; while the caller speaks (parley's VAD, as an observer), a reply whose audio stops arriving is `agent_audio_paused` until it flows again (`…_resumed`): what the caller hears of an endpoint holding its reply under a possible barge-in |
| `response.output_audio_transcript.*` | the reply's text; `agent_turn` when its audio ends |
| `error`, a closed socket | `error`; the session goes on, silent |

What parley cannot know of a remote model: its partial transcripts, its compute stages, and when
its words were spoken within a reply — the heard text of a truncated reply is its transcript cut
in proportion to the audio played (`heard_part`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from parley.audio.fifo import SampleFifo
from parley.audio.frame import SAMPLE_RATE, AudioFrame
from parley.architectures.realtime.socket import AudioDecoder, AudioEncoder, error_message
from parley.components.vad.runs import SpeechRuns
from parley.events import (
    AgentAudioPaused, AgentAudioResumed, AgentAudioStarted, AgentAudioStopped, AsrFinal, ComponentError,
    UserSpeechStarted, UserSpeechStopped,
)


REFILL_SAMPLES = 2 * 512  # after an underrun, two frames of margin absorb the endpoint's jitter


def heard_part(text: str, played: int, total: int) -> str:
    """The words of `text` said in the first `played` of `total` samples, assuming an even pace."""
    if total <= 0 or played >= total:
        return text.strip()
    words = text.split()
    return " ".join(words[:int(len(words) * played / total)])


@dataclass
class RemoteItem:
    """One assistant message's audio and transcript, as received and as played."""
    item_id: str
    turn: int
    decoder: AudioDecoder = field(default_factory=AudioDecoder)
    audio: SampleFifo = field(default_factory=SampleFifo)  # 16 kHz; `taken` = samples played
    received: int = 0  # 16 kHz samples received
    text: str = ""
    done: bool = False  # all its audio has arrived
    started: bool = False
    refill: bool = False  # ran dry mid-reply: resume once REFILL_SAMPLES are buffered
    paused: bool = False  # ran dry while the caller spoke (an endpoint holding its reply under a possible barge-in)

    def add(self, b64: str) -> None:
        pcm = self.decoder(b64)
        self.audio.put(pcm)
        self.received += len(pcm)

    @property
    def buffered(self) -> int:
        return self.audio.buffered

    @property
    def played(self) -> int:
        return self.audio.taken

    @property
    def played_ms(self) -> int:
        return int(self.played * 1000 / SAMPLE_RATE)

    def heard(self) -> str:
        return heard_part(self.text, self.played, self.received)


class RemotePlayout:
    """Plays remote replies in arrival order, frame by frame, and reports what was heard."""

    def __init__(self, agent: "RealtimeAgent") -> None:
        self.agent = agent
        self.items: deque[RemoteItem] = deque()
        self.underrun_samples = 0  # silence played inside replies while waiting for the endpoint

    @property
    def current(self) -> RemoteItem | None:
        return self.items[0] if self.items else None

    @property
    def audible(self) -> bool:
        item = self.current
        return item is not None and item.started

    def pull(self, n: int, t: float) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        filled = 0
        while filled < n and self.items:
            item = self.items[0]
            if item.buffered == 0 and item.done:
                self.finish(item, "finished", t + filled / SAMPLE_RATE, interrupted=False)
                continue
            if item.buffered == 0 or (item.refill and item.buffered < REFILL_SAMPLES and not item.done):
                item.refill = item.started  # underrun mid-reply: wait for a little margin, then go on
                self.underrun_samples += n - filled if item.started else 0
                if item.started and not item.paused and self.agent.caller_speaking:
                    item.paused = True  # the endpoint went quiet under the caller: what the caller hears
                    self.agent.log.emit(AgentAudioPaused, t=t + filled / SAMPLE_RATE, turn=item.turn)
                break
            item.refill = False
            if item.paused:
                item.paused = False
                self.agent.log.emit(AgentAudioResumed, t=t + filled / SAMPLE_RATE, turn=item.turn)
            if not item.started:
                item.started = True
                self.agent.log.emit(AgentAudioStarted, t=t + filled / SAMPLE_RATE, turn=item.turn)
            pcm = item.audio.take(n - filled)
            out[filled:filled + len(pcm)] = pcm
            filled += len(pcm)
        if self.items and self.items[0].done and self.items[0].buffered == 0:
            self.finish(self.items[0], "finished", t + filled / SAMPLE_RATE, interrupted=False)
        return out

    def stop(self, reason: str, t: float) -> RemoteItem | None:
        """Stop the item playing now and drop what is queued; returns the stopped item."""
        item = self.current
        if item is None:
            return None
        for later in list(self.items)[1:]:
            self.items.remove(later)
        self.finish(item, reason, t, interrupted=True)
        return item

    def finish(self, item: RemoteItem, reason: str, t: float, *, interrupted: bool) -> None:
        if item in self.items:
            self.items.remove(item)
        item.done = True  # audio still arriving for it is not played
        if item.started:
            self.agent.log.emit(AgentAudioStopped, t=t, turn=item.turn, reason=reason)
        self.agent.heard(item, interrupted)


class RealtimeAgent:
    """A client of an OpenAI-Realtime-style endpoint whose own turn detection decides turns."""

    name = "realtime"

    def __init__(self, cfg, clock, log, conversation, socket, caller_vad=None) -> None:
        from parley.components import registry

        self.cfg, self.clock, self.log = cfg, clock, log
        self._caller = SpeechRuns(caller_vad or registry.vad())  # only to label what the caller hears
        self.conversation = conversation
        self.socket = socket
        self.playout = RemotePlayout(self)
        self._encode = AudioEncoder()
        self._origin: float | None = None  # session time of the first sample sent: audio_*_ms count from it
        self._turn = 0
        self._users: dict[int, str | None] = {}  # turn → the caller's transcript (None: not yet)
        self._user_items: dict[str, int] = {}  # the endpoint's user item → turn
        self._items: dict[str, RemoteItem] = {}
        self._responding = 0  # responses created and not done
        self._speaking = False
        self._unheard: list[tuple[RemoteItem, bool]] = []  # replies ended before their caller's transcript
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        from parley.architectures.realtime.socket import session_update

        await self.socket.open(session_update(self.conversation.history.system, self.cfg.realtime))
        self._reader = asyncio.ensure_future(self._read())

    @property
    def busy(self) -> bool:
        return self._speaking or self._responding > 0 or bool(self.playout.items)

    @property
    def caller_speaking(self) -> bool:
        return self._caller.speaking or self._caller.rising

    def push_audio(self, frame: AudioFrame) -> None:
        if self._origin is None:
            self._origin = frame.t
        self._caller.step(frame.pcm, frame.t)
        self.socket.send("input_audio_buffer.append", audio=self._encode(frame.pcm))

    def pull_audio(self, n: int, t: float) -> np.ndarray:
        return self.playout.pull(n, t)

    async def close(self) -> None:
        if self.playout.current is not None:
            self.playout.stop("cancelled", self.clock.now())
        await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        for item, interrupted in self._unheard:  # their caller's words never came: history keeps the reply
            self._users[item.turn] = ""
            self.heard(item, interrupted)

    # --- what the user heard ---------------------------------------------------------------------

    def heard(self, item: RemoteItem, interrupted: bool) -> None:
        user = self._users.get(item.turn)
        if user is None:
            self._unheard.append((item, interrupted))
            return
        self.conversation.heard(item.turn, user, item.heard(), interrupted)

    # --- server events ---------------------------------------------------------------------------

    def _t(self, ms) -> float:
        """Session time of the endpoint's `audio_*_ms` (counted from the first sample sent); now if absent."""
        if not isinstance(ms, (int, float)) or self._origin is None:
            return self.clock.now()
        return self._origin + ms / 1000

    async def _read(self) -> None:
        await self.socket.dispatch(self._on_event, self.log)
        self._responding = 0
        self._speaking = False

    def _on_event(self, event: dict) -> None:
        handler = getattr(self, "_on_" + event["type"].replace(".", "_"), None)
        if handler is not None:
            handler(event)

    def _on_error(self, event: dict) -> None:
        self.log.emit(ComponentError, component="realtime", message=error_message(event))

    def _on_input_audio_buffer_speech_started(self, event: dict) -> None:
        self._speaking = True
        self.log.emit(UserSpeechStarted, t=self._t(event.get("audio_start_ms")))
        if self.playout.audible:
            self._barge_in()

    def _barge_in(self) -> None:
        item = self.playout.stop("barge_in", self.clock.now())
        if item is not None:  # the endpoint's item may hold more than was played: keep it to what was
            self.socket.send("conversation.item.truncate", item_id=item.item_id, content_index=0,
                             audio_end_ms=item.played_ms)

    def _on_input_audio_buffer_speech_stopped(self, event: dict) -> None:
        self._speaking = False
        self.log.emit(UserSpeechStopped, t=self._t(event.get("audio_end_ms")), noticed=self.clock.now())

    def _on_input_audio_buffer_committed(self, event: dict) -> None:
        self._speaking = False
        self._turn += 1
        self._users[self._turn] = None if self.cfg.realtime.transcription_model else ""
        if isinstance(event.get("item_id"), str):
            self._user_items[event["item_id"]] = self._turn

    def _on_conversation_item_input_audio_transcription_completed(self, event: dict) -> None:
        turn = self._user_items.get(event.get("item_id"), self._turn)
        text = str(event.get("transcript") or "").strip()
        self._users[turn] = text
        self.log.emit(AsrFinal, turn=turn, text=text)
        for item, interrupted in [u for u in self._unheard if u[0].turn == turn]:
            self._unheard.remove((item, interrupted))
            self.heard(item, interrupted)

    def _on_response_created(self, _event: dict) -> None:
        self._responding += 1

    def _item(self, event: dict) -> RemoteItem:
        item_id = str(event.get("item_id") or event.get("response_id") or "")
        if item_id not in self._items:
            self._items[item_id] = item = RemoteItem(item_id, self._turn)
            self.playout.items.append(item)
        return self._items[item_id]

    def _on_response_output_audio_delta(self, event: dict) -> None:
        item = self._item(event)
        if not item.done:
            item.add(event.get("delta") or "")

    def _on_response_output_audio_transcript_delta(self, event: dict) -> None:
        self._item(event).text += str(event.get("delta") or "")

    def _on_response_output_audio_transcript_done(self, event: dict) -> None:
        if isinstance(event.get("transcript"), str):
            self._item(event).text = event["transcript"]

    def _on_response_output_audio_done(self, event: dict) -> None:
        self._item(event).done = True

    def _on_response_done(self, event: dict) -> None:
        self._responding = max(0, self._responding - 1)
        for out in (event.get("response") or {}).get("output") or []:
            item = self._items.get(out.get("id"))
            if item is not None:
                item.done = True
