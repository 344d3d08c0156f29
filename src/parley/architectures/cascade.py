"""The cascade: streaming VAD → ASR → LLM → TTS, with speculative start and barge-in.

Path of one user turn:
1. Each 32 ms input frame is scored by the VAD and fed to the endpointer; while the user speaks the
   utterance is re-transcribed about once a second (`asr_partial`).
2. At the first silence (`paused`) the reply is prepared speculatively: final ASR, then LLM tokens
   cut into clauses, each clause synthesized as soon as it is complete. If speech resumes, the
   speculation is cancelled.
3. At the end of turn the prepared reply is committed and the playout starts pulling its audio, so
   the endpoint wait is hidden behind ASR + LLM + TTS instead of added to them.
4. History receives the user's text and exactly the characters the user heard; past its budget the
   oldest turns are summarised in idle time (`dialogue/summary.RollingSummary`).
With a knowledge base configured, `dialogue/grounding.Grounding` retrieves passages from the
partial transcripts and prefills them while the user speaks; the reply gets them as data.
The session orchestrator stays small: endpointing, playout and history are separate collaborators.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, FRAME_SECONDS, AudioFrame
from parley.clock import Clock
from parley.components import registry
from parley.components.asr.stream import StreamingTranscriber
from parley.components.tts.base import SpeechChunk
from parley.components.tts.clauses import Clause, ClauseSplitter
from parley.components.tts.internal import speakable
from parley.config import CascadeConfig
from parley.cpu import CpuGate
from parley.dialogue.conversation import Conversation
from parley.dialogue.knowledge import KnowledgeBase, read_document
from parley.dialogue.summary import RollingSummary
from parley.duplex.backchannel import ASR_PROMPT, is_backchannel
from parley.duplex.echo import EchoGuard
from parley.duplex.floor import Floor
from parley.duplex.end_of_turn import finality, finality_matters, hold_cue, required_wait
from parley.duplex.endpointing import EndpointEvent, Signal, SilenceEndpointer
from parley.duplex.playout import Playout, Reply
from parley.errors import ParleyError
from parley.events import (
    AsrFinal, AsrPartial, Backchannel, ComponentError, EventLog, LlmDone, LlmFirstToken, LlmRequest,
    SpeculationCancelled, SpeculationStarted, TtsChunk, TurnEndPredicted, TurnPrediction, UserSpeechStarted,
    UserSpeechStopped,
)


AGENT_BACKCHANNELS = ("Mhm.", "Right.", "Okay.")


class CascadeAgent:
    name = "cascade"

    def __init__(self, cfg: CascadeConfig, clock: Clock, log: EventLog, *,
                 vad=None, asr=None, llm=None, tts=None, turn=None, gate: CpuGate | None = None) -> None:
        documents = [read_document(Path(p)) for p in cfg.knowledge.documents]  # bad input fails before models load
        self.cfg = cfg
        self.clock = clock
        self.log = log
        self.vad = vad or registry.vad()
        self.asr = asr or registry.whisper(cfg.asr.window_s, cfg.asr.threads)
        self.llm = llm or registry.chat_model(cfg.llm, clock)
        self.tts = tts or registry.piper(cfg.tts.length_scale, threads=cfg.tts.threads)
        self.gate = gate or registry.cpu_gate()
        self.turn_detector = turn or (registry.smart_turn() if cfg.endpoint.predict else None)
        self.conversation = Conversation(cfg, documents, log)
        self.history = self.conversation.history
        self.memory = RollingSummary(self.history, self.llm, clock, log)
        self.grounding = None
        if cfg.knowledge.path:
            from parley.dialogue.grounding import Grounding

            self.grounding = Grounding(KnowledgeBase(cfg.knowledge.path), cfg.knowledge.top_k, clock, log,
                                       self.llm, self.history)
        self.endpointer = SilenceEndpointer(cfg.vad, cfg.endpoint)
        self.playout = Playout(log, self._on_reply_finished)
        self.echo = EchoGuard() if cfg.echo_guard else None
        self.floor = Floor(log)
        self._backchannel_clips: list[tuple[str, np.ndarray]] = []
        self._last_backchannel = -1e9
        self._played = np.zeros(FRAME_SAMPLES, dtype=np.float32)  # agent audio of the current input window
        self._asr_exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")
        self._tts_exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")
        self._turn_exec = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn")
        self.transcriber = StreamingTranscriber(self.asr, clock, self._asr_exec, cfg.asr.partial_interval_s)
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, round(cfg.vad.preroll_ms / 1000 / FRAME_SECONDS)))
        self._utterance: list[np.ndarray] = []
        self._pending: Reply | None = None  # being prepared (speculative), not yet handed to playout
        self._overlap_onset: float | None = None  # user speech onset that paused the agent, unresolved
        self._overlap_speech_s = 0.0  # how long that overlapping speech lasted before its first pause
        self._turns = 0
        self._tasks: set[asyncio.Task] = set()
        self._handlers: dict[Signal, Callable[[EndpointEvent], None]] = {
            Signal.SPEECH_STARTED: self._on_speech_started,
            Signal.PAUSED: self._on_paused,
            Signal.RESUMED: self._on_resumed,
            Signal.END_OF_TURN: self._on_end_of_turn,
        }

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Warm every model so the first turn costs what later turns cost: the system prompt is
        prefilled into the LLM's KV cache, and ASR/TTS run once."""
        await self.llm.warm(self.history.messages())
        await self.clock.compute(self._tts_exec, self.tts.synthesize, "Hello.")
        await self.clock.compute(self._asr_exec, self.asr.transcribe, np.zeros(16000, dtype=np.float32))
        if self.turn_detector is not None:
            await self.clock.compute(self._turn_exec, self.turn_detector.predict, np.zeros(16000, dtype=np.float32))
        if self.grounding is not None:
            await self.grounding.warm()
        if self.cfg.agent_backchannels:  # pre-synthesized: a backchannel must cost no compute when due
            for text in AGENT_BACKCHANNELS:
                self._backchannel_clips.append((text, await self.clock.compute(self._tts_exec, self.tts.synthesize, text)))

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel.cancel("session closed")
        await self.memory.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ex in (self._asr_exec, self._tts_exec, self._turn_exec):
            ex.shutdown(wait=True, cancel_futures=True)
        if self.grounding is not None:
            await self.grounding.close()

    @property
    def busy(self) -> bool:
        return self._pending is not None or self.playout.active or self.endpointer.in_turn

    # --- audio in ------------------------------------------------------------------------------

    def push_audio(self, frame: AudioFrame) -> None:
        pcm, echo_only = frame.pcm, False
        if self.echo is not None:
            pcm, echo_only = self.echo.process(frame.pcm, self._played)
        prob = self.vad(pcm)
        if echo_only:
            prob = 0.0  # the agent hearing itself
        signals = self.endpointer.step(frame.t, prob)
        if self.endpointer.in_turn or any(s.signal is Signal.END_OF_TURN for s in signals):
            self._utterance.append(pcm)
        else:
            self._preroll.append(pcm)
        for sig in signals:
            self._handlers[sig.signal](sig)
        self.floor.update(frame.t, user_speaking=self.endpointer.speaking,
                          agent_audible=self.playout.audible,
                          agent_holding=self._overlap_onset is not None)
        if (self._overlap_onset is not None and self.endpointer.speaking
                and frame.t + FRAME_SECONDS - self._overlap_onset >= self.cfg.barge_in_confirm_ms / 1000):
            self._confirm_barge_in()
        if self.endpointer.speaking:
            if self.transcriber.wants_partial(len(self._utterance) * FRAME_SAMPLES):
                self._spawn(self._partial(np.concatenate(self._utterance)))

    # --- audio out -----------------------------------------------------------------------------

    def pull_audio(self, n: int, t: float) -> np.ndarray:
        out = self.playout.pull(n, t)
        self._played = out  # the echo reference for the next input frame
        return out

    # --- endpointing signals -------------------------------------------------------------------

    def _on_speech_started(self, ev: EndpointEvent) -> None:
        self._utterance = list(self._preroll)
        self._preroll.clear()
        self.transcriber.reset()
        if self.grounding is not None:
            self.grounding.new_utterance()
        self.log.emit(UserSpeechStarted, t=ev.t)
        if self.playout.active and self.playout.reply.backchannel:
            self.playout.stop("yield", self.clock.now())  # never talk over the user's onset
            return
        if not self.cfg.barge_in or not self.playout.active:
            return
        if self.playout.audible:
            # Go quiet at once; whether this is a barge-in or a backchannel is decided below.
            self.playout.pause(self.clock.now())
            self._overlap_onset = ev.t
        elif not self.playout.speaking:
            self.playout.stop("barge_in", self.clock.now())  # committed, not yet audible

    def _on_paused(self, ev: EndpointEvent) -> None:
        self.log.emit(UserSpeechStopped, t=ev.t, noticed=self.clock.now())
        if self._overlap_onset is not None:
            self._overlap_speech_s = ev.t - self._overlap_onset
        audio = self._speculate()
        if self.turn_detector is not None:
            self._spawn(self._judge_turn(self._pending, audio))

    def _on_resumed(self, ev: EndpointEvent) -> None:
        if self._pending is not None:
            self._pending.cancel.cancel("speech resumed")
            self.log.emit(SpeculationCancelled, turn=self._pending.turn, reason="speech resumed")
            self._pending = None

    def _on_end_of_turn(self, ev: EndpointEvent) -> None:
        if self._pending is None:
            self._speculate()
        reply, self._pending = self._pending, None
        reply.committed = True
        self.log.emit(TurnEndPredicted, turn=reply.turn, silence_ms=round(ev.silence_s * 1000, 1))
        self._utterance = []
        if self.playout.active:  # the previous reply is still playing: this one supersedes it
            self.playout.stop("barge_in" if self._overlap_onset is not None else "superseded", self.clock.now())
        self._overlap_onset = None
        self.playout.play(reply)

    # --- the reply -----------------------------------------------------------------------------

    def _speculate(self) -> np.ndarray:
        self._turns += 1
        self.memory.yield_model(now=False)
        loop = asyncio.get_running_loop()
        reply = Reply(turn=self._turns, transcript=loop.create_future(), finality=loop.create_future())
        if not self.cfg.endpoint.finality:
            reply.finality.set_result(None)  # the end of turn must not wait for it
        self._pending = reply
        self.log.emit(SpeculationStarted, turn=reply.turn)
        audio = np.concatenate(self._utterance) if self._utterance else np.zeros(0, dtype=np.float32)
        self._spawn(self._prepare(reply, audio))
        return audio

    async def _judge_turn(self, reply: Reply, audio: np.ndarray) -> None:
        """Smart Turn on the audio, the chat model's view of the words, and cues in the final
        transcript → how long this pause may last. The reply cannot play before the transcript
        anyway; the words' finality is waited for only where it can change the verdict."""
        try:
            p_done = await self.clock.compute(self._turn_exec, self.turn_detector.predict, audio)
        except Exception as exc:
            self.log.emit(ComponentError, component="turn", message=f"{exc.__class__.__name__}: {exc}")
            p_done = None
        text = await reply.transcript
        p_final = await reply.finality if finality_matters(text) else None
        if reply is not self._pending or reply.cancel.cancelled:
            return
        verdict = required_wait(p_done, text, self.cfg.endpoint.eagerness, p_final)
        self.log.emit(TurnPrediction, turn=reply.turn, p_done=None if p_done is None else round(p_done, 3),
                      p_final=None if p_final is None else round(p_final, 4), cue=verdict.cue,
                      wait_ms=verdict.wait_ms, text=text)
        self.endpointer.decide(verdict.wait_ms / 1000)
        if verdict.holding and len(audio) >= self.cfg.backchannel_min_turn_s * 16000:
            self._maybe_backchannel()

    def _maybe_backchannel(self) -> None:
        """The user is mid-turn and pausing: a short 'mhm' shows the agent is listening."""
        now = self.clock.now()
        if (not self._backchannel_clips or self.playout.active or not self.endpointer.paused
                or now - self._last_backchannel < self.cfg.backchannel_min_interval_s):
            return
        self._last_backchannel = now
        text, pcm = self._backchannel_clips[int(now * 1000) % len(self._backchannel_clips)]
        clip = Reply(turn=0, text=text, backchannel=True, committed=True, done=True,
                     chunks=[SpeechChunk(pcm=pcm, text=text, start=0, end=len(text))])
        self.log.emit(Backchannel, source="agent", text=text)
        self.playout.play(clip)

    async def _prepare(self, reply: Reply, audio: np.ndarray) -> None:
        stage = "asr"
        try:
            overlap = self._overlap_onset is not None
            tr = await self.transcriber.transcribe(audio, prompt=ASR_PROMPT if overlap else None)
            reply.transcript.set_result(tr.text)
            if reply.cancel.cancelled:
                return
            if self._overlap_onset is not None and reply is self._pending:
                if is_backchannel(tr.text, speech_s=self._overlap_speech_s):
                    self._recover_from_false_interruption(reply, tr.text)
                    return
                self._confirm_barge_in()
            self.log.emit(AsrFinal, turn=reply.turn, text=tr.text, audio_s=round(tr.audio_s, 3),
                          compute_ms=round(tr.compute_s * 1000, 1))
            if not tr.text:
                return  # noise or silence: no reply
            reply.user_text = tr.text
            reference = None
            if self.grounding is not None:
                stage = "retrieval"
                reference = await self.grounding.reference(reply.turn, tr.text)
            stage = "llm"
            self.memory.yield_model(now=True)
            messages = self.history.messages(tr.text, reference)
            if self.turn_detector is not None and not reply.finality.done():
                reply.finality.set_result(await finality(self.llm, messages, tr.text, self.log))
            splitter = ClauseSplitter(self.cfg.tts.first_clause_min_words, self.cfg.tts.clause_min_words,
                                      self.cfg.tts.first_clause_max_words)
            plan = self.conversation.read_back(reply.turn, tr.text, hold_cue(tr.text))
            if plan is not None:
                stage = "tts"
                for clause in splitter.feed(plan.line + " ") + (splitter.flush() if plan.action != "state" else []):
                    await self._deliver(reply, splitter.text, clause)
                if plan.action != "state":
                    return  # the caller answers the read-back (or says the value again) first
            stage = "llm"
            self.log.emit(LlmRequest, turn=reply.turn, messages=len(messages))
            tokens = 0
            complete = False  # the gate ended the reply: nothing after it is spoken
            gen = reply.cancel.child()  # ends the LLM stream alone when the reply is complete
            async for delta in self.llm.stream(messages, cancel=gen):
                if tokens == 0:
                    self.log.emit(LlmFirstToken, turn=reply.turn)
                tokens += 1
                for clause in splitter.feed(delta):
                    stage = "tts"
                    if not await self._deliver(reply, splitter.text, clause):
                        complete = True
                        gen.cancel("reply complete")
                        break
                    stage = "llm"
                if splitter.ended and not gen.cancelled:
                    gen.cancel("the model began another speaker's turn")
                if gen.cancelled:
                    break
            if not complete and not reply.cancel.cancelled:
                reply.text = splitter.text
                for clause in splitter.flush():
                    stage = "tts"
                    if not await self._deliver(reply, splitter.text, clause):
                        break
            self.log.emit(LlmDone, turn=reply.turn, text=reply.text, tokens=tokens,
                          cancelled=reply.cancel.cancelled)
            if not reply.cancel.cancelled:
                self.memory.reply_generated()
        except asyncio.CancelledError:
            raise
        except ParleyError as exc:
            self.log.emit(ComponentError, component=stage, message=str(exc))
        except Exception as exc:  # a failing component must not kill the session
            self.log.emit(ComponentError, component=stage, message=f"{exc.__class__.__name__}: {exc}")
            traceback.print_exc()
        finally:
            reply.done = True
            for fut in (reply.transcript, reply.finality):
                if not fut.done():
                    fut.set_result("" if fut is reply.transcript else None)

    async def _deliver(self, reply: Reply, text: str, clause: Clause) -> bool:
        """Speak what the reply gate lets through of `clause`; False when the reply ends here."""
        verdict = self.conversation.check(reply.turn, text, clause, reply.user_text)
        reply.text = verdict.text
        if verdict.clause is not None:
            await self._speak(reply, verdict.clause)
        return verdict.more

    async def _speak(self, reply: Reply, clause: Clause) -> None:
        if reply.cancel.cancelled:
            return
        text = speakable(clause.text)
        if not text:
            return
        t0 = self.clock.now()
        with self.gate.hold():  # the LLM yields both cores while a clause is synthesized
            pcm = await self.clock.compute(self._tts_exec, self.tts.synthesize, text)
        if reply.cancel.cancelled or len(pcm) == 0:
            return
        reply.chunks.append(SpeechChunk(pcm=pcm, text=clause.text, start=clause.start, end=clause.end))
        self.log.emit(TtsChunk, turn=reply.turn, text=clause.text, start=clause.start, end=clause.end,
                      duration_s=round(len(pcm) / 16000, 3), compute_ms=round((self.clock.now() - t0) * 1000, 1))

    # --- overlap: barge-in or backchannel --------------------------------------------------------

    def _confirm_barge_in(self) -> None:
        """The user wants the floor: the paused reply ends here, history keeps what was heard."""
        self._overlap_onset = None
        if self.playout.active:
            self.playout.stop("barge_in", self.clock.now())

    def _recover_from_false_interruption(self, reply: Reply, text: str) -> None:
        """The overlap was a backchannel or a noise: drop it and resume where the agent stopped."""
        self._overlap_onset = None
        self.log.emit(Backchannel, source="user", text=text)
        reply.cancel.cancel("backchannel")
        self.log.emit(SpeculationCancelled, turn=reply.turn, reason="backchannel")
        self._pending = None
        self._utterance = []
        self.endpointer.reset()
        self.playout.resume(self.clock.now())

    async def _partial(self, audio: np.ndarray) -> None:
        try:
            tr = await self.transcriber.transcribe(audio, partial=True)
        except Exception as exc:
            self.log.emit(ComponentError, component="asr", message=f"{exc.__class__.__name__}: {exc}")
            return
        if tr.text:
            self.log.emit(AsrPartial, text=tr.text, audio_s=round(tr.audio_s, 3))
            if self.grounding is not None:  # retrieval starts before the end of turn
                await self.grounding.on_partial(tr.text)

    def _on_reply_finished(self, reply: Reply, heard: str, interrupted: bool) -> None:
        if reply.backchannel or not reply.user_text:
            return
        self.conversation.heard(reply.turn, reply.user_text, heard, interrupted)
        self.memory.reply_heard()

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
