"""The architectures parley can run, by name: how each is configured and built.

Every entry point — `demo`, `talk`, `duplex-check`, `bench`, the benchmarks — asks this registry
for an agent instead of constructing one by class, so a new architecture (the hybrid, a remote
audio-native model, a Realtime endpoint) is one entry here. `cascade-openai` is not a class of its
own: it is the cascade configured with an OpenAI-compatible LLM endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from parley.architectures.base import DuplexAgent
from parley.config import AgentConfig
from parley.errors import ParleyError, describe

LLM_URL_ENV = "PARLEY_LLM_URL"

Configure = Callable[[AgentConfig], "tuple[AgentConfig | None, str | None]"]


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    configure: Configure  # base config → (config, None), or (None, why it cannot run here)
    agent_class: str | None = None  # "module:Class" (or factory) of its DuplexAgent; None: not in this version
    remote: bool = False  # a model behind a socket: runs on the real clock (its latency is real network/GPU time)


def _as_is(base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    return base, None


def _openai_endpoint(base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    url = base.llm.url if base.llm.backend == "openai" else os.environ.get(LLM_URL_ENV)
    if not url:
        return None, f"no OpenAI-compatible endpoint configured: set {LLM_URL_ENV}, or url under [llm] in --config"
    reason = _probe_endpoint(url)
    if reason:
        return None, reason
    cfg = base.model_copy(deep=True)
    cfg.llm.backend, cfg.llm.url = "openai", url
    if cfg.llm.model in ("quality", "fast"):
        cfg.llm.model = os.environ.get("PARLEY_LLM_MODEL", "default")
    return cfg, None


def _probe_endpoint(url: str) -> str | None:
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/models", timeout=3.0)
    except httpx.HTTPError as exc:
        return f"endpoint {url} is unreachable ({exc.__class__.__name__})"
    return None


def _realtime_endpoint(base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    from parley.architectures.realtime import MODEL_ENV, URL_ENV

    cfg = base.model_copy(deep=True)
    cfg.realtime.url = base.realtime.url or os.environ.get(URL_ENV)
    if os.environ.get(MODEL_ENV) and "model" not in base.realtime.model_fields_set:
        cfg.realtime.model = os.environ[MODEL_ENV]
    if not cfg.realtime.url:
        return None, f"no realtime endpoint configured: pass --realtime-url, set {URL_ENV}, or url under [realtime]"
    reason = _probe_socket(cfg.realtime.url)
    return (None, reason) if reason else (cfg, None)


def _moshi_server(base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    from parley.architectures.moshi import URL_ENV

    cfg = base.model_copy(deep=True)
    cfg.moshi.url = base.moshi.url or os.environ.get(URL_ENV)
    if not cfg.moshi.url:
        return None, f"no moshi server configured: pass --moshi-url, set {URL_ENV}, or url under [moshi]"
    reason = _probe_socket(cfg.moshi.url)
    return (None, reason) if reason else (cfg, None)


def _personaplex_server(base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    if not base.moshi.voice_prompt:  # the server joins it to its voice folder and fails on the folder itself
        return None, ("personaplex needs a voice prompt: set voice_prompt under [moshi] to one of the server's "
                      "voice files (e.g. NATF2.pt)")
    return _moshi_server(base)


def _probe_socket(url: str) -> str | None:
    """None if something listens at `url`'s host and port, else why not (one short sentence)."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(url)
    if u.scheme not in ("ws", "wss", "http", "https") or not u.hostname:
        return f"{url!r} is not a ws:// or wss:// URL"
    try:
        port = u.port or (443 if u.scheme in ("wss", "https") else 80)
        with socket.create_connection((u.hostname, port), timeout=3.0):
            return None
    except (OSError, ValueError) as exc:
        return f"endpoint {url} is unreachable ({describe(exc)})"


_CASCADE = "parley.architectures.cascade:CascadeAgent"
REGISTRY: dict[str, Architecture] = {a.name: a for a in (
    Architecture("cascade", "ASR → LLM → TTS on the embedded models, with parley's turn-taking", _as_is, _CASCADE),
    Architecture("cascade-openai", "the cascade with an OpenAI-compatible LLM endpoint", _openai_endpoint, _CASCADE),
    Architecture("hybrid", "Thinker-Talker: the talker holds the floor at once while the thinker answers",
                 _as_is, "parley.architectures.hybrid:HybridAgent"),
    Architecture("moshi", "an audio-native full-duplex model (a Moshi server)", _moshi_server,
                 "parley.architectures.moshi:moshi", remote=True),
    Architecture("personaplex", "an audio-native full-duplex model with a text and a voice prompt (a PersonaPlex "
                 "server)", _personaplex_server, "parley.architectures.moshi:personaplex", remote=True),
    Architecture("realtime", "an OpenAI-Realtime-style speech-to-speech endpoint (OpenAI, vLLM-Omni, parley serve)",
                 _realtime_endpoint, "parley.architectures.realtime:agent", remote=True),
)}
ARCHITECTURES = tuple(REGISTRY)


def architecture(name: str) -> Architecture:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ParleyError(f"unknown architecture {name!r}: use one of {', '.join(ARCHITECTURES)}.") from None


def configure(name: str, base: AgentConfig) -> tuple[AgentConfig | None, str | None]:
    """(config, None) for an architecture that can run here, or (None, why it is skipped)."""
    return architecture(name).configure(base)


def build(name: str, cfg: AgentConfig, clock, log, **kwargs) -> DuplexAgent:
    """A new agent of architecture `name` on `clock`, writing to `log`."""
    arch = architecture(name)
    if arch.agent_class is None:
        raise ParleyError(f"the {name} architecture is not available in this version of parley.")
    from importlib import import_module

    module, _, cls = arch.agent_class.partition(":")
    return getattr(import_module(module), cls)(cfg, clock, log, **kwargs)


def clock_for(name: str, asked: str) -> str:
    """The clock ("virtual" or "real") architecture `name` runs on when `asked` is wanted: a remote
    model's latency is network and GPU time, which a virtual clock cannot charge."""
    return "real" if architecture(name).remote else asked
