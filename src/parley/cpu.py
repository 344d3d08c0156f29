"""Sharing two CPU cores between models.

ASR, LLM and TTS all want both cores; running them at once makes each slower than running them in
turn (two CPU-bound processes get ~1.15× one core's throughput here). The LLM decodes far faster
than speech plays, so it yields the cores whenever TTS synthesizes: the `CpuGate` is closed while a
clause is synthesized and the LLM's token loop waits on it.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Callable, Iterator

URGENT, NORMAL, LATER, IDLE = 0, 1, 2, 3  # priorities on a `PriorityLane` (lower runs first)


class CpuGate:
    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._holders = 0
        self._lock = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Close the gate for the duration (re-entrant across threads)."""
        with self._lock:
            self._holders += 1
            self._open.clear()
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._open.set()

    def wait(self, timeout: float = 5.0) -> None:
        """Block a background worker until no one holds the gate (bounded, so nothing deadlocks)."""
        self._open.wait(timeout)


def ort_options(threads: int):
    """onnxruntime session options for parley's models: `threads` intra-op threads that sleep when
    idle instead of spinning (a spinning pool steals the other models' and other programs' cores)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return opts


def at(priority: int, fn: Callable) -> Callable:
    """`fn`, to be run at `priority` on a `PriorityLane`."""
    def run(*args, **kwargs):
        return fn(*args, **kwargs)
    run.priority = priority
    return run


class PriorityLane(Executor):
    """One worker thread that runs queued calls by priority, then in arrival order.

    A shared model's calls are not equally urgent: a caller waiting for the first word of a reply
    (URGENT) should not queue behind another session's continuation (LATER) or a rolling summary
    written in idle time (IDLE). The priority is read from the submitted callable's `priority`
    attribute (NORMAL if absent), so `loop.run_in_executor` and the clocks work unchanged.
    """

    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        self._running_since: float | None = None  # monotonic start of the call on the worker now
        self._given_up: float | None = None  # `_running_since` of a call a caller stopped waiting for
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        if self._closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future = Future()
        self._queue.put((getattr(fn, "priority", NORMAL), next(self._order), future, fn, args, kwargs))
        return future

    def waiting(self, priority: int) -> int:
        """Calls queued (not yet running) at `priority` or more urgent."""
        with self._queue.mutex:
            return sum(1 for item in self._queue.queue if item[0] <= priority)

    def busy_s(self) -> float:
        """How long the call on the worker has been running (0 when idle)."""
        since = self._running_since
        return 0.0 if since is None else time.monotonic() - since

    def give_up(self) -> None:
        """A caller timed out waiting: the call on the worker now is taken to be stuck."""
        self._given_up = self._running_since

    @property
    def stuck(self) -> bool:
        """The worker is still in a call somebody gave up on (`components.watchdog`)."""
        since = self._running_since
        return since is not None and since == self._given_up

    def _work(self) -> None:
        while True:
            _prio, _n, future, fn, args, kwargs = self._queue.get()
            if future is None:
                return
            if not future.set_running_or_notify_cancel():
                del future, fn, args, kwargs
                continue
            self._running_since = time.monotonic()
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever awaits the call
                future.set_exception(exc)
            finally:
                self._running_since = None
                # not kept while waiting for the next call: the last call's model and arguments
                # (a session's audio, its chat model and KV state) would stay alive with the lane
                del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put((float("inf"), next(self._order), None, None, (), {}))
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()
