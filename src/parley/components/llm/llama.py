"""llama-cpp-python chat model (GGUF, CPU).

Two measured rules on 2-core machines shape this file:
- weights are loaded with `use_mmap=False`: with mmapped weights idle pages are reclaimed and the next
  first token can take several seconds;
- the model is driven from one dedicated thread (the one that loaded it): calls from other threads
  decoded 25-35 % slower.
llama-cpp-python reuses the KV cache for the longest common token prefix of consecutive calls, so a
stable system prompt is prefilled once (`warm`) and later turns only pay for what is new. A prompt
whose head changes (history folded into a summary) is prefilled *aside* in idle time, a message at a
time, swapping KV states in and out (`prefill_aside`): the conversation's own cache stays ready for
the next reply meanwhile.
"""

from __future__ import annotations

import asyncio
import ctypes
import re
import weakref
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import numpy as np

from parley.cancel import CancelToken
from parley.clock import Clock
from parley.components.llm.base import Message, Reading
from parley.cpu import IDLE, LATER, NORMAL, URGENT, CpuGate, PriorityLane, at
from parley.errors import ModelUnavailableError

_TRAILING_PUNCT = re.compile(r"[\s.,!?;:…\-]+$")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")
MAX_SLOTS = 32  # KV states kept aside for sessions (~12-30 KB a token each)


class Yielded:
    """`LlamaEngine.generate` stopped at a sentence end to let another waiting call run."""

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens


class LlamaEngine:
    """A loaded GGUF model and the one thread that drives it; shared by the sessions of a process."""

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int = 2, gate: CpuGate | None = None) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.gate = gate or CpuGate()
        self.executor = PriorityLane("llm")  # sessions' calls by urgency (see `LlamaChatModel`)
        self._llm = None
        self._format = None  # the GGUF's chat template, as create_chat_completion renders it
        self.states = KvStates(self)  # one KV state per session
        self._ends: list[int] = []  # sentence-end token ids
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

    def close(self) -> None:
        """Free the weights and the KV cache (an engine replaced by a bigger window)."""
        def free() -> None:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

        try:
            self.executor.submit(free).result()
        except RuntimeError:  # at interpreter exit the worker threads are already gone
            free()
        self.executor.shutdown(wait=True)

    def generate(self, messages: list[Message], *, max_tokens: int, temperature: float, prefix: str = "",
                 owner: object | None = None, share: bool = False) -> Iterator[str | Yielded]:
        """Blocking token stream; run it on `self.executor`. `prefix`: the assistant's reply so far,
        to be continued. `share`: stop at a sentence end when another call is waiting for this
        engine (yielding `Yielded`), so that one session's long answer cannot hold the model while
        another caller waits for a first word; the caller continues it later with `prefix`."""
        self.ready()
        self.states.switch(owner)
        llm = self._llm
        fmt = self._formatter()
        prompt = llm.tokenize((fmt(messages=messages).prompt + prefix).encode(), add_bos=False, special=True)
        stream = llm.create_completion(
            prompt=prompt, stream=True, max_tokens=max_tokens, temperature=temperature, top_p=0.9,
            repeat_penalty=1.1, stop=[fmt.eos_token] if fmt.eos_token else None,
            seed=0,  # per request: the same prompt gets the same reply, whatever ran before it
        )
        tokens = 0
        try:
            for chunk in stream:
                self.gate.wait()
                tokens += 1
                delta = chunk["choices"][0]["text"]
                if delta:
                    yield delta
                    if share and self.executor.waiting(URGENT) and _SENTENCE_END.search(delta):
                        yield Yielded(tokens)
                        return
        finally:
            stream.close()

    def _formatter(self):
        """The GGUF's own chat template with the model's special tokens, as create_chat_completion
        renders it (replies go through create_completion on it, so that one can be continued)."""
        if self._format is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = self._llm
            piece = lambda t: llm.detokenize([t], special=True).decode("utf-8", errors="ignore") if t >= 0 else ""  # noqa: E731
            self._format = Jinja2ChatFormatter(llm.metadata["tokenizer.chat_template"], eos_token=piece(llm.token_eos()),
                                               bos_token=piece(llm.token_bos()))
            ends = [".", "?", "!", "...", "…", ".\n", "?\n", "!\n", "<|im_end|>"]
            self._ends = sorted({t[0] for e in ends if len(t := llm.tokenize(e.encode(), add_bos=False, special=True)) == 1})
        return self._format

    def _logits_from(self, tokens: list[int], first: int) -> np.ndarray:
        """Logits after each of `tokens[first - 1:]` (row k predicts `tokens[first + k]`, the last
        row the token after them all), evaluating only what the KV cache does not hold, and those
        positions again if it does (llama.cpp keeps logits only where a batch asked for them)."""
        llm = self._llm
        cached = llm.input_ids[: llm.n_tokens]
        first = max(1, first)
        n = 0
        while n < min(len(cached), first - 1) and cached[n] == tokens[n]:
            n += 1
        llm.n_tokens = n  # keep the common prefix; the rest of the cache is dropped
        llm._ctx.kv_cache_seq_rm(-1, n, -1)
        rows, vocab = [], llm.n_vocab()
        for i in range(n, len(tokens), llm.n_batch):
            chunk = tokens[i:i + llm.n_batch]
            llm._batch.set_batch(batch=chunk, n_past=i, logits_all=False)
            wanted = [j for j in range(len(chunk)) if i + j >= first - 1]
            for j in wanted:
                llm._batch.batch.logits[j] = True
            llm._ctx.decode(llm._batch)
            llm.input_ids[i:i + len(chunk)] = chunk
            llm.n_tokens = i + len(chunk)
            rows += [np.ctypeslib.as_array(llm._ctx.get_logits_ith(j), shape=(vocab,)).astype(np.float64)
                     for j in wanted]
        return np.stack(rows)

    def _next_logits(self, tokens: list[int]) -> np.ndarray:
        """Logits of the token after `tokens`, evaluating only what the KV cache does not hold."""
        return self._logits_from(tokens, len(tokens))[-1]

    def read(self, messages: list[Message], words: str, owner: object | None = None,
             plausibility: bool = True) -> Reading:
        """Blocking; run on `self.executor`. How the model reads the caller's `words`, the last
        message's content, from the logits of one prefill:
        - `p_final`: P(they are a finished utterance), the probability of a sentence end (".", "?",
          "!" or the end of the turn) right after them, their own final punctuation removed
          (Whisper's punctuation is no evidence): the end-of-utterance method of LiveKit's first
          turn detector, with the chat model itself;
        - `plausibility`: the mean log-probability of their tokens after the conversation so far.
          On a voice or line it hears badly Whisper writes fluent-looking nonsense with confidence
          ("We haven't moved, but the rest is donating"); the model finds such words improbable
          (`benchmarks/plausibility.py`).
        The words are evaluated into the KV cache the reply reuses: the reply's own prefill is
        what they cost, plus, with `plausibility`, the output layer at their positions (~0.15 s
        with the 1.5B model on two cores; without it `plausibility` is None)."""
        self.ready()
        self.states.switch(owner)
        llm = self._llm
        prompt = self._formatter()(messages=messages).prompt
        start = prompt.rindex(words)
        cut = start + len(_TRAILING_PUNCT.sub("", words))
        head = llm.tokenize(prompt[:start].encode(), add_bos=False, special=True)
        tokens = llm.tokenize(prompt[:cut].encode(), add_bos=False, special=True)
        first = 0
        while plausibility and first < min(len(head), len(tokens)) and head[first] == tokens[first]:
            first += 1
        logits = self._logits_from(tokens, first if plausibility else len(tokens))
        top = logits.max(axis=1, keepdims=True)
        logp = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        said = [logp[k, t] for k, t in enumerate(tokens[first:])] if plausibility else []
        p_final = float(np.exp(logp[-1, self._ends]).sum())
        return Reading(p_final, float(np.mean(said)) if said else None)

    def classify(self, messages: list[Message], options: tuple[str, ...], owner: object | None = None) -> list[float]:
        """Blocking; run on `self.executor`. The model's probabilities of answering `messages` with
        each of `options` (single words, e.g. ("yes", "no")), from the logits of its answer's first
        token, normalised over the options: one prefill, no decoding."""
        self.ready()
        self.states.switch(owner)
        llm = self._llm
        prompt = self._formatter()(messages=messages).prompt
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        logits = self._next_logits(tokens)
        scores = []
        for option in options:  # "yes", "Yes" and " yes" are the same answer
            ids = {t[0] for v in (option, option.capitalize(), " " + option, " " + option.capitalize())
                   if (t := llm.tokenize(v.encode(), add_bos=False, special=False))}
            scores.append(np.logaddexp.reduce(logits[sorted(ids)]))
        scores = np.array(scores)
        p = np.exp(scores - scores.max())
        return (p / p.sum()).tolist()

    def prefill(self, messages: list[Message], owner: object | None = None) -> None:
        """Blocking: bring `messages` into the KV cache (one token is decoded and discarded)."""
        for _ in self.generate(messages, max_tokens=1, temperature=0.0, owner=owner):
            pass

    def prefill_aside(self, messages: list[Message], cancel: CancelToken, on_live: Callable[[], None],
                      owner: object | None = None) -> bool:
        """Blocking; run on `self.executor`. Prefill `messages` a message at a time until `cancel`.
        Once all of it is cached it becomes the live state: `on_live` is called here, before any
        other call can run on this engine, and True returned. If cancelled, the progress is kept
        aside for the next call and the previous state restored, at the cost of one message's
        prefill plus a state copy for the reply that cancelled it."""
        self.ready()
        states = self.states
        states.switch(owner)
        live = states.snapshot()
        aside = states.asides.pop(owner if owner is not None else self, None)
        if aside is not None:
            states.restore(aside)
        for k in range(2, len(messages) + 1):
            if cancel.cancelled:
                states.asides[owner if owner is not None else self] = states.snapshot()
                states.restore(live)
                return False
            self.prefill(messages[:k])
        on_live()
        return True


class KvStates:
    """The KV caches of the sessions sharing one llama.cpp context: the live one, the others kept
    aside by owner, and prompts being prefilled aside (`LlamaEngine.prefill_aside`).

    Sequence 0 only: llama-cpp-python's own save_state also copies a 300 MB logits buffer and takes
    ~1.5 s; the KV cache alone is ~12-30 KB a token, copied in well under 0.1 s. Owners are held
    weakly: a session that ends takes its states with it."""

    def __init__(self, engine: LlamaEngine) -> None:
        self.engine = engine
        self._owner: Callable[[], object | None] = lambda: None  # whose state is live
        self._kept: "weakref.WeakKeyDictionary[object, tuple]" = weakref.WeakKeyDictionary()
        self.asides: "weakref.WeakKeyDictionary[object, tuple]" = weakref.WeakKeyDictionary()

    def switch(self, owner: object | None) -> None:
        """Make `owner`'s KV cache live, keeping the live one for its owner. Sessions take turns on
        one context; without this each would evict the others' history and re-prefill its own
        (seconds) at every turn. A new owner starts from whatever is live: its system prompt is most
        likely the same, and the common prefix is reused."""
        if owner is None or owner is self._owner():
            return
        previous = self._owner()
        if previous is not None:
            self._kept[previous] = self.snapshot()
            while len(self._kept) > MAX_SLOTS:
                self._kept.pop(next(iter(self._kept)))
        state = self._kept.pop(owner, None)
        if state is not None:
            self.restore(state)
        self._owner = weakref.ref(owner)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        import llama_cpp

        llm = self.engine._llm
        size = llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0)
        buf = np.empty(size, dtype=np.uint8)
        got = llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), size, 0)
        return buf[:got], llm.input_ids[: llm.n_tokens].copy()

    def restore(self, state: tuple[np.ndarray, np.ndarray]) -> None:
        import llama_cpp

        buf, ids = state
        llm = self.engine._llm
        ctx = llm._ctx.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, -1, -1)
        if llama_cpp.llama_state_seq_set_data(ctx, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), len(buf), 0) != len(buf):
            llm.reset()  # the cache is lost, not wrong: the next call prefills from scratch
            return
        llm.input_ids[: len(ids)] = ids
        llm.n_tokens = len(ids)


class LlamaChatModel:
    """One session's view of a shared `LlamaEngine`: its own KV state, and its replies interleaved
    with other sessions' at sentence ends."""

    def __init__(self, engine: LlamaEngine, clock: Clock, *, name: str = "llama",
                 max_tokens: int = 120, temperature: float = 0.2) -> None:
        self.engine = engine
        self.clock = clock
        self.name = name
        self.max_tokens = max_tokens
        self.temperature = temperature

    @property
    def contended(self) -> bool:
        """Another session's urgent call is waiting for the engine."""
        return self.engine.executor.waiting(URGENT) > 0

    def _call(self, fn: Callable, *args, priority: int) -> Callable[[], object]:
        """`fn(*args, owner=self)` for the engine's thread, at `priority`."""
        return at(priority, lambda: fn(*args, owner=self))

    async def _compute(self, fn: Callable, *args, priority: int = NORMAL):
        return await self.clock.compute(self.engine.executor, self._call(fn, *args, priority=priority))

    async def stream(self, messages: list[Message], *, cancel: CancelToken, background: bool = False,
                     prefix: str = "") -> AsyncIterator[str]:
        """The reply, in deltas. Its start is URGENT (a caller waits for the first word); when
        another URGENT call waits, the reply gives the model up at a sentence end and its
        continuation queues behind it (LATER). `background`: idle work (a summary), IDLE."""
        text, budget = prefix, self.max_tokens
        while budget > 0:
            priority = IDLE if background else URGENT if not text else LATER
            make = self._call(lambda owner: self.engine.generate(
                messages, max_tokens=budget, temperature=self.temperature, prefix=text, owner=owner,
                share=not background), priority=priority)
            paused = None
            async for delta in self.clock.stream(self.engine.executor, make, cancel):
                if isinstance(delta, Yielded):
                    paused = delta
                    continue
                text += delta
                yield delta
            if paused is None or cancel.cancelled:
                return
            budget -= paused.tokens

    async def warm(self, messages: list[Message]) -> None:
        await self._compute(self.engine.prefill, messages)

    async def read(self, messages: list[Message], words: str, plausibility: bool = True) -> Reading:
        """The caller's `words`, the last message's: P(finished utterance) and, with
        `plausibility`, how probable the model finds them; see `LlamaEngine.read`."""
        return await self._compute(lambda owner: self.engine.read(messages, words, owner, plausibility),
                                   priority=URGENT)

    async def classify(self, messages: list[Message], options: tuple[str, ...]) -> list[float]:
        """P(the answer to `messages` is each of `options`); see `LlamaEngine.classify`."""
        return await self._compute(self.engine.classify, messages, options)

    async def prefill_aside(self, messages: list[Message], cancel: CancelToken, on_live: Callable[[], None]) -> bool:
        loop = asyncio.get_running_loop()
        # on_live runs on the event loop before the next model call is even submitted: a prompt built
        # after the swap must already see the folded history (on a virtual clock too, where this
        # call's compute is charged later than it ran).
        return await self._compute(self.engine.prefill_aside, messages, cancel,
                                   lambda: loop.call_soon_threadsafe(on_live), priority=IDLE)
