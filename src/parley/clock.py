"""Session time, injected everywhere.

Everything that needs "now", a wait, or a blocking model call goes through a `Clock`, so the same
code runs against wall time (`RealClock`: honest latency) or simulated time (`VirtualClock`: fast and
reproducible). Model calls are blocking C code; `compute` and `stream` run them on a worker thread.

On a `VirtualClock` simulated time is frozen while any model call runs, and the call's result is
delivered at `start + measured wall time` — so a virtual run still pays, in simulated seconds, for
the compute it measured. Calls that overlap are charged as if they ran in parallel: virtual runs
model latency on an unloaded machine per call, not core contention (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from concurrent.futures import Executor
from typing import Any, AsyncIterator, Callable, Iterator, Protocol, TypeVar

from parley.cancel import CancelToken

T = TypeVar("T")

_DONE = object()


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the session started."""

    async def sleep_until(self, t: float) -> None: ...

    async def sleep(self, dt: float) -> None: ...

    async def compute(self, executor: Executor, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on `executor` and return its result at the time it is ready."""

    def stream(
        self, executor: Executor, make_iter: Callable[[], Iterator[T]], cancel: CancelToken
    ) -> AsyncIterator[T]:
        """Iterate a blocking generator on `executor`; items arrive when each was produced."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def _drain_thread_iterator(
    executor: Executor,
    make_iter: Callable[[], Iterator[T]],
    cancel: CancelToken,
    on_item: Callable[[T, float], None],
) -> None:
    """Run `make_iter()` to exhaustion on `executor`, handing each item and its wall offset to `on_item`
    on the event loop. Stops early when `cancel` is set. Exceptions are re-raised here."""
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()

    def work() -> None:
        it = make_iter()
        try:
            for item in it:
                if cancel.cancelled:
                    break
                dt = time.perf_counter() - t0
                loop.call_soon_threadsafe(on_item, item, dt)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    if hasattr(make_iter, "priority"):  # its place in a `cpu.PriorityLane`
        work.priority = make_iter.priority
    await loop.run_in_executor(executor, work)


class RealClock:
    """Wall time from a monotonic clock; t = 0 at construction."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0

    async def sleep_until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)

    async def sleep(self, dt: float) -> None:
        await self.sleep_until(self.now() + dt)

    async def compute(self, executor: Executor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)

    async def stream(
        self, executor: Executor, make_iter: Callable[[], Iterator[T]], cancel: CancelToken
    ) -> AsyncIterator[T]:
        queue: asyncio.Queue = asyncio.Queue()
        task = asyncio.ensure_future(
            _drain_thread_iterator(executor, make_iter, cancel, lambda item, _dt: queue.put_nowait(item))
        )
        task.add_done_callback(lambda _t: queue.put_nowait(_DONE))
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if cancel.cancelled:
                    continue  # drain until the worker notices
                yield item
            task.result()  # surface worker exceptions
        finally:
            cancel_pending = not task.done()
            if cancel_pending:
                cancel.cancel("consumer stopped")
                await asyncio.shield(task)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class VirtualClock:
    """Simulated time that advances only when every task is waiting on it.

    A driver task pops the earliest timer once the event loop has nothing ready and no model call is
    in flight. Deterministic for a given sequence of measured compute times.
    """

    def __init__(self) -> None:
        self._now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._inflight = 0
        self._lock = threading.Lock()
        self._idle: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._driver: asyncio.Task | None = None

    def now(self) -> float:
        return self._now

    async def sleep_until(self, t: float) -> None:
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (t, next(self._seq), fut))
        if self._wake is not None:
            self._wake.set()
        await fut

    async def sleep(self, dt: float) -> None:
        await self.sleep_until(self._now + dt)

    def _begin(self) -> float:
        self._inflight += 1
        if self._idle is not None:
            self._idle.clear()
        return self._now

    def _end(self) -> None:
        self._inflight -= 1
        if self._inflight == 0 and self._idle is not None:
            self._idle.set()

    async def compute(self, executor: Executor, fn: Callable[..., T], *args: Any) -> T:
        t_start = self._begin()
        try:
            w0 = time.perf_counter()
            result = await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
            elapsed = time.perf_counter() - w0
        finally:
            self._end()
        await self.sleep_until(t_start + elapsed)
        return result

    async def stream(
        self, executor: Executor, make_iter: Callable[[], Iterator[T]], cancel: CancelToken
    ) -> AsyncIterator[T]:
        items: list[tuple[T, float]] = []
        t_start = self._begin()
        try:
            await _drain_thread_iterator(executor, make_iter, cancel, lambda item, dt: items.append((item, dt)))
        finally:
            self._end()
        for item, dt in items:
            await self.sleep_until(t_start + dt)
            if cancel.cancelled:
                return
            yield item

    async def start(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()
        self._wake = asyncio.Event()
        self._driver = asyncio.ensure_future(self._drive())

    async def stop(self) -> None:
        if self._driver is not None:
            self._driver.cancel()
            try:
                await self._driver
            except asyncio.CancelledError:
                pass
            self._driver = None

    async def _settle(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._inflight:
                await self._idle.wait()
                continue
            for _ in range(4):
                await asyncio.sleep(0)
            ready = getattr(loop, "_ready", ())  # CPython: callbacks waiting to run this iteration
            if self._inflight == 0 and len(ready) == 0:
                return

    async def _drive(self) -> None:
        while True:
            await self._settle()
            while self._timers and self._timers[0][2].done():
                heapq.heappop(self._timers)  # cancelled sleepers
            if not self._timers:
                self._wake.clear()
                await self._wake.wait()
                continue
            t, _, fut = heapq.heappop(self._timers)
            self._now = max(self._now, t)
            if not fut.done():
                fut.set_result(None)
