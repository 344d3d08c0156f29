"""The reply prepared before the end of turn is confirmed.

At the user's first pause the engine starts a reply at once (ASR → responder) so that the end-of-turn
wait hides its preparation. At most one is in preparation; it is dropped when speech resumes, a
client takes the turn or a backchannel proves the overlap was nothing, and handed to the playout
when the turn is taken. Turns are numbered here, one number per reply started.
"""

from __future__ import annotations

import asyncio

from parley.duplex.playout import Reply
from parley.events import EventLog, SpeculationCancelled, SpeculationStarted


class Speculation:
    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.reply: Reply | None = None  # being prepared, not yet handed to playout
        self.turns = 0

    def begin(self, wants_reading: bool, judged: bool = False) -> Reply:
        """A new reply (any earlier one must have been dropped or taken). Without `wants_reading`
        nobody wants the chat model's reading of the words, so it resolves at once; with `judged` the end-of-turn
        model will report when it has heard the pause (`Reply.judged`)."""
        self.turns += 1
        loop = asyncio.get_running_loop()
        reply = Reply(turn=self.turns, transcript=loop.create_future(), reading=loop.create_future(),
                      judged=loop.create_future() if judged else None)
        if not wants_reading:
            reply.reading.set_result(None)
        self.reply = reply
        self.log.emit(SpeculationStarted, turn=reply.turn)
        return reply

    def drop(self, reason: str) -> bool:
        """Cancel the reply being prepared, if any (True if there was one)."""
        reply, self.reply = self.reply, None
        if reply is not None:
            reply.cancel.cancel(reason)
            self.log.emit(SpeculationCancelled, turn=reply.turn, reason=reason)
        return reply is not None

    def take(self) -> Reply:
        """The end of turn is confirmed: the reply may be played."""
        reply, self.reply = self.reply, None
        reply.committed = True
        return reply
