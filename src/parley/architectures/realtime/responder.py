"""A remote speech-to-speech model answering the turns parley's duplex engine decides.

With `realtime.turns = "parley"` the endpoint's turn detection is off (`turn_detection: null`):
parley's engine listens, ends the turn, speculates and resolves overlaps exactly as for the
cascade, and the endpoint only answers. For each reply the engine prepares:
`input_audio_buffer.clear`, the turn's audio appended, `commit`, `response.create`; the audio
deltas become the reply's `SpeechChunk`s (each carrying the transcript that arrived with it), so
the playout, barge-in and heard-text accounting are the engine's own. A speculation the engine
drops is cancelled and its items deleted from the endpoint's conversation; a reply the caller cut
off is truncated there to the milliseconds played.
"""

from __future__ import annotations

import asyncio

import numpy as np

from parley.architectures.realtime.socket import AudioDecoder, AudioEncoder, error_message
from parley.components import registry
from parley.components.tts.base import SpeechChunk
from parley.duplex.engine import DuplexEngine
from parley.duplex.playout import Reply
from parley.duplex.voice import Voice
from parley.events import ComponentError
from parley.errors import ParleyError

POLL_S = 0.032
APPEND_SAMPLES = 5 * 16000  # one append per 5 s of turn audio keeps each message far under any size limit


class _Answer:
    """The endpoint's response to one reply: its ids and its stream of audio and text."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.user_item: str | None = None
        self.item: str | None = None
        self.response: str | None = None
        self.decoder = AudioDecoder()
        self.text = ""  # transcript received, not yet given to a chunk
        self.spoken = 0  # characters of transcript given to chunks: the next chunk's start
        self.queue: asyncio.Queue = asyncio.Queue()  # SpeechChunk, then None at the end
        self.finished = False  # the endpoint's response.done came
        self.withdrawn: set[str] = set()  # ids already cancelled or deleted at the endpoint


class RealtimeResponder:
    wants_partials = False  # the endpoint hears the turn's audio, not parley's transcripts

    def __init__(self, cfg, log, conversation, socket) -> None:
        self.cfg, self.log = cfg, log
        self.conversation = conversation
        self.socket = socket
        self._encode = AudioEncoder()
        self._waiting: list[_Answer] = []  # committed and asked for, in order: ids come back in this order
        self._answers: dict[str, _Answer] = {}  # response id → answer
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        from parley.architectures.realtime.socket import session_update

        await self.socket.open(session_update(self.conversation.history.system, self.cfg.realtime))
        self._reader = asyncio.ensure_future(self._read())

    async def close(self) -> None:
        await self.socket.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def instruct(self, persona: str) -> None:
        self.conversation.use_persona(persona)
        self.socket.send("session.update", session={"type": "realtime", "instructions": self.conversation.history.system})

    def utterance_started(self) -> None:
        return None

    async def partial(self, text: str) -> None:
        return None

    def preparing(self) -> None:
        return None

    def acknowledgement(self, words: str) -> str | None:
        return None  # the endpoint's model speaks for itself

    async def respond(self, reply: Reply) -> None:
        if self.socket.closed_why is not None:
            raise ParleyError(f"the realtime endpoint is gone ({self.socket.closed_why}).")
        reply.stage = "realtime"
        answer = _Answer(reply)
        audio = reply.audio if reply.audio is not None else np.zeros(0, np.float32)
        self.socket.send("input_audio_buffer.clear")
        for i in range(0, len(audio), APPEND_SAMPLES):
            self.socket.send("input_audio_buffer.append", audio=self._encode(audio[i:i + APPEND_SAMPLES]))
        self._encode = AudioEncoder()  # each turn's audio is resampled from a fresh start
        reply.audio = None  # sent: a long call keeps no audio per turn
        self.socket.send("input_audio_buffer.commit")
        self.socket.send("response.create")
        self._waiting.append(answer)
        try:
            while (chunk := await self._next(answer)) is not None:
                reply.chunks.append(chunk)
                reply.text = reply.text + chunk.text
        finally:
            if reply.cancel.cancelled:
                self._withdraw(answer)

    async def _next(self, answer: _Answer) -> SpeechChunk | None:
        """The answer's next chunk; None at its end or once the reply is cancelled (checked every
        frame: the engine cancels by token)."""
        silent = 0.0
        while not answer.reply.cancel.cancelled:
            try:
                return await asyncio.wait_for(answer.queue.get(), POLL_S)
            except asyncio.TimeoutError:
                silent += POLL_S
                if silent >= self.cfg.realtime.timeout_s:
                    raise ParleyError(f"the realtime endpoint sent nothing for {silent:.0f} s.") from None
        return None

    def _withdraw(self, answer: _Answer) -> None:
        """A speculation dropped before it was played: the endpoint forgets the turn and its answer.
        Idempotent, and called again as the answer's ids arrive (they come in the order asked)."""
        if answer.reply.committed or answer.response is None:
            return  # played: `heard` truncates it instead; not created yet: done at response.created
        if not answer.finished and answer.response not in answer.withdrawn:
            self.socket.send("response.cancel", response_id=answer.response)
        for ref in (answer.response, answer.user_item, answer.item):
            if ref is not None and ref not in answer.withdrawn:
                if ref != answer.response:
                    self.socket.send("conversation.item.delete", item_id=ref)
                answer.withdrawn.add(ref)

    def heard(self, reply: Reply, heard: str, interrupted: bool) -> None:
        answer = next((a for a in self._answers.values() if a.reply is reply), None)
        if answer is not None:
            del self._answers[answer.response]
        if interrupted and answer is not None:
            if answer.response is not None and not answer.finished:
                self.socket.send("response.cancel", response_id=answer.response)
            if answer.item is not None:
                self.socket.send("conversation.item.truncate", item_id=answer.item, content_index=0,
                                 audio_end_ms=int(reply.played * 1000 / 16000))
        self.conversation.heard(reply.turn, reply.user_text, heard, interrupted)

    # --- server events ---------------------------------------------------------------------------

    async def _read(self) -> None:
        await self.socket.dispatch(self._on_event, self.log)
        for answer in list(self._answers.values()) + self._waiting:
            answer.queue.put_nowait(None)

    def _on_event(self, event: dict) -> None:
        kind = event["type"]
        if kind == "input_audio_buffer.committed" and self._waiting:
            pending = [a for a in self._waiting if a.user_item is None]
            if pending:
                pending[0].user_item = event.get("item_id")
        elif kind == "response.created" and self._waiting:
            response = (event.get("response") or {}).get("id")
            if not isinstance(response, str):  # checked before the answer leaves the waiting line
                raise ValueError(f"response.created without a response id ({response!r})")
            answer = self._waiting.pop(0)
            answer.response = response
            self._answers[response] = answer
            if answer.reply.cancel.cancelled:
                self._withdraw(answer)
        elif kind == "response.output_item.added":
            self._by(event, lambda a: self._item_added(a, (event.get("item") or {}).get("id")))
        elif kind == "response.output_audio.delta":
            self._by(event, lambda a: self._audio(a, event.get("delta") or ""))
        elif kind == "response.output_audio_transcript.delta":
            self._by(event, lambda a: setattr(a, "text", a.text + str(event.get("delta") or "")))
        elif kind == "response.done":
            self._by(event, self._done, (event.get("response") or {}).get("id"))
        elif kind == "error":
            self.log.emit(ComponentError, component="realtime", message=error_message(event))

    def _by(self, event: dict, fn, response_id: str | None = None) -> None:
        answer = self._answers.get(response_id or event.get("response_id"))
        if answer is not None:
            fn(answer)

    def _item_added(self, answer: _Answer, item: str | None) -> None:
        answer.item = item
        if answer.reply.cancel.cancelled:
            self._withdraw(answer)

    def _audio(self, answer: _Answer, b64: str) -> None:
        pcm = answer.decoder(b64)
        if len(pcm):
            self._chunk(answer, pcm)

    @staticmethod
    def _chunk(answer: _Answer, pcm: np.ndarray) -> None:
        """Queue `pcm` as the reply's next chunk, carrying the transcript that came before it."""
        start = answer.spoken
        answer.queue.put_nowait(SpeechChunk(pcm, answer.text, start, start + len(answer.text)))
        answer.spoken += len(answer.text)
        answer.text = ""

    def _done(self, answer: _Answer) -> None:
        answer.finished = True
        if answer.reply.cancel.cancelled and not answer.reply.committed:
            self._answers.pop(answer.response, None)  # withdrawn: nothing will be heard of it
        if answer.text:  # transcript that came after the last audio belongs to the reply's end
            self._chunk(answer, np.zeros(0, np.float32))
        answer.queue.put_nowait(None)


class RealtimeEngineAgent(DuplexEngine):
    """parley's duplex engine taking the turns, the endpoint answering them."""

    name = "realtime"

    def __init__(self, cfg, clock, log, conversation, socket) -> None:
        tt = cfg.turn_taking
        voice = Voice(registry.piper(cfg.tts.length_scale, threads=cfg.tts.threads), clock, log,
                      registry.cpu_gate(), cfg.tts.timeout_s)
        asr = registry.whisper(cfg.asr.window_s, cfg.asr.threads, cfg.asr.second_opinion_below)
        super().__init__(cfg, clock, log, RealtimeResponder(cfg, log, conversation, socket), vad=registry.vad(),
                         asr=asr, voice=voice,
                         turn=registry.smart_turn() if tt.endpoint.predict else None)
