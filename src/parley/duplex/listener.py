"""The engine's ears: echo guard → VAD → endpointer → the turn's audio, and the transcriber's
background passes (partials while the user speaks, the head of a long turn committed for good).

What the engine does with the endpointer's signals (speculate, take the turn, resolve an overlap)
stays in `DuplexEngine`; this class only turns input frames into them and keeps the audio and
the partial transcripts of the utterance in progress.
"""

from __future__ import annotations

import asyncio

import numpy as np

from parley.audio.frame import AudioFrame
from parley.clock import Clock
from parley.components import registry
from parley.components.asr.base import ASR
from parley.components.asr.stream import StreamingTranscriber, Transcript
from parley.components.watchdog import ComponentStalled
from parley.config import AgentConfig, TurnTakingConfig
from parley.duplex.echo import EchoGuard
from parley.duplex.endpointing import EndpointEvent, Signal, SilenceEndpointer
from parley.duplex.playout import Reply
from parley.duplex.utterance import Utterance
from parley.errors import describe
from parley.events import AsrPartial, AsrSegment, ComponentError, EventLog


# Where the responder acknowledges a pause on the audio's verdict (a talker), the final ASR pass
# waits at most this long for the end-of-turn model: the short Smart Turn call then has the cores
# to itself instead of sharing them with Whisper's long pass (`benchmarks/turn_model_first.py`:
# verdict 117 -> 71 ms, transcript 279 -> 312 ms). Elsewhere nothing acts on the verdict before the
# transcript, so the two run side by side and the transcript comes first.
JUDGE_FIRST_S = 0.3


def judge_on(reply: Reply, text: str, confidence: float | None, rereading: bool = False) -> None:
    """The words the end of turn is judged on: the final pass's first reading where a second opinion
    on it follows (`rereading`: the judge need not wait for that), else the final transcript. The
    confidence is set before the judge reads the words: it weighs them by it."""
    reply.rereading = rereading
    if not reply.transcript.done():
        reply.confidence = confidence
        reply.transcript.set_result(text)


async def _first(fut: asyncio.Future, timeout_s: float) -> None:
    """Wait for `fut` to resolve, at most `timeout_s` of wall time (a queued or stalled verdict does
    not hold up the transcript for long)."""
    try:
        await asyncio.wait_for(asyncio.shield(fut), timeout_s)
    except TimeoutError:
        pass


class Listener:
    def __init__(self, cfg: AgentConfig, clock: Clock, log: EventLog, *, vad, asr: ASR) -> None:
        tt = cfg.turn_taking
        self.log = log
        self.vad = vad
        self.asr = asr
        self.echo = EchoGuard() if tt.echo_guard else None
        self.endpointer = SilenceEndpointer(tt.vad, tt.endpoint)
        self.utterance = Utterance(tt.vad.preroll_ms)
        self.transcriber = StreamingTranscriber(asr, clock, cfg.asr.partial_interval_s, cfg.asr.timeout_s,
                                               cfg.asr.beam_size)
        self.on = True  # False: turns are decided outside (a Realtime client's commit), not by the VAD

    async def warm(self) -> None:
        if registry.first_use(self.asr):
            await self.transcriber.warm()

    def hear(self, frame: AudioFrame, played: np.ndarray) -> list[EndpointEvent]:
        """One input frame, with the agent audio played over the same window (the echo reference)."""
        pcm, echo_only = frame.pcm, False
        if self.echo is not None:
            pcm, echo_only = self.echo.process(frame.pcm, played)
        prob = 0.0 if echo_only or not self.on else self.vad(pcm)  # 0: the agent hearing itself
        signals = self.endpointer.step(frame.t, prob)
        self.utterance.push(pcm, self.endpointer.in_turn or any(s.signal is Signal.END_OF_TURN for s in signals))
        return signals

    def background(self, responder, spawn) -> None:
        """Start a background pass if one is due: a long turn's head, or a partial for `responder`."""
        if self.endpointer.in_turn and self.transcriber.wants_commit(self.utterance.samples):
            spawn(self._commit(self.utterance.take_head()))
        elif self.endpointer.speaking and responder.wants_partials \
                and self.transcriber.wants_partial(self.utterance.samples):
            spawn(self._partial(self.utterance.audio(), responder))

    def listen(self, on: bool) -> None:
        if on != self.on:
            self.on = on
            self.reset()

    def new_utterance(self) -> None:
        """Speech started: a new utterance's audio, and no earlier segment prefixes its transcripts."""
        self.utterance.start()
        self.transcriber.reset()

    def reset(self) -> None:
        """Forget the utterance in progress: no turn is open, no audio kept."""
        self.endpointer.reset()
        self.utterance.clear()

    def retune(self, tt: TurnTakingConfig) -> None:
        self.endpointer.vad, self.endpointer.cfg = tt.vad, tt.endpoint

    async def words(self, reply: Reply, audio: np.ndarray, prompt: str | None) -> Transcript | None:
        """The final pass on the turn's audio, its first reading handed to the end-of-turn judge
        (`judge_on`); None when speech resumed while the pause was still being judged."""
        if reply.judged is not None:
            await _first(reply.judged, JUDGE_FIRST_S)
            if reply.cancel.cancelled:
                return None
        return await self.transcriber.transcribe(audio, prompt=prompt,
                                                 first=lambda text, sure: judge_on(reply, text, sure, rereading=True))

    async def _commit(self, head: np.ndarray) -> None:
        """A long turn's head transcribed for good (`components/asr/stream.py`)."""
        try:
            tr = await self.transcriber.commit(head)
        except Exception as exc:
            self.log.emit(ComponentError, component="asr", message=describe(exc))
            return
        self.log.emit(AsrSegment, text=tr.text, audio_s=round(tr.audio_s, 3), compute_ms=round(tr.compute_s * 1000, 1))

    async def _partial(self, audio: np.ndarray, responder) -> None:
        try:
            tr = await self.transcriber.transcribe(audio, partial=True)
        except ComponentStalled:
            return  # the turn's final pass reports it, once per turn instead of once a second
        except Exception as exc:
            self.log.emit(ComponentError, component="asr", message=describe(exc))
            return
        if tr.text:
            self.log.emit(AsrPartial, text=tr.text, audio_s=round(tr.audio_s, 3))
            await responder.partial(tr.text)
