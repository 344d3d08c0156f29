"""The `moshi` and `personaplex` architectures: a client of a Moshi-protocol server.

Protocol (REFERENCE.md §2, as moshi 0.2.13's and PersonaPlex's servers speak it):
- `GET /api/chat` upgraded to a WebSocket; PersonaPlex reads the query keys `text_prompt` (the
  role; the server wraps it in `<system> … <system>`) and `voice_prompt` (a file name in its voice
  folder), both required though either may be empty, and an optional `seed` (-1: none). It feeds
  the prompts at one token per 80 ms step *before* the handshake.
- Binary messages, the first byte the kind: HANDSHAKE 0x00 (the server is ready; moshi's server
  sends the bare byte, the spec adds u32 version + u32 model, little-endian), AUDIO 0x01 (Ogg pages
  of Opus, 24 kHz mono, both ways; moshi's web client sends 20 ms frames), TEXT 0x02 (UTF-8, a
  piece of the model's own words, sent with the audio frame of the same 80 ms step), CONTROL 0x03,
  METADATA 0x04 (JSON), ERROR 0x05 (UTF-8), PING 0x06.

An audio-native model takes its own turns: parley only streams the caller's audio, plays the
model's and records what happened in the event contract. The caller's speech is found with
parley's VAD (`SpeechRuns`), the model's turns from what was played (`spoken_turns.py`). What
parley cannot know: what the model understood of the caller (no transcript of the caller), or
anything it was never told — a plain moshi server takes no text prompt at all.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

import numpy as np

from parley.architectures.spoken_turns import SpokenTurns
from parley.audio.fifo import SampleFifo
from parley.audio.frame import SAMPLE_RATE, AudioFrame
from parley.audio.resample import StreamResampler
from parley.clock import VirtualClock
from parley.components.vad.runs import SpeechRuns
from parley.dialogue.budget import MOSHI_STEPS_PER_S, MOSHI_WINDOW, moshi_prompt_room, text_tokens
from parley.dialogue.persona import procedure_lines, system_prompt
from parley.errors import ParleyError, describe
from parley.events import ComponentError, PromptFitted, UserSpeechStarted, UserSpeechStopped

URL_ENV = "PARLEY_MOSHI_URL"
HANDSHAKE, AUDIO, TEXT, CONTROL, METADATA, ERROR, PING = range(7)
WIRE_RATE = 24000
MAX_QUERY_BYTES = 7000  # aiohttp (both servers) refuses a request line past 8190 bytes
JITTER_SAMPLES = int(0.08 * SAMPLE_RATE)  # one model step of margin before playing, and after an underrun


def fit_prompt(persona: str, procedure: list, documents: list[tuple[str, str]], budget: int) -> tuple[str, list[str]]:
    """The system prompt within `budget` tokens: the persona first (cut if it alone is too long),
    the procedure if it fits, then each document, in order, that still fits. Returns (prompt, what
    was left out, by name)."""
    dropped: list[str] = []
    if text_tokens(system_prompt(persona, procedure)) > budget and procedure:
        procedure, _ = [], dropped.append("the procedure")
    if text_tokens(persona) > budget:
        words = persona.split()
        keep = max(0, int(len(words) * budget / text_tokens(persona)) - 2)
        persona = " ".join(words[:keep])
        dropped.append(f"the persona after {keep} of {len(words)} words")
    kept: list[tuple[str, str]] = []
    for doc in documents:
        if text_tokens(system_prompt(persona, procedure, kept + [doc])) <= budget:
            kept.append(doc)
        else:
            dropped.append(f"document '{doc[0]}'")
    return system_prompt(persona, procedure, kept), dropped


class MoshiAgent:
    """A client of a Moshi or PersonaPlex server, behind parley's duplex interface."""

    def __init__(self, cfg, clock, log, *, flavour: str = "moshi", vad=None, user_vad=None) -> None:
        from parley.components import registry
        from parley.dialogue.conversation import Conversation
        from parley.dialogue.knowledge import read_document

        if isinstance(clock, VirtualClock):
            raise ParleyError(f"the {flavour} architecture talks to a remote model in real time: run it on the real "
                              "clock (parley bench does so for it).")
        self.name = flavour
        self.cfg, self.clock, self.log = cfg, clock, log
        self.url = cfg.moshi.url or os.environ.get(URL_ENV) or ""
        u = urlparse(self.url)
        if u.scheme not in ("ws", "wss") or not u.hostname:
            raise ParleyError(f"moshi url {self.url!r} is not a ws:// or wss:// URL; give the server's chat address, "
                              "e.g. ws://127.0.0.1:8998/api/chat.")
        self.documents = [read_document(Path(p)) for p in cfg.knowledge.documents]
        self.conversation = Conversation(cfg, self.documents, log)
        self._turns = SpokenTurns(vad or registry.vad(), log,
                                  lambda turn, said, cut: self.conversation.heard(turn, "", said, cut))
        self._user = SpeechRuns(user_vad or registry.vad())
        self._to_wire = StreamResampler(SAMPLE_RATE, WIRE_RATE)
        self._from_wire = StreamResampler(WIRE_RATE, SAMPLE_RATE)
        self._writer = self._reader = None  # Opus streams (sphn), made at start
        self._ws = None
        self._tasks: list[asyncio.Task] = []
        self._outbox: asyncio.Queue = asyncio.Queue()
        self._play = SampleFifo()  # the model's audio, 16 kHz; `taken` = samples played
        self._waiting = True  # filling the jitter margin
        self._received = 0  # 16 kHz samples of model audio received
        self._gone: str | None = None
        self._undecodable = 0  # audio messages that did not decode

    # --- the session ----------------------------------------------------------------------------

    def _query(self) -> tuple[str, int]:
        """The chat URL with PersonaPlex's prompts, and the prompt's size in tokens."""
        if self.name != "personaplex":
            self.log.emit(PromptFitted, architecture=self.name, window=MOSHI_WINDOW, prompt=0, unit="steps (80 ms)",
                          dropped=["everything: a moshi server takes no text prompt (persona, procedure and "
                                   "knowledge are not given to the model)"])
            return self.url, 0
        budget = moshi_prompt_room(self.cfg.moshi.call_minutes)  # what `parley budget` plans for the call
        persona = self.conversation.persona
        prompt, dropped = fit_prompt(persona, procedure_lines(self.cfg.procedure), self.documents, budget)
        query = {"text_prompt": prompt, "voice_prompt": self.cfg.moshi.voice_prompt}
        if self.cfg.moshi.seed is not None:
            query["seed"] = str(self.cfg.moshi.seed)
        while len(urlencode(query)) > MAX_QUERY_BYTES:  # the server's request line holds only so much
            prompt, more = fit_prompt(persona, procedure_lines(self.cfg.procedure), self.documents,
                                      int(text_tokens(prompt) * 0.8))
            dropped = list(dict.fromkeys(dropped + more + ["(the server's URL length limit)"]))
            query["text_prompt"] = prompt
        self.log.emit(PromptFitted, architecture=self.name, window=MOSHI_WINDOW, prompt=text_tokens(prompt),
                      unit="steps (80 ms)", dropped=dropped)
        u = urlparse(self.url)
        return urlunparse(u._replace(query="&".join(q for q in (u.query, urlencode(query)) if q))), text_tokens(prompt)

    async def start(self) -> None:
        try:
            import sphn
        except ImportError:
            raise ParleyError("the moshi client needs the Opus codec: pip install 'parley[moshi]'.") from None
        from websockets.asyncio.client import connect

        url, prompt_tokens = self._query()
        wait = self.cfg.moshi.timeout_s + prompt_tokens / MOSHI_STEPS_PER_S  # the prompt is fed before the handshake
        try:
            self._ws = await asyncio.wait_for(connect(url, max_size=2**22, compression=None, proxy=None,
                                                      open_timeout=self.cfg.moshi.timeout_s), self.cfg.moshi.timeout_s)
            first = await asyncio.wait_for(self._ws.recv(), wait)
        except asyncio.TimeoutError:
            await self._abort()
            raise ParleyError(f"the {self.name} server at {self.url} sent no handshake within {wait:.0f} s; check that "
                              "it runs and is not busy with another caller (it serves one at a time).") from None
        except Exception as exc:
            await self._abort()
            raise ParleyError(f"the {self.name} server at {self.url} could not be reached or closed the connection "
                              f"before its handshake ({describe(exc)}); check the URL and, for "
                              "PersonaPlex, that the voice prompt exists on the server.") from None
        if not isinstance(first, bytes) or not first or first[0] != HANDSHAKE:
            await self._abort()
            raise ParleyError(f"the {self.name} server at {self.url} did not start with a handshake; is it a moshi server?")
        self._writer, self._reader = sphn.OpusStreamWriter(WIRE_RATE), sphn.OpusStreamReader(WIRE_RATE)
        self._tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._send())]

    async def _abort(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    @property
    def busy(self) -> bool:
        return self._turns.speaking or self._user.speaking

    def push_audio(self, frame: AudioFrame) -> None:
        change = self._user.step(frame.pcm, frame.t)
        if change == "started":
            self.log.emit(UserSpeechStarted, t=self._user.started_at)
        elif change == "stopped":
            self.log.emit(UserSpeechStopped, t=self._user.last_speech, noticed=self.clock.now())
        if self._writer is not None and self._gone is None:
            opus = self._writer.append_pcm(self._to_wire(frame.pcm))
            if len(opus):
                self._outbox.put_nowait(bytes([AUDIO]) + opus)

    def pull_audio(self, n: int, t: float) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        if self._waiting and self._play.buffered >= JITTER_SAMPLES:
            self._waiting = False
        if not self._waiting:
            pcm = self._play.take(n)
            out[:len(pcm)] = pcm
            self._waiting = len(pcm) < n  # underrun: wait for the margin again
        self._turns.played(out, t, self._play.taken - len(out), self._user.speaking)
        return out

    async def close(self) -> None:
        self._turns.close(self.clock.now())
        self._gone = self._gone or "closed by parley"
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ws is not None:
            await self._ws.close()

    # --- the socket -----------------------------------------------------------------------------

    async def _send(self) -> None:
        try:
            while True:
                await self._ws.send(await self._outbox.get())
        except Exception as exc:
            self._gone = self._gone or describe(exc)

    def _on_message(self, message: bytes | str) -> None:
        """One server message: audio to play, the model's words, or its error. Text frames, empty
        messages and unknown kinds are ignored (the protocol may grow); audio that does not decode
        is reported once and dropped, and the call goes on."""
        if not isinstance(message, bytes) or not message:
            return
        kind, payload = message[0], message[1:]
        if kind == AUDIO:
            try:
                pcm = self._from_wire(self._decode(payload))
            except Exception as exc:
                if not self._undecodable:
                    self.log.emit(ComponentError, component=self.name,
                                  message=f"audio from the server did not decode ({describe(exc)})")
                self._undecodable += 1
                return
            self._play.put(pcm)
            self._received += len(pcm)
        elif kind == TEXT:
            self._turns.text(payload.decode("utf-8", "replace"), self._received)
        elif kind == ERROR:
            self.log.emit(ComponentError, component=self.name, message=payload.decode("utf-8", "replace"))

    def _decode(self, page: bytes) -> np.ndarray:
        """Opus PCM of an Ogg page. A damaged page poisons the stream reader's buffer for good, so
        the reader is replaced and the page tried once more (a fresh reader takes the stream from
        any page on)."""
        import sphn

        try:
            return self._reader.append_bytes(page)
        except ValueError:
            self._reader = sphn.OpusStreamReader(WIRE_RATE)
            return self._reader.append_bytes(page)

    async def _receive(self) -> None:
        try:
            async for message in self._ws:
                self._on_message(message)
            self._gone = self._gone or "closed by the server"
        except Exception as exc:
            self._gone = self._gone or describe(exc)
        if self._gone != "closed by parley":
            self.log.emit(ComponentError, component=self.name, message=f"the connection ended: {self._gone}")


def moshi(cfg, clock, log, **_components) -> MoshiAgent:
    return MoshiAgent(cfg, clock, log, flavour="moshi")


def personaplex(cfg, clock, log, **_components) -> MoshiAgent:
    return MoshiAgent(cfg, clock, log, flavour="personaplex")
