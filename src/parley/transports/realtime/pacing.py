"""A Realtime connection's audio at the pace of a phone line: client audio in, agent audio out.

Each 32 ms frame of the client's audio goes to the agent as soon as it is complete (never ahead of
the wall clock), and silence once the client has sent nothing for STARVE_S (a client that stops
sending still gets its turn ended; padding a late frame with silence instead cut gaps into the
caller's words: +870 ms a turn, measured). The agent's audio is pulled every 32 ms of wall time and
handed to the narrator, which sends it: what the server played and what the client heard differ
only by the client's jitter buffer. A reply's first audio leaves as soon as it is synthesized, not
at the next tick.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import numpy as np

from parley.audio.fifo import SampleFifo
from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame
from parley.events import Event, TtsChunk, TurnEndPredicted

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
STARVE_S = 0.12  # no client audio this long: the caller's line is silent, not late


class AudioPacer:
    def __init__(self, session, after_pull: Callable[..., None], origin: float) -> None:
        self.session = session
        self.after_pull = after_pull  # (reply, audible, pcm): the narrator's
        self._fifo = SampleFifo()  # client samples not yet handed to the agent
        self._in_t = self._arrived = origin  # input time; when client audio last came
        self._sending = False  # the last tick sent reply audio
        self._wake = asyncio.Event()  # a reply may have audio to start with

    def push(self, pcm: np.ndarray) -> None:
        """Client audio (16 kHz) as it arrives."""
        self._fifo.put(pcm)
        self._arrived = self.session.clock.now()
        self._feed()

    @property
    def buffered(self) -> int:
        return self._fifo.buffered

    def clear(self) -> None:
        self._fifo.clear()

    def wake_on(self, ev: Event) -> None:
        """An event-log listener: a reply may have its first audio."""
        if isinstance(ev, (TurnEndPredicted, TtsChunk)):
            self._wake.set()

    def _take(self, pad: bool) -> np.ndarray | None:
        """The next frame of client audio; None while it is incomplete (unless `pad`: then the rest
        is silence — the client stopped sending)."""
        if self.buffered < FRAME_SAMPLES and not pad:
            return None
        out = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        pcm = self._fifo.take(FRAME_SAMPLES)
        out[:len(pcm)] = pcm
        return out

    def _feed(self) -> None:
        """Every frame of client audio that is complete and due goes to the agent now; one frame of
        silence a tick once the client has been quiet for STARVE_S."""
        now = self.session.clock.now()
        while self._in_t <= now:
            starved = now - self._arrived > STARVE_S
            pcm = self._take(pad=starved)
            if pcm is None:
                return
            self._in_t = max(self._in_t + FRAME_S, now - STARVE_S) if starved else self._in_t + FRAME_S
            self.session.recorder.add_user(self._in_t, pcm)
            self.session.agent.push_audio(AudioFrame(pcm, SAMPLE_RATE, self._in_t))
            if starved:
                return

    async def run(self, until_s: float) -> None:
        """One frame out every 32 ms of wall time until `until_s` on the session's clock."""
        clock, agent, recorder = self.session.clock, self.session.agent, self.session.recorder
        loop = asyncio.get_running_loop()
        due = loop.time()
        while (t := clock.now()) < until_s:
            self._feed()
            reply, audible = agent.playout.reply, agent.playout.has_audio
            out = agent.pull_audio(FRAME_SAMPLES, clock.now())
            recorder.add_agent(t, out)
            self.after_pull(reply, audible, out)
            self._sending = audible
            due += FRAME_S
            if loop.time() - due > 0.5:  # the loop stalled: do not race to catch up
                due = loop.time()
            await self._until(due)
            if agent.playout.has_audio and not self._sending:
                due = loop.time()  # a reply's first audio goes out now, not at the next tick

    async def _until(self, due: float) -> None:
        """Sleep until `due`, or until a reply has audio to start with."""
        loop = asyncio.get_running_loop()
        while (delay := due - loop.time()) > 0:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except asyncio.TimeoutError:
                return
            if self.session.agent.playout.has_audio and not self._sending:
                return
