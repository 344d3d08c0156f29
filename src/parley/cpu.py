"""Sharing two CPU cores between models.

ASR, LLM and TTS all want both cores; running them at once makes each slower than running them in
turn (two CPU-bound processes get ~1.15× one core's throughput here). The LLM decodes far faster
than speech plays, so it yields the cores whenever TTS synthesizes: the `CpuGate` is closed while a
clause is synthesized and the LLM's token loop waits on it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


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
