"""A model call that never returns must not silence a session.

Model calls are blocking C code on their model's one worker thread (`cpu.PriorityLane`), and a
thread cannot be killed. So a call that has not answered in its time limit is given up on: the
caller gets `ComponentStalled` (the engine logs an `error`, says its pre-synthesized fallback line,
and the session goes on), and while the stalled call still holds the worker, later calls to the
same model fail at once instead of each waiting out its own limit behind it. If the stalled call
ever returns, the model works again.

The limit is wall time on either clock: a stall is a wall-time fault, and on a `VirtualClock` a
call that never returns would otherwise freeze simulated time for good.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

from parley.cpu import PriorityLane
from parley.errors import ParleyError

T = TypeVar("T")


class ComponentStalled(ParleyError):
    """A model call did not return within its time limit."""


async def answered(call: Awaitable[T], lane: PriorityLane, timeout_s: float, what: str,
                   setting: str | None = None) -> T:
    """`await call` (a clock's `compute` on `lane`), or raise `ComponentStalled` after `timeout_s`.
    `what` names the model for people ("speech recogniser"), `setting` the option that sets the limit."""
    if lane.stuck:
        if asyncio.iscoroutine(call):
            call.close()  # never started: nothing to cancel
        raise _stalled(what, lane.busy_s(), setting)
    try:
        return await asyncio.wait_for(call, timeout_s)
    except TimeoutError:
        lane.give_up()
        raise _stalled(what, timeout_s, setting) from None


def _stalled(what: str, seconds: float, setting: str | None) -> ComponentStalled:
    raise_it = f", or raise {setting} if its calls are legitimately this slow" if setting else ""
    return ComponentStalled(f"The {what} has not answered in {seconds:.1f} s; check what else is using this "
                            f"machine's cores{raise_it}.")
