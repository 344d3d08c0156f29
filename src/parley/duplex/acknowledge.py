"""When a talker says it has heard a pause ("Mhm.", "Let's see."), before the reply is ready.

Three moments (docs/architecture.md, "The hybrid"): the audio's verdict, the moment Smart Turn hears
the pause as finished (P ≥ 0.5); or, where Smart Turn doubts it, the words' verdict once they read
finished and the wait is long — without waiting for the chat model's finality, since where that
then holds the floor "mhm" was a listener's continuer all the same; or, on any verdict that ends
the turn while a second opinion still decodes its words, then (the talker's line waits for those).
Never over the agent's own speech or once the caller has gone on; the line and its rate are
`AgentBackchannels.acknowledge`'s.
On the final verdict of a pause the caller holds, after long enough a stretch of speech, the agent's
own backchannel is offered instead (`AgentBackchannels.offer`) — unless the pause was acknowledged
already: one token a pause ("Mhm. Mhm." inside a second is a turn to a listener, and to FDB).
"""

from __future__ import annotations

from typing import Callable

from parley.clock import Clock
from parley.duplex.backchannel import AgentBackchannels
from parley.duplex.end_of_turn import P_DOUBTFUL, WAITS_MS, TurnVerdict
from parley.duplex.playout import Playout, Reply
from parley.duplex.voice import Voice
from parley.events import EventLog


class Acknowledger:
    def __init__(self, backchannels: AgentBackchannels, playout: Playout, responder, voice: Voice, clock: Clock,
                 log: EventLog, paused: Callable[[], bool]) -> None:
        self.backchannels = backchannels
        self.log = log
        self.playout = playout
        self.responder = responder
        self.voice = voice
        self.clock = clock
        self.paused = paused  # the caller is still silent: this pause is still open

    @property
    def active(self) -> bool:
        """The responder acknowledges pauses (a talker): the audio's verdict is then wanted early."""
        return self.responder.acknowledgement("") is not None

    def heard(self, reply: Reply, p_done: float) -> None:
        """Smart Turn's verdict on the pause `reply` was started at."""
        if p_done >= P_DOUBTFUL:
            self._say(reply)

    def read(self, reply: Reply, verdict: TurnVerdict, eagerness: str) -> None:
        """A verdict on audio and words (early: before the words' finality; or final)."""
        if verdict.words_finished and verdict.wait_ms > WAITS_MS[eagerness][0]:
            self._say(reply, verdict.holding)

    def decided(self, reply: Reply, verdict: TurnVerdict, eagerness: str, long_turn: bool) -> None:
        """The pause's final verdict; `long_turn`: the caller has spoken long enough for a backchannel."""
        self.read(reply, verdict, eagerness)
        if not verdict.holding and reply.rereading:
            self._say(reply)  # the turn is over, its words still being decoded again: no silence meanwhile
        if verdict.holding and long_turn and not reply.acknowledged and not self.playout.active and self.paused():
            self.backchannels.offer(self.playout, self.log, self.clock.now())  # the caller is mid-turn and pausing

    def _say(self, reply: Reply, holding: bool = False) -> None:
        if self.paused():
            self.backchannels.acknowledge(self.playout, reply, self.responder, self.voice, self.clock.now(), holding)
