"""Loading models lazily, once per process.

Heavy engines (Whisper, Piper, llama.cpp) are cached here and shared by every session of a process;
per-session state (the VAD's recurrent state, the clock) lives in the session's own objects.
"""

from __future__ import annotations

import atexit
import os
import weakref
from functools import lru_cache
from pathlib import Path

from parley.clock import Clock
from parley.config import LLMConfig
from parley.cpu import CpuGate, PriorityLane
from parley.errors import ModelUnavailableError


_USED: "weakref.WeakSet[object]" = weakref.WeakSet()


def first_use(model: object) -> bool:
    """True the first time it is asked for `model` in this process: warm-ups (a first inference that
    loads kernels and caches) run once per model, not once per session."""
    if model in _USED:
        return False
    _USED.add(model)
    return True


_LANES: "weakref.WeakKeyDictionary[object, PriorityLane]" = weakref.WeakKeyDictionary()


def lane(model: object) -> PriorityLane:
    """The one worker thread that runs `model` in this process. Every session's calls to a shared
    model queue on it, most urgent first (`cpu.at`), instead of running side by side: two onnxruntime
    or CTranslate2 calls at once on two cores each run slower than one after the other."""
    executor = _LANES.get(model)
    if executor is None:
        executor = _LANES[model] = PriorityLane(type(model).__name__)
        weakref.finalize(model, executor.shutdown, wait=False)
    return executor


@lru_cache(maxsize=1)
def cpu_gate() -> CpuGate:
    return CpuGate()


@lru_cache(maxsize=2)
def whisper(window_s: int = 10, threads: int = 2, second_below: float | None = None):
    """Whisper tiny.en; with `second_below`, Whisper base as the second opinion on finals less sure than that."""
    from parley.components.asr.whisper import WhisperASR

    if second_below is None:
        return WhisperASR(window_s=window_s, cpu_threads=threads)
    from parley.components.weights import ensure_weights

    base = str(ensure_weights("whisper-base", quiet=True).parent)
    second = WhisperASR(window_s=window_s, cpu_threads=threads, model_dir=base)
    return WhisperASR(window_s=window_s, cpu_threads=threads, second=second, second_below=second_below)


@lru_cache(maxsize=4)
def piper(length_scale: float = 1.0, pitch: float = 1.0, deterministic: bool = False, threads: int = 2,
          aligned: bool = False):
    from parley.components.tts.piper import PiperTTS

    return PiperTTS(length_scale=length_scale, pitch=pitch, deterministic=deterministic, threads=threads,
                    aligned=aligned)


@lru_cache(maxsize=1)
def smart_turn():
    from parley.components.turn.smart_turn import SmartTurn

    return SmartTurn()


@lru_cache(maxsize=1)
def embedder():
    from parley.components.embed.minilm import MiniLMEmbedder

    return MiniLMEmbedder()


def vad():
    from parley.components.vad.silero import SileroVAD

    return SileroVAD()


def resolve_gguf(model: str) -> Path:
    from parley.components.weights import MODELS, ensure_weights

    if model in MODELS and MODELS[model].filename.endswith(".gguf"):
        return ensure_weights(model)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelUnavailableError(
            f"LLM {model!r} is neither 'quality', 'fast' nor an existing GGUF file; pick one of those."
        )
    return path


MIN_CTX = 8192
_ENGINES: dict[tuple[str, int], object] = {}


@atexit.register
def _close_engines() -> None:
    """Free the weights while llama_cpp is still whole (its own finalizer fails at interpreter teardown)."""
    for engine in _ENGINES.values():
        engine.close()
    _ENGINES.clear()


def llama_engine(model: str, n_ctx: int, threads: int):
    """One engine per model and thread count, with the largest window any session asked for (at
    least MIN_CTX). A session with a smaller `llm.n_ctx` keeps to it through its history budget, so
    scenarios with different windows share one copy of the weights: each copy of the 1.5B model is
    ~1.1 GB of RAM, and a bench worker that kept one per window grew to 6.6 GB."""
    from parley.components.llm.llama import LlamaEngine

    engine = _ENGINES.get((model, threads))
    if engine is None or engine.n_ctx < n_ctx:
        if engine is not None:
            engine.close()
        engine = LlamaEngine(resolve_gguf(model), n_ctx=max(n_ctx, MIN_CTX), n_threads=threads, gate=cpu_gate())
        _ENGINES[(model, threads)] = engine
    return engine


def chat_model(cfg: LLMConfig, clock: Clock):
    if cfg.backend == "openai":
        from parley.components.llm.openai_http import OpenAIChatModel

        if not cfg.url:
            raise ModelUnavailableError("The openai LLM backend needs a URL; pass --llm-url http://HOST:PORT/v1.")
        model = OpenAIChatModel(
            cfg.url, cfg.model, clock, api_key=cfg.api_key or os.environ.get("OPENAI_API_KEY"),
            max_tokens=cfg.max_tokens, temperature=cfg.temperature, allow_plain_http=cfg.allow_plain_http, timeout_s=cfg.timeout_s,
        )
        model.check()
        return model
    from parley.components.llm.llama import LlamaChatModel

    engine = llama_engine(cfg.model, cfg.n_ctx, cfg.threads)
    return LlamaChatModel(engine, clock, name=cfg.model, max_tokens=cfg.max_tokens, temperature=cfg.temperature)
