"""The Realtime server's protocol logic without models: settings, audio at the edge, the mapping of
parley's events to wire events (fake engine components, real clock), and a fuzzed client.

Every event the connection sends is validated against the official SDK's `RealtimeServerEvent`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from parley.audio.frame import SAMPLE_RATE
from parley.audio.recorder import ConversationRecorder
from parley.clock import RealClock
from parley.config import AgentConfig
from parley.cpu import CpuGate
from parley.dialogue.conversation import Conversation
from parley.duplex.engine import DuplexEngine
from parley.duplex.fakes import EnergyVAD, ScriptedASR, ScriptedResponder, ToneTTS
from parley.duplex.voice import Voice
from parley.events import EventLog
from parley.transports.realtime import wire
from parley.transports.realtime.connection import Limits, RealtimeConnection
from parley.transports.realtime.wire import AudioIn, AudioOut, SessionSettings, WireError

openai = pytest.importorskip("openai")
from openai.types.realtime import RealtimeServerEvent  # noqa: E402

STRICT = TypeAdapter(RealtimeServerEvent)


# --- settings and audio ------------------------------------------------------------------------------

def test_session_update_reads_ga_and_beta_shapes_and_refuses_what_it_cannot_do():
    s = SessionSettings()
    assert s.update({"type": "realtime", "instructions": "Be brief.", "audio": {
        "input": {"format": {"type": "audio/pcmu"}, "turn_detection": {"type": "server_vad", "silence_duration_ms": 800}},
        "output": {"format": {"type": "audio/pcma"}}}}) == ["instructions", "input_format", "output_format",
                                                             "turn_detection"]
    tt = s.turn_taking(AgentConfig().turn_taking)
    assert not tt.endpoint.predict and tt.endpoint.end_of_turn_ms == 800
    s.update({"input_audio_format": "pcm16", "turn_detection": {"type": "semantic_vad", "eagerness": "high"}})
    assert s.input_format == "pcm16" and s.turn_taking(AgentConfig().turn_taking).endpoint.eagerness == "high"
    before = dict(s.__dict__)
    for bad in ({"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
                {"turn_detection": {"type": "server_vad", "threshold": 7}},
                {"turn_detection": {"type": "semantic_vad", "create_response": False}},
                {"input_audio_format": "mp3"}, {"instructions": 5}, "not an object"):
        with pytest.raises(WireError):
            s.update(bad)
        assert s.__dict__ == before  # nothing half-applied


@pytest.mark.parametrize("fmt", ["pcm16", "g711_ulaw", "g711_alaw"])
def test_audio_crosses_the_edge_in_every_format_in_any_chunking(fmt):
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out, back = AudioOut(fmt), AudioIn(fmt)
    wire_bytes = b"".join(base64.b64decode(out.encode(pcm[i:i + 512])) for i in range(0, len(pcm), 512))
    pieces = [wire_bytes[i:i + 777] for i in range(0, len(wire_bytes), 777)]  # odd sizes split pcm16 samples
    got = np.concatenate([back.decode(base64.b64encode(p).decode()) for p in pieces])
    n = min(len(got), len(pcm)) - 2000
    lag = int(np.argmax(np.correlate(got[1000:1000 + n], pcm[1000:1400], "valid"))) if n > 400 else 0
    assert len(got) > 0.9 * SAMPLE_RATE
    assert np.corrcoef(got[1000 + lag:1000 + lag + 8000], pcm[1000:9000])[0, 1] > 0.95


# --- a connection over fake engine components ------------------------------------------------------

class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.incoming: asyncio.Queue = asyncio.Queue()

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, *_a) -> None:
        self.incoming.put_nowait(None)

    def __aiter__(self):
        return self

    async def __anext__(self):
        msg = await self.incoming.get()
        if msg is None:
            raise StopAsyncIteration
        return msg


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def fake_session(reply: str = "Sure, one moment please.") -> SimpleNamespace:
    cfg = AgentConfig()
    cfg.turn_taking.endpoint.predict = False
    cfg.turn_taking.agent_backchannels = False
    clock = RealClock()
    log = EventLog("t", clock_now=clock.now)
    responder = ScriptedResponder(reply, conversation=Conversation(cfg, [], log))
    engine = DuplexEngine(cfg, clock, log, responder, vad=EnergyVAD(),
                          asr=ScriptedASR(lambda s, _p: "hello there" if s > 0.9 else "mhm"),
                          voice=Voice(ToneTTS(), clock, log, CpuGate()))
    return SimpleNamespace(cfg=cfg, clock=clock, log=log, agent=engine, recorder=ConversationRecorder())


async def converse(script, reply: str = "Sure, one moment please.", settings: SessionSettings | None = None):
    """Run a connection over fake components; `script(conn, ws)` plays the client."""
    session, ws = fake_session(reply), FakeSocket()
    conn = RealtimeConnection(ws, settings or SessionSettings(turn_detection={"type": "server_vad", **wire.SERVER_VAD_DEFAULTS}),
                              Limits(max_message_bytes=256 * 1024))
    await session.agent.start()
    runner = asyncio.ensure_future(conn.run(session))
    try:
        await script(conn, ws)
    finally:
        await ws.close()
        await asyncio.wait_for(runner, 5)
        await session.agent.close()
    for ev in ws.sent:
        STRICT.validate_python(ev)
    return ws.sent, session


async def until(ws: FakeSocket, kind: str, timeout: float = 10.0, nth: int = 1) -> None:
    async with asyncio.timeout(timeout):
        while sum(e["type"] == kind for e in ws.sent) < nth:
            await asyncio.sleep(0.01)


def append(ws: FakeSocket, pcm: np.ndarray) -> None:
    ws.incoming.put_nowait(json.dumps({"type": "input_audio_buffer.append", "audio": AudioOut("pcm16").encode(pcm)}))


def test_a_spoken_turn_maps_onto_the_protocol_in_order():
    async def client(conn, ws):
        append(ws, np.concatenate([tone(1.0), np.zeros(SAMPLE_RATE // 2, np.float32)]))
        await until(ws, "response.done")

    sent, session = asyncio.run(converse(client))
    kinds = [e["type"] for e in sent]
    order = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
             "response.created", "conversation.item.input_audio_transcription.completed",
             "response.output_item.added", "response.content_part.added", "response.output_audio.delta",
             "response.output_audio.done", "response.output_audio_transcript.done", "response.done"]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)
    started = next(e for e in sent if e["type"] == "input_audio_buffer.speech_started")
    stopped = next(e for e in sent if e["type"] == "input_audio_buffer.speech_stopped")
    assert 0 <= started["audio_start_ms"] < 200 and 900 < stopped["audio_end_ms"] < 1200
    assert started["item_id"] == stopped["item_id"]
    deltas = [e for e in sent if e["type"] == "response.output_audio.delta"]
    assert sum(len(base64.b64decode(d["delta"])) for d in deltas) / 48000 == pytest.approx(1.0, abs=0.1)  # 4 words
    done = sent[kinds.index("response.done")]["response"]
    assert done["status"] == "completed" and done["output"][0]["content"][0]["transcript"] == "Sure, one moment please."


def test_response_cancel_and_truncate_leave_history_with_what_the_client_played():
    async def client(conn, ws):
        ws.incoming.put_nowait(json.dumps({"type": "session.update", "session": {"audio": {"input": {"turn_detection": None}}}}))
        await until(ws, "session.updated")
        ws.incoming.put_nowait(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Tell me everything."}]}}))
        ws.incoming.put_nowait(json.dumps({"type": "response.create"}))
        await until(ws, "response.output_audio.delta", nth=10)  # 0.32 s of a 2 s answer
        ws.incoming.put_nowait(json.dumps({"type": "response.create"}))  # one at a time
        item = next(e for e in ws.sent if e["type"] == "response.output_item.added")["item"]["id"]
        ws.incoming.put_nowait(json.dumps({"type": "conversation.item.truncate", "item_id": item,
                                           "content_index": 0, "audio_end_ms": 260}))
        await until(ws, "response.done")
        ws.incoming.put_nowait(json.dumps({"type": "response.cancel"}))  # nothing left to cancel
        await until(ws, "error", nth=2)

    sent, session = asyncio.run(converse(client, reply="one two three four five six seven eight"))
    errors = [e["error"]["code"] for e in sent if e["type"] == "error"]
    assert errors == ["conversation_already_has_active_response", "response_cancel_not_active"]
    done = next(e for e in sent if e["type"] == "response.done")["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
    assert "input_audio_buffer.speech_started" not in [e["type"] for e in sent]
    # 260 ms of 0.25 s words: the client heard "one" — and history holds exactly that
    assert session.agent.responder.conversation.history.turns == [("Tell me everything.", "one")]


def test_instructions_reach_the_responder_and_a_backchannel_does_not_interrupt_the_client():
    async def client(conn, ws):
        ws.incoming.put_nowait(json.dumps({"type": "session.update", "session": {"instructions": "Speak like a pirate."}}))
        await until(ws, "session.updated")
        append(ws, np.concatenate([tone(1.0), np.zeros(SAMPLE_RATE // 2, np.float32)]))
        await until(ws, "response.output_audio.delta", nth=5)
        append(ws, np.concatenate([tone(0.2), np.zeros(SAMPLE_RATE, np.float32)]))  # a short "mhm" over the agent
        await until(ws, "response.done")

    sent, session = asyncio.run(converse(client, reply="one two three four five six seven eight"))
    assert session.agent.responder.persona == "Speak like a pirate."
    assert [e.text for e in session.log.of("backchannel")] == ["mhm"]  # heard over the agent, resumed
    assert [e["type"] for e in sent].count("input_audio_buffer.speech_started") == 1  # the real turn only
    done = next(e for e in sent if e["type"] == "response.done")["response"]
    assert done["status"] == "completed"


# --- fuzzing: whatever a client sends, the answer is a valid event and the session goes on ----------

JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
                       | st.text(max_size=20), lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
KINDS = ["session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
         "conversation.item.create", "conversation.item.truncate", "conversation.item.delete", "response.create",
         "response.cancel", "nonsense"]
EVENTS = st.builds(lambda kind, body: {**(body if isinstance(body, dict) else {"x": body}), "type": kind},
                   st.sampled_from(KINDS), JSONISH)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(EVENTS | st.text(max_size=40), min_size=1, max_size=6))
def test_any_client_events_get_valid_answers_and_never_break_the_session(messages):
    async def client(conn, ws):
        for m in messages:
            ws.incoming.put_nowait(m if isinstance(m, str) else json.dumps(m, allow_nan=True))
        ws.incoming.put_nowait(json.dumps({"type": "session.update", "session": {"instructions": "still here"}}))
        async with asyncio.timeout(10):
            while not any(e["type"] == "session.updated" and e["session"]["instructions"] == "still here"
                          for e in ws.sent):
                await asyncio.sleep(0.01)

    asyncio.run(converse(client))  # every event sent is validated strictly in `converse`


def test_deleting_a_turn_nothing_was_heard_of_drops_the_words_it_would_carry():
    """A client withdrawing a speculative turn (`conversation.item.delete`) before any of its answer
    was heard: its words must not prefix the caller's next turn."""
    conv = Conversation(AgentConfig(), [], EventLog("t", clock_now=lambda: 0.0))
    conv.heard(1, "Hello.", "Hi, how can I help?", False)
    conv.heard(2, "My order number is", "", True)  # cut before a word was heard: carried into the next turn
    assert conv.history.pending == "My order number is"
    assert conv.forget(2) and conv.history.pending == ""
    conv.heard(3, "My order number is four seven one nine two.", "Thanks.", False)
    assert conv.history.turns[-1][0].startswith("My order number is four seven") and len(conv.history.turns) == 2
    assert not conv.forget(2)  # gone already
