"""The `realtime` architecture: parley as a client of an OpenAI-Realtime-style endpoint.

The endpoint is a real one — `parley serve` on the embedded models, in this process — and every
message the client sends is validated strictly against the official `openai` SDK's
`RealtimeClientEvent` types. Conversations run on the real clock, over the simulated loopback line.
"""

from __future__ import annotations

import asyncio
import json
import socket as _socket

import numpy as np
import pytest
from pydantic import TypeAdapter

from parley.architectures import registry
from parley.architectures.realtime.client import heard_part
from parley.architectures.realtime.socket import RealtimeSocket
from parley.clock import RealClock, VirtualClock
from parley.config import AgentConfig
from parley.errors import ParleyError
from parley.events import (
    AgentAudioStarted, AgentAudioStopped, AgentTurn, AsrFinal, ComponentError, LlmDone, TurnEndPredicted,
    UserSpeechStarted, read_events,
)
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

openai = pytest.importorskip("openai")
from openai.types.realtime import RealtimeClientEvent  # noqa: E402

from test_serve import running, session_events  # noqa: E402  (the in-process server fixture)

CLIENT_EVENT = TypeAdapter(RealtimeClientEvent)


@pytest.fixture()
def sent(monkeypatch):
    """Every client event the realtime architecture sends, as JSON on the wire."""
    out: list[dict] = []
    original = RealtimeSocket.send

    def record(self, type_, **fields):
        out.append(json.loads(json.dumps({"type": type_, **fields})))
        original(self, type_, **fields)

    monkeypatch.setattr(RealtimeSocket, "send", record)
    real_open = RealtimeSocket.open

    async def open_(self, update):
        out.append(update)
        return await real_open(self, update)

    monkeypatch.setattr(RealtimeSocket, "open", open_)
    return out


def _through_serve(fast_cfg, tmp_path, lines, out_dir=None, **realtime):
    """A conversation of `lines` through the realtime architecture to `parley serve` (in this process)."""
    async def call():
        async with running(fast_cfg, tmp_path) as server:
            return await run_conversation(_client_cfg(server, **realtime), lines, clock=RealClock(), arch="realtime",
                                          out_dir=out_dir, reply_timeout_s=20.0, tail_s=1.0)

    return asyncio.run(call())


def _client_cfg(server, **realtime) -> AgentConfig:
    cfg = AgentConfig()
    cfg.persona = "You are a shop assistant for Northwind. Answer every question at length, in four or five sentences."
    cfg.realtime.url = f"ws://127.0.0.1:{server.port}/v1/realtime"
    cfg.realtime.model = "parley"
    for k, v in realtime.items():
        setattr(cfg.realtime, k, v)
    return cfg


@pytest.mark.slow
def test_a_call_through_an_endpoint_that_takes_its_own_turns_with_a_barge_in(fast_cfg, user_speech, tmp_path, sent):
    lines = [UserLine("q", user_speech("Can you explain your whole return policy to me?")),
             UserLine("stop", user_speech("Sorry, stop there. How many days do I have?"), after_agent_starts_s=1.5)]

    result = _through_serve(fast_cfg, tmp_path, lines, out_dir=tmp_path / "client")
    for event in sent:
        CLIENT_EVENT.validate_python(event)
    assert sent[0]["session"]["instructions"].startswith("You are a shop assistant for Northwind")
    log = result.log
    assert not log.of(ComponentError), log.of(ComponentError)
    assert len(log.of(UserSpeechStarted)) >= 2
    assert "return policy" in log.of(AsrFinal)[0].text.lower()
    first, second = log.of(AgentTurn)[:2]
    assert first.interrupted and first.agent and not second.interrupted and second.agent
    # the client truncated the endpoint's item at the audio it played before the caller cut in
    (truncate,) = [e for e in sent if e["type"] == "conversation.item.truncate"]
    start = next(e.t for e in log.of(AgentAudioStarted) if e.turn == first.turn)
    stop = next(e for e in log.of(AgentAudioStopped) if e.turn == first.turn)
    # (the audio played, not the time it took: the endpoint may have paused between its clauses)
    assert stop.reason == "barge_in" and 300 < truncate["audio_end_ms"] <= (stop.t - start) * 1000 + 50
    # and the endpoint's history holds what was played, not what it wrote
    server_log = session_events(tmp_path)
    written = next(e for e in server_log if isinstance(e, LlmDone) and e.turn == 1).text
    heard = next(e for e in server_log if isinstance(e, AgentTurn))
    assert heard.interrupted and len(heard.agent) < len(written)
    # the artefacts of any parley session
    assert {p.name for p in (tmp_path / "client").iterdir()} >= {"events.jsonl", "conversation.wav", "transcript.md"}
    assert read_events(tmp_path / "client" / "events.jsonl")[0].kind == "session_started"


@pytest.mark.slow
def test_parleys_engine_takes_the_turns_and_the_endpoint_answers_them(fast_cfg, user_speech, tmp_path, sent):
    lines = [UserLine("q", user_speech("Hi, my order number is four seven one nine two."))]

    result = _through_serve(fast_cfg, tmp_path, lines, turns="parley")
    for event in sent:
        CLIENT_EVENT.validate_python(event)
    assert sent[0]["session"]["audio"]["input"]["turn_detection"] is None
    kinds = [e["type"] for e in sent]
    assert kinds.index("input_audio_buffer.clear") < kinds.index("input_audio_buffer.append") \
        < kinds.index("input_audio_buffer.commit") < kinds.index("response.create")
    log = result.log
    assert log.of(TurnEndPredicted)  # parley's engine decided the turn
    (turn,) = log.of(AgentTurn)
    assert "47192" in turn.user.replace(" ", "").replace(",", "") and turn.agent and not turn.interrupted
    server_turn = next(e for e in session_events(tmp_path) if isinstance(e, AgentTurn))
    assert server_turn.agent.strip() == turn.agent.strip()  # what the caller heard is what the endpoint keeps


def test_a_missing_or_unreachable_endpoint_is_skipped_with_the_reason(monkeypatch):
    monkeypatch.delenv("PARLEY_REALTIME_URL", raising=False)
    cfg, why = registry.configure("realtime", AgentConfig())
    assert cfg is None and "--realtime-url" in why and "PARLEY_REALTIME_URL" in why
    with _socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    monkeypatch.setenv("PARLEY_REALTIME_URL", f"ws://127.0.0.1:{port}/v1/realtime")
    monkeypatch.setenv("PARLEY_REALTIME_MODEL", "qwen3-omni")
    cfg, why = registry.configure("realtime", AgentConfig())
    assert cfg is None and "unreachable" in why
    monkeypatch.setattr(registry, "_probe_socket", lambda url: None)
    cfg, why = registry.configure("realtime", AgentConfig())
    assert why is None and cfg.realtime.model == "qwen3-omni" and str(port) in cfg.realtime.url
    assert registry.architecture("realtime").remote


def test_the_realtime_client_refuses_a_virtual_clock_and_a_key_over_plain_ws():
    cfg = AgentConfig()
    cfg.realtime.url = "ws://127.0.0.1:9/v1/realtime"
    with pytest.raises(ParleyError, match="real clock"):
        registry.build("realtime", cfg, VirtualClock(), None)
    cfg.realtime.url, cfg.realtime.api_key = "ws://example.com/v1/realtime", "sk-secret"
    with pytest.raises(ParleyError, match="plain ws://"):
        registry.build("realtime", cfg, RealClock(), None)
    cfg.realtime.url = "http://example.com/v1/realtime"
    with pytest.raises(ParleyError, match="not a ws:// or wss:// URL"):
        registry.build("realtime", cfg, RealClock(), None)


def test_a_truncated_reply_is_heard_in_proportion_to_the_audio_played():
    text = "one two three four five six seven eight nine ten"
    assert heard_part(text, 0, 100) == ""
    assert heard_part(text, 50, 100) == "one two three four five"
    assert heard_part(text, 100, 100) == text
    assert heard_part(text, 10, 0) == text  # nothing received: nothing to scale by
    assert np.isclose(len(heard_part(text, 33, 100).split()), 3)


@pytest.mark.slow
def test_a_speculation_parleys_engine_drops_is_withdrawn_from_the_endpoint(fast_cfg, user_speech, tmp_path, sent):
    head, tail = user_speech("My order number is"), user_speech("four seven one nine two.")
    gap = np.zeros(int(1.2 * 16000), np.float32)  # a pause long enough to be answered speculatively
    pause = (len(head) / 16000, (len(head) + len(gap)) / 16000)
    lines = [UserLine("My order number is … four seven one nine two.", np.concatenate([head, gap, tail]),
                      pauses=(pause,))]

    result = _through_serve(fast_cfg, tmp_path, lines, turns="parley")
    for event in sent:
        CLIENT_EVENT.validate_python(event)
    kinds = [e["type"] for e in sent]
    assert kinds.count("input_audio_buffer.commit") >= 2  # the pause was answered speculatively, then the turn
    assert "conversation.item.delete" in kinds  # and the dropped speculation withdrawn
    assert not result.log.of(ComponentError), result.log.of(ComponentError)
    (turn,) = result.log.of(AgentTurn)
    assert "47192" in turn.user.replace(" ", "").replace(",", "")
    server = [e for e in session_events(tmp_path) if isinstance(e, AgentTurn)]
    assert server[-1].agent.strip() == turn.agent.strip()
    assert server[-1].user.count("order number") == 1  # the withdrawn words did not prefix the turn
