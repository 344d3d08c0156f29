"""Judging one pause: Smart Turn on the audio, the words' finality, cues in the transcript and
Whisper's confidence in it → how long this pause may last (`end_of_turn.required_wait`).

The reply cannot play before the transcript anyway, so the judge waits for it; the chat model's
view of the words' finality (resolved by the responder on the reply's own prompt) is waited for
only where it can change the verdict (`end_of_turn.finality_matters`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from parley.clock import Clock
from parley.components import registry
from parley.components.watchdog import answered
from parley.config import AgentConfig
from parley.cpu import URGENT, at
from parley.dialogue.readback import unclear
from parley.duplex.end_of_turn import TurnVerdict, finality_matters, required_wait
from parley.duplex.playout import Reply
from parley.errors import describe
from parley.events import ComponentError, EventLog, TurnPrediction


STALL_S = 5.0  # Smart Turn answers in 50–130 ms; past this it is stuck and the silence fallback decides


class TurnJudge:
    def __init__(self, detector, clock: Clock, log: EventLog, cfg: AgentConfig) -> None:
        self.detector = detector  # Smart Turn: predict(pcm) -> P(done)
        self.clock = clock
        self.log = log
        self.eagerness = cfg.turn_taking.endpoint.eagerness  # a Realtime client may change it mid-call
        self.unclear_below = cfg.asr.unclear_below  # Whisper's confidence below which its words are not trusted
        self.use_finality = cfg.turn_taking.endpoint.finality
        self._exec = registry.lane(detector)

    async def warm(self) -> None:
        """The first call costs more than later ones: pay it before the first turn (once per model)."""
        if registry.first_use(self.detector):
            await self.clock.compute(self._exec, self.detector.predict, np.zeros(16000, dtype=np.float32))

    async def verdict(self, reply: Reply, audio: np.ndarray, current: Callable[[], bool],
                      heard: Callable[[float], None] | None = None,
                      read: Callable[[TurnVerdict], None] | None = None) -> TurnVerdict | None:
        """The verdict on the pause `reply` was started at, or None once `current()` says the
        reply is no longer the one being decided (speech resumed, or the turn already ended).
        `heard(p_done)` is told Smart Turn's verdict on the audio the moment it is known, before
        the transcript, and `read(verdict)` the verdict on audio and words before the chat model's
        finality is known, where it is waited for (a talker acknowledges on either)."""
        try:
            p_done = await answered(self.clock.compute(self._exec, at(URGENT, self.detector.predict), audio),
                                    self._exec, STALL_S, "end-of-turn model")
        except Exception as exc:  # the silence fallback decides this pause
            self.log.emit(ComponentError, component="turn", message=describe(exc))
            p_done = None
        finally:
            if reply.judged is not None and not reply.judged.done():
                reply.judged.set_result(None)  # the final ASR pass may start (`DuplexEngine._prepare`)
        if heard is not None and p_done is not None and current():
            heard(p_done)
        text = await reply.transcript
        garbled = unclear(reply.confidence, self.unclear_below, text)  # the words hold the floor, finished or not
        p_final = None
        if finality_matters(text) and not garbled and self.use_finality:
            if read is not None and current():
                read(required_wait(p_done, text, self.eagerness))
            reading = await reply.reading
            p_final = None if reading is None else reading.p_final
        if not current() or reply.cancel.cancelled:
            return None
        verdict = required_wait(p_done, text, self.eagerness, p_final, garbled)
        self.log.emit(TurnPrediction, turn=reply.turn, p_done=None if p_done is None else round(p_done, 3),
                      p_final=None if p_final is None else round(p_final, 4), cue=verdict.cue,
                      wait_ms=verdict.wait_ms, text=text)
        return verdict
