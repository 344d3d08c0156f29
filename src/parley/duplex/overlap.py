"""User speech over the agent: pause at once, then decide whether it was a bid for the floor.

    onset while audible ──▶ paused ──speech ≥ confirm_s──────────────▶ barge-in (stop, truncate)
                              └──words transcribed── backchannel/noise ─▶ resume where it paused
                                                 └── anything else ────▶ barge-in
An onset while a reply is committed but not yet audible stops it (nothing was heard yet); an onset
over the agent's own backchannel (or a talker's acknowledgement) yields at once, and so does one still
playing when the user goes on after a pause. History keeps what the user heard either way
(`Playout.stop` reports it). The words decide only while the overlap is unresolved: a confirmed
barge-in is never undone.
"""

from __future__ import annotations

from parley.audio.frame import FRAME_SECONDS
from parley.config import TurnTakingConfig
from parley.duplex.backchannel import is_backchannel
from parley.duplex.playout import Playout


class OverlapPolicy:
    def __init__(self, playout: Playout, tt: TurnTakingConfig) -> None:
        self.playout = playout
        self.retune(tt)
        self.onset: float | None = None  # onset of user speech that paused the agent, unresolved
        self.speech_s = 0.0  # how long that speech lasted before its first pause

    def retune(self, tt: TurnTakingConfig) -> None:
        self.enabled = tt.barge_in
        self.confirm_s = tt.barge_in_confirm_ms / 1000

    @property
    def pending(self) -> bool:
        return self.onset is not None

    def speech_started(self, t: float, now: float) -> None:
        p = self.playout
        if self.yield_backchannel(now) or not self.enabled or not p.active:
            return
        if p.audible:
            p.pause(now)  # quiet at once; barge-in or backchannel is decided below
            self.onset = t
        elif not p.speaking:
            p.stop("barge_in", now)  # committed, not yet audible

    def yield_backchannel(self, now: float) -> bool:
        """Never talk over the user: an agent backchannel (or a talker's acknowledgement) still
        playing when the user starts or goes on speaking stops at once."""
        if self.playout.active and self.playout.reply.backchannel:
            self.playout.stop("yield", now)
            return True
        return False

    def speech_paused(self, t: float) -> None:
        if self.onset is not None:
            self.speech_s = t - self.onset

    def frame(self, t: float, speaking: bool, now: float) -> None:
        """Speech that has lasted `confirm_s` is a barge-in before it is even transcribed."""
        if self.onset is not None and speaking and t + FRAME_SECONDS - self.onset >= self.confirm_s:
            self.barge_in(now)

    def is_backchannel(self, text: str) -> bool:
        """The transcribed overlap: True = resume the paused reply (the caller calls `resume`)."""
        return is_backchannel(text, speech_s=self.speech_s)

    def barge_in(self, now: float) -> None:
        """The user wants the floor: the paused reply ends here, history keeps what was heard."""
        self.onset = None
        if self.playout.active:
            self.playout.stop("barge_in", now)

    def resume(self, now: float) -> None:
        """The overlap was a backchannel or a noise: the agent goes on where it stopped."""
        self.onset = None
        self.playout.resume(now)

    def turn_ended(self, now: float) -> None:
        """A new user turn was committed: a reply still playing is superseded (or was barged in on)."""
        if self.playout.active:
            self.playout.stop("barge_in" if self.onset is not None else "superseded", now)
        self.onset = None
