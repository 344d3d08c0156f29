"""The `realtime` architecture: a client of an OpenAI-Realtime-style speech-to-speech endpoint
(OpenAI's gpt-realtime, vLLM-Omni serving Qwen-Omni, another parley's `parley serve`).

`realtime.turns` says who takes turns: `endpoint` — the endpoint's own turn detection
(`client.RealtimeAgent`); `parley` — parley's duplex engine, the endpoint answering each turn it
commits (`responder.RealtimeResponder`). Either way the scenario's persona, procedure and documents
are the session's instructions, and the conversation's history holds what the caller heard.
"""

from __future__ import annotations

import os
from pathlib import Path

from parley.clock import VirtualClock
from parley.errors import ParleyError

URL_ENV, MODEL_ENV, KEY_ENV = "PARLEY_REALTIME_URL", "PARLEY_REALTIME_MODEL", "OPENAI_API_KEY"


def agent(cfg, clock, log, **_components):
    """The realtime agent for `cfg.realtime` (the embedded components a bench offers are not used)."""
    from parley.architectures.realtime.socket import RealtimeSocket
    from parley.dialogue.conversation import Conversation
    from parley.dialogue.knowledge import read_document

    if isinstance(clock, VirtualClock):
        raise ParleyError("the realtime architecture talks to a remote model in real time: run it on the real "
                          "clock (parley bench does so for it).")
    documents = [read_document(Path(p)) for p in cfg.knowledge.documents]
    conversation = Conversation(cfg, documents, log)
    socket = RealtimeSocket(cfg.realtime, cfg.realtime.api_key or os.environ.get(KEY_ENV))
    if cfg.realtime.turns == "parley":
        from parley.architectures.realtime.responder import RealtimeEngineAgent

        return RealtimeEngineAgent(cfg, clock, log, conversation, socket)
    from parley.architectures.realtime.client import RealtimeAgent

    return RealtimeAgent(cfg, clock, log, conversation, socket)
