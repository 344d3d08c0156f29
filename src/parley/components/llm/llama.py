"""llama-cpp-python chat model (GGUF, CPU).

Two measured rules on 2-core machines shape this file:
- weights are loaded with `use_mmap=False`: with mmapped weights idle pages are reclaimed and the next
  first token can take several seconds;
- the model is driven from one dedicated thread (the one that loaded it): calls from other threads
  decoded 25-35 % slower.
llama-cpp-python reuses the KV cache for the longest common token prefix of consecutive calls, so a
stable system prompt is prefilled once (`warm`) and later turns only pay for what is new.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Iterator

from parley.cancel import CancelToken
from parley.clock import Clock
from parley.components.llm.base import Message
from parley.cpu import CpuGate
from parley.errors import ModelUnavailableError


class LlamaEngine:
    """A loaded GGUF model and the one thread that drives it; shared by the sessions of a process."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int = 2, gate: CpuGate | None = None) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.gate = gate or CpuGate()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")
        self._llm = None
        self._loading = self.executor.submit(self._load)  # load on the thread that will decode

    def _load(self) -> None:
        try:
            from llama_cpp import Llama
        except ModuleNotFoundError:
            raise ModelUnavailableError(
                "llama-cpp-python is not installed; run `make install` (it compiles once, ~4 min)."
            ) from None
        self._llm = Llama(
            model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
            n_threads_batch=self.n_threads, use_mmap=False, verbose=False, seed=0,
        )

    def ready(self) -> None:
        self._loading.result()

    def generate(self, messages: list[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        """Blocking token stream; run it on `self.executor`."""
        self.ready()
        stream = self._llm.create_chat_completion(
            messages=messages, stream=True, max_tokens=max_tokens, temperature=temperature,
            top_p=0.9, repeat_penalty=1.1,
            seed=0,  # per request: the same prompt gets the same reply, whatever ran before it
        )
        try:
            for chunk in stream:
                self.gate.wait()
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    yield delta
        finally:
            stream.close()


class LlamaChatModel:
    def __init__(self, engine: LlamaEngine, clock: Clock, *, name: str = "llama",
                 max_tokens: int = 120, temperature: float = 0.2) -> None:
        self.engine = engine
        self.clock = clock
        self.name = name
        self.max_tokens = max_tokens
        self.temperature = temperature

    def stream(self, messages: list[Message], *, cancel: CancelToken) -> AsyncIterator[str]:
        gen = lambda: self.engine.generate(messages, max_tokens=self.max_tokens, temperature=self.temperature)  # noqa: E731
        return self.clock.stream(self.engine.executor, gen, cancel)

    async def warm(self, messages: list[Message]) -> None:
        def run() -> None:
            for _ in self.engine.generate(messages, max_tokens=1, temperature=0.0):
                pass

        await self.clock.compute(self.engine.executor, run)
