"""The client side of the OpenAI Realtime protocol (REFERENCE.md §3): one WebSocket, JSON events.

Spec, as this client speaks it (GA names; beta names are accepted on receipt and renamed):
- connect `ws(s)://HOST/v1/realtime?model=M` with `Authorization: Bearer KEY`; the server sends
  `session.created`; the client sends `session.update` {instructions, audio.input {format
  audio/pcm 24 kHz, turn_detection, transcription}, audio.output {format, voice}} and waits for
  `session.updated` (an `error` instead means the endpoint refused the settings).
- audio: little-endian 16-bit PCM, 24 kHz mono, base64 in `input_audio_buffer.append` and in
  `response.output_audio.delta` (beta `response.audio.delta`).
- the rest (speech_started/stopped, committed, transcription, responses, truncate) is read and
  written by the agents in this package.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlencode, urlparse, urlunparse

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.resample import StreamResampler
from parley.config import RealtimeConfig, secure_url
from parley.errors import ParleyError, describe
from parley.events import ComponentError

WIRE_RATE = 24000
MAX_MESSAGE = 16 * 2**20
CLOSED_BY_US = "closed by parley"
BETA_NAMES = {  # what older servers send → the GA name this client reads
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
}


class AudioEncoder:
    """parley's 16 kHz float frames → base64 pcm16 at 24 kHz, streaming."""

    def __init__(self) -> None:
        self._resample = StreamResampler(SAMPLE_RATE, WIRE_RATE)

    def __call__(self, pcm: np.ndarray) -> str:
        wire = self._resample(pcm)
        return base64.b64encode((np.clip(wire, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()).decode("ascii")


class AudioDecoder:
    """base64 pcm16 at 24 kHz → 16 kHz float, streaming; counts the wire samples it was given."""

    def __init__(self) -> None:
        self._resample = StreamResampler(WIRE_RATE, SAMPLE_RATE)
        self.wire_samples = 0

    def __call__(self, b64: str) -> np.ndarray:
        raw = base64.b64decode(b64)
        raw = raw[:len(raw) - len(raw) % 2]
        self.wire_samples += len(raw) // 2
        return self._resample(np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0)


def server_event(message: str | bytes) -> dict[str, Any]:
    """One message from the endpoint as an event with a string `type` (GA name): anything that is
    not a JSON object with one becomes an `error` event saying so, never an exception."""
    try:
        event = json.loads(message)
    except (TypeError, ValueError):  # UnicodeDecodeError included
        return _odd("the endpoint sent a message that is not JSON")
    except RecursionError:
        return _odd("the endpoint sent JSON nested too deep to read")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return _odd("the endpoint sent an event with no type")
    event["type"] = BETA_NAMES.get(event["type"], event["type"])
    return event


def _odd(why: str) -> dict[str, Any]:
    return {"type": "error", "error": {"message": why}}


def error_message(event: dict[str, Any]) -> str:
    """What an `error` event says, whatever shape its `error` field has."""
    err = event.get("error")
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    return str(err or "the endpoint reported an error without a message")


def session_update(instructions: str, cfg: RealtimeConfig) -> dict[str, Any]:
    """The `session.update` for a parley conversation: its prompt as instructions, pcm16 both ways,
    and who takes turns."""
    if cfg.turns == "parley":
        td = None
    elif cfg.turn_detection == "server_vad":
        td = {"type": "server_vad", "interrupt_response": True, "create_response": True}
    else:
        td = {"type": "semantic_vad", "eagerness": cfg.eagerness, "interrupt_response": True, "create_response": True}
    pcm = {"type": "audio/pcm", "rate": WIRE_RATE}
    audio_in: dict[str, Any] = {"format": pcm, "turn_detection": td}
    if cfg.transcription_model:
        audio_in["transcription"] = {"model": cfg.transcription_model}
    audio_out: dict[str, Any] = {"format": pcm}
    if cfg.voice:
        audio_out["voice"] = cfg.voice
    return {"type": "session.update", "session": {
        "type": "realtime", "instructions": instructions, "output_modalities": ["audio"],
        "audio": {"input": audio_in, "output": audio_out}}}


def _url(cfg: RealtimeConfig) -> str:
    u = urlparse(cfg.url or "")
    if u.scheme not in ("ws", "wss") or not u.hostname:
        raise ParleyError(f"realtime url {cfg.url!r} is not a ws:// or wss:// URL; give the endpoint's WebSocket "
                          "address, e.g. ws://127.0.0.1:8000/v1/realtime.")
    query = "&".join(q for q in (u.query, urlencode({"model": cfg.model})) if q)
    return urlunparse(u._replace(query=query))


class RealtimeSocket:
    """One connection to an endpoint: open (with the session settings), send, and read events."""

    def __init__(self, cfg: RealtimeConfig, api_key: str | None) -> None:
        self.cfg = cfg
        self.url = _url(cfg)
        if api_key and not cfg.allow_plain_http and not secure_url(cfg.url):
            raise ParleyError(f"refusing to send the API key to {cfg.url} over plain ws://: use wss://, or set "
                              "realtime.allow_plain_http = true if the network between is trusted.")
        self._key = api_key
        self._ws = None
        self._outbox: asyncio.Queue = asyncio.Queue()
        self._writer: asyncio.Task | None = None
        self.closed_why: str | None = None  # set once the connection is gone

    async def open(self, update: dict[str, Any]) -> dict[str, Any]:
        """Connect and apply `update`; returns the session the endpoint confirmed."""
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {self._key}"} if self._key else None
        try:
            self._ws = await asyncio.wait_for(
                connect(self.url, additional_headers=headers, max_size=MAX_MESSAGE, compression=None,
                        open_timeout=self.cfg.timeout_s, proxy=None), self.cfg.timeout_s)
            await self._expect("session.created")
            await self._ws.send(json.dumps(update))
            session = (await self._expect("session.updated")).get("session", {})
        except ParleyError:
            await self.close()
            raise
        except (OSError, asyncio.TimeoutError, Exception) as exc:
            await self.close()
            raise ParleyError(f"realtime endpoint {self.cfg.url} could not be opened ({describe(exc)}); check that it "
                              "runs and that the URL, model and key are right.") from None
        self._writer = asyncio.ensure_future(self._write())
        return session

    async def _expect(self, kind: str) -> dict[str, Any]:
        while True:
            event = server_event(await asyncio.wait_for(self._ws.recv(), self.cfg.timeout_s))
            if event["type"] == kind:
                return event
            if event["type"] == "error":
                raise ParleyError(f"realtime endpoint {self.cfg.url} refused the session: {error_message(event)}")

    def send(self, type_: str, **fields: Any) -> None:
        """Queue a client event (sent in order by one writer; dropped once the connection is gone)."""
        if self.closed_why is None:
            self._outbox.put_nowait(json.dumps({"type": type_, **fields}))

    async def _write(self) -> None:
        try:
            while True:
                await self._ws.send(await self._outbox.get())
        except Exception as exc:  # the reader reports the close; nothing more can be sent
            self.closed_why = self.closed_why or describe(exc)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Server events until the connection closes (GA names); `closed_why` says why it ended."""
        try:
            async for message in self._ws:
                yield server_event(message)
            self.closed_why = self.closed_why or "closed by the endpoint"
        except Exception as exc:
            self.closed_why = self.closed_why or describe(exc)

    async def dispatch(self, handle: Callable[[dict[str, Any]], None], log) -> None:
        """Hand each server event to `handle` until the connection closes: an event `handle` cannot
        take is an `error` event and the call goes on; a close parley did not ask for is one too."""
        async for event in self.events():
            try:
                handle(event)
            except Exception as exc:  # one odd event must not end the call
                log.emit(ComponentError, component="realtime", message=f"{event['type']}: {describe(exc)}")
        if self.closed_why != CLOSED_BY_US:
            log.emit(ComponentError, component="realtime", message=f"the connection ended: {self.closed_why}")

    async def close(self) -> None:
        self.closed_why = self.closed_why or CLOSED_BY_US
        if self._writer is not None:
            for _ in range(100):  # what was queued (a last truncate) still goes out, within a second
                if self._outbox.empty() or self._writer.done():
                    break
                await asyncio.sleep(0.01)
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()
