"""The duplex engine: parley's turn-taking, shared by every architecture that listens with it.

The engine owns listening, end of turn, overlap, the agent's backchannels, playout and the floor;
what to say is the `Responder`'s. The cascade is this engine + an ASR → LLM → TTS responder, the
hybrid this engine + a talker/thinker responder.

Path of one user turn:
1. Each 32 ms input frame: echo guard → VAD → endpointer. While the user speaks the utterance is
   re-transcribed about once a second (`asr_partial`) and the responder sees each partial.
2. At the first silence (`paused`) a reply is started speculatively: the final ASR pass, then the
   responder fills the reply with speech. If speech resumes, the speculation is cancelled.
3. Meanwhile Smart Turn on the audio, cues in the transcript and the responder's view of the words'
   finality decide how long this pause may last (`end_of_turn.required_wait`).
4. At the end of turn the prepared reply is committed and the playout pulls its audio, so the
   endpoint wait is hidden behind the reply's preparation instead of added to it.
5. User speech over the agent pauses it at once (`overlap.OverlapPolicy`): a backchannel resumes
   it, a barge-in stops it; the responder hears exactly what the user heard.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame
from parley.clock import Clock
from parley.components.asr.base import ASR
from parley.components.asr.stream import Transcript
from parley.config import AgentConfig, TurnTakingConfig
from parley.dialogue.conversation import Conversation
from parley.duplex.acknowledge import Acknowledger
from parley.duplex.backchannel import ASR_PROMPT, AgentBackchannels
from parley.duplex.endpointing import EndpointEvent
from parley.duplex.fillers import Fillers
from parley.duplex.floor import Floor
from parley.duplex.listener import Listener, judge_on
from parley.duplex.judge import TurnJudge
from parley.duplex.overlap import OverlapPolicy
from parley.duplex.playout import Playout, Reply
from parley.duplex.speculation import Speculation
from parley.duplex.voice import Voice
from parley.events import AsrFinal, Backchannel, EventLog, TurnEndPredicted, UserSpeechStarted, UserSpeechStopped

class Responder(Protocol):
    """What the engine asks for the reply to a user turn."""

    conversation: Conversation  # prompt, history, facts, procedure: what a transport may amend
    wants_partials: bool  # partial transcripts are used (retrieval, prefill): else none are decoded

    async def instruct(self, persona: str) -> None:
        """Take a new persona mid-call (history and facts stay)."""

    async def start(self) -> None:
        """Warm the models so the first turn costs what later turns cost."""

    async def close(self) -> None: ...

    def utterance_started(self) -> None:
        """The user began a new utterance (partials of the last one are stale)."""

    async def partial(self, text: str) -> None:
        """A partial transcript of the utterance in progress (retrieval, speculation)."""

    def preparing(self) -> None:
        """A reply is about to be prepared: background work on the models yields."""

    def acknowledgement(self, words: str) -> str | None:
        """A pre-synthesized line to say the moment the caller's pause sounds or reads finished (a
        talker's "mhm"), or None; `words`: the final transcript, "" when it is not known yet."""

    async def respond(self, reply: Reply) -> None:
        """Fill `reply.chunks` for `reply.user_text`, stopping when `reply.cancel` is set; may resolve
        `reply.reading` (the chat model's `Reading` of the words) on the way; sets `reply.stage`."""

    def heard(self, reply: Reply, heard: str, interrupted: bool) -> None:
        """A reply ended: `heard` is exactly what the user heard of it."""


class DuplexEngine:
    name = "duplex"

    def __init__(self, cfg: AgentConfig, clock: Clock, log: EventLog, responder: Responder, *,
                 vad, asr: ASR, voice: Voice, turn=None) -> None:
        self.tt = tt = cfg.turn_taking
        self.clock = clock
        self.log = log
        self.responder = responder
        self.voice = voice
        self.ears = Listener(cfg, clock, log, vad=vad, asr=asr)
        self.judge = TurnJudge(turn, clock, log, cfg) if turn is not None and tt.endpoint.predict else None
        self.playout = Playout(log, self._on_reply_finished)
        self.fillers = Fillers(voice, clock, log, tt.hold_after_ms)
        self.overlap = OverlapPolicy(self.playout, tt)
        self.floor = Floor(log)
        self.backchannels = AgentBackchannels(tt.backchannel_min_interval_s)
        self.acknowledger = Acknowledger(self.backchannels, self.playout, responder, voice, clock, log,
                                         lambda: self.ears.endpointer.paused)
        self._played = np.zeros(FRAME_SAMPLES, dtype=np.float32)  # agent audio of the current input window
        self.speculation = Speculation(log)
        self._plausibility = cfg.asr.implausible_below is not None  # the responder reads the words for it
        self._tasks: set[asyncio.Task] = set()

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.responder.start()
        await self.voice.warm()
        await self.ears.warm()
        if self.judge is not None:
            await self.judge.warm()
        if self.tt.agent_backchannels:
            await self.backchannels.prepare(self.voice)
        await self.fillers.prepare()

    async def close(self) -> None:
        if self.speculation.reply is not None:
            self.speculation.reply.cancel.cancel("session closed")
        if self.playout.active:  # a call ended mid-reply: history and the log keep what was heard
            self.playout.stop("cancelled", self.clock.now())
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.responder.close()

    @property
    def _use_judge(self) -> bool:  # not while a client asked for plain silence timeouts (`server_vad`)
        return self.judge is not None and self.tt.endpoint.predict

    @property
    def busy(self) -> bool:
        return self.speculation.reply is not None or self.playout.active or self.ears.endpointer.in_turn

    # --- audio in and out ----------------------------------------------------------------------
    def push_audio(self, frame: AudioFrame) -> None:
        for sig in self.ears.hear(frame, self._played):
            getattr(self, f"_on_{sig.signal.value}")(sig)  # _on_speech_started, _on_paused, …
        speaking = self.ears.endpointer.speaking
        self.floor.update(frame.t, user_speaking=speaking, agent_audible=self.playout.audible,
                          agent_holding=self.overlap.pending)
        self.overlap.frame(frame.t, speaking, self.clock.now())
        self.ears.background(self.responder, self._spawn)

    def pull_audio(self, n: int, t: float) -> np.ndarray:
        out = self.playout.pull(n, t)
        self._played = out  # the echo reference for the next input frame
        return out

    # --- endpointing signals -------------------------------------------------------------------
    def _on_speech_started(self, ev: EndpointEvent) -> None:
        self.ears.new_utterance()
        self.responder.utterance_started()
        self.log.emit(UserSpeechStarted, t=ev.t)
        self.overlap.speech_started(ev.t, self.clock.now())

    def _on_paused(self, ev: EndpointEvent) -> None:
        self.log.emit(UserSpeechStopped, t=ev.t, noticed=self.clock.now())
        self.overlap.speech_paused(ev.t)
        audio = self._speculate(judged=self._use_judge and self.acknowledger.active)
        if self._use_judge:  # the turn's end, with what a long turn already committed before it
            self._spawn(self._judge_turn(self.speculation.reply, self.ears.utterance.heard_end(audio), ev.t))

    def _on_resumed(self, ev: EndpointEvent) -> None:
        self.speculation.drop("speech resumed")
        self.overlap.yield_backchannel(self.clock.now())

    def _on_end_of_turn(self, ev: EndpointEvent) -> None:
        if self.speculation.reply is None:
            self._speculate()
        self._take_turn(ev.silence_s)

    def _take_turn(self, silence_s: float) -> None:
        reply = self.speculation.take()
        self.log.emit(TurnEndPredicted, turn=reply.turn, silence_ms=round(silence_s * 1000, 1))
        self.ears.utterance.clear()
        self.overlap.turn_ended(self.clock.now())
        self.playout.play(reply)
        self._spawn(self.fillers.hold_if_slow(reply, self.playout))

    # --- turns decided by the transport (a Realtime client with turn detection off) ---------------
    def listen(self, on: bool) -> None:
        """Let the VAD decide turns (on), or leave them to `respond_now` (off)."""
        self.ears.listen(on)

    def retune(self, tt: TurnTakingConfig) -> None:
        """New turn-taking settings mid-call (a Realtime client's `turn_detection`)."""
        self.tt = tt
        self.ears.retune(tt)
        self.overlap.retune(tt)
        if self.judge is not None:  # the end-of-turn model comes back only if the agent was built with one
            self.judge.eagerness = tt.endpoint.eagerness

    def respond_now(self, *, audio: np.ndarray | None = None, text: str | None = None) -> int:
        """Reply at once (and return its turn) to a turn ended outside the engine: `audio` or `text`."""
        self.speculation.drop("turn taken by the client")
        self.ears.transcriber.reset()  # nothing of an earlier utterance prefixes this one
        self._speculate(np.zeros(0, np.float32) if audio is None else audio, text)
        turn = self.speculation.reply.turn
        self._take_turn(0.0)
        return turn

    def cancel_reply(self) -> bool:
        """Stop the reply being prepared or played (a client's `response.cancel`); False if none."""
        stopped = self.speculation.drop("cancelled")
        if self.playout.active and not self.playout.reply.backchannel:
            self.playout.stop("cancelled", self.clock.now())
            stopped = True
        return stopped

    # --- the reply -----------------------------------------------------------------------------
    def _speculate(self, audio: np.ndarray | None = None, text: str | None = None, judged: bool = False) -> np.ndarray:
        """Start a reply on the utterance so far; `judged`: the end-of-turn model hears this pause
        first (a talker acknowledges on its verdict: the final ASR pass waits for it)."""
        self.responder.preparing()
        reply = self.speculation.begin(wants_reading=self._use_judge and self.tt.endpoint.finality or self._plausibility,
                                       judged=judged)
        if audio is None:
            audio = self.ears.utterance.audio()
        self._spawn(self._prepare(reply, audio, text))
        return audio

    async def _prepare(self, reply: Reply, audio: np.ndarray, text: str | None = None) -> None:
        try:
            if text is not None:  # typed, not spoken
                tr = Transcript(text.strip(), 0.0, 0.0)
            else:
                tr = await self.ears.words(reply, audio, ASR_PROMPT if self.overlap.pending else None)
                if tr is None:
                    return  # speech resumed while the pause was judged: nothing to transcribe
            judge_on(reply, tr.text, tr.confidence)
            reply.confidence = tr.confidence
            if reply.cancel.cancelled:
                return
            if self.overlap.pending and reply is self.speculation.reply:
                if self.overlap.is_backchannel(tr.text):
                    self._recover_from_false_interruption(reply, tr.text)
                    return
                self.overlap.barge_in(self.clock.now())
            self.log.emit(AsrFinal, turn=reply.turn, text=tr.text, audio_s=round(tr.audio_s, 3),
                          compute_ms=round(tr.compute_s * 1000, 1))
            if not tr.text:
                return  # noise or silence: no reply
            reply.user_text, reply.audio = tr.text, audio
            await self.responder.respond(reply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failing component must not kill the session
            await self.fillers.failed(reply, exc)
        finally:
            reply.done = True
            for fut in (reply.transcript, reply.reading):
                if not fut.done():
                    fut.set_result("" if fut is reply.transcript else None)

    async def _judge_turn(self, reply: Reply, audio: np.ndarray, silence_start: float) -> None:
        ack, eagerness = self.acknowledger, self.judge.eagerness
        verdict = await self.judge.verdict(reply, audio, lambda: reply is self.speculation.reply,
                                           lambda p_done: ack.heard(reply, p_done),
                                           lambda early: ack.read(reply, early, eagerness))
        if verdict is None:
            return
        ack.decided(reply, verdict, eagerness, len(audio) >= self.tt.backchannel_min_turn_s * SAMPLE_RATE)
        # the turn ends no sooner than its acknowledgement: a reply never cuts it off
        self.ears.endpointer.decide(max(verdict.wait_ms / 1000, reply.acknowledged_until - silence_start))

    def _recover_from_false_interruption(self, reply: Reply, text: str) -> None:
        """The overlap was a backchannel or a noise: drop it and resume where the agent stopped."""
        self.log.emit(Backchannel, source="user", text=text)
        self.speculation.drop("backchannel")  # `reply` is the one in preparation (checked by the caller)
        self.ears.reset()
        self.overlap.resume(self.clock.now())

    def _on_reply_finished(self, reply: Reply, heard: str, interrupted: bool) -> None:
        if not reply.backchannel and reply.user_text:
            self.responder.heard(reply, heard, interrupted)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
