"""Property-based fuzzing with a fixed budget (issue 12): the WAV reader and the scenario loader
either return a valid result or raise their one-sentence error, whatever bytes they are given."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.audio.wavio import read_wav, write_wav
from parley.bench.scenario import ScenarioError, load_scenario
from parley.errors import AudioFileError

BUDGET = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_wav() -> bytes:
    buf = io.BytesIO()
    import wave

    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(1600) / 7) * 8000).astype("<i2").tobytes())
    return buf.getvalue()


VALID = _valid_wav()


@BUDGET
@given(st.one_of(
    st.binary(max_size=4096),
    st.tuples(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=16)).map(
        lambda m: VALID[:m[0]] + m[1] + VALID[m[0] + len(m[1]):]),  # a valid file with bytes overwritten
    st.integers(0, len(VALID)).map(lambda n: VALID[:n]),  # a valid file cut short
    st.sampled_from([1, 3, 6, 8]).map(  # a header claiming odd formats
        lambda fmt: VALID[:20] + struct.pack("<H", fmt) + VALID[22:]),
))
def test_the_wav_reader_returns_audio_or_one_clear_error(tmp_path, data):
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    try:
        pcm = read_wav(path)
    except AudioFileError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert pcm.dtype == np.float32 and pcm.ndim == 1 and np.isfinite(pcm).all()


SCENARIO = """id: fuzz
title: A fuzzed scenario
suites: [memory]
turns:
  - say: My order number is 4 4 1 7 2.
  - say: What was my order number?
    expect:
      recall: {turn: 1, value: "44172"}
"""


@BUDGET
@given(st.one_of(
    st.text(max_size=600),
    st.tuples(st.integers(0, len(SCENARIO)), st.text(min_size=1, max_size=12)).map(
        lambda m: SCENARIO[:m[0]] + m[1] + SCENARIO[m[0]:]),  # text inserted anywhere
    st.tuples(st.integers(0, len(SCENARIO)), st.integers(1, 20)).map(
        lambda m: SCENARIO[:m[0]] + SCENARIO[m[0] + m[1]:]),  # text deleted anywhere
))
def test_the_scenario_loader_returns_a_scenario_or_one_clear_error(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert str(exc).startswith(str(path))
        return
    assert scenario.turns


def test_the_fuzzers_valid_seeds_are_valid(tmp_path):
    (tmp_path / "ok.wav").write_bytes(VALID)
    assert len(read_wav(tmp_path / "ok.wav")) == 1600
    (tmp_path / "s.yaml").write_text(SCENARIO)
    assert load_scenario(tmp_path / "s.yaml").id == "fuzz"
    write_wav(tmp_path / "w.wav", np.zeros(10, np.float32))


# --- the remote-model protocol parsers (issue 14's clients) ----------------------------------------

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=8)
_IDS = st.one_of(st.sampled_from(["r1", "i1", "u1"]), _JSON)
_AUDIO = st.binary(max_size=64).map(lambda b: __import__("base64").b64encode(b).decode())
_TYPES = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
          "conversation.item.input_audio_transcription.completed", "response.created", "response.output_item.added",
          "response.output_audio.delta", "response.audio.delta", "response.output_audio_transcript.delta",
          "response.output_audio_transcript.done", "response.output_audio.done", "response.done", "error",
          "session.updated", "rate_limits.updated"]
_EVENTS = st.fixed_dictionaries({"type": st.sampled_from(_TYPES)}, optional={
    "item_id": _IDS, "response_id": _IDS, "delta": st.one_of(_AUDIO, _JSON), "transcript": _JSON,
    "response": st.one_of(st.fixed_dictionaries({"id": _IDS}, optional={"output": _JSON}), _JSON),
    "item": _JSON, "error": _JSON, "audio_start_ms": _JSON, "audio_end_ms": _JSON})


class _Socket:
    """The endpoint's side of a connection that sends `events` and closes (read by the real
    `RealtimeSocket.dispatch`)."""

    from parley.architectures.realtime.socket import RealtimeSocket
    dispatch = RealtimeSocket.dispatch

    def __init__(self, events) -> None:
        self._events, self.sent, self.closed_why = events, [], None

    async def events(self):
        for event in self._events:
            yield event
        self.closed_why = "closed by the endpoint"

    def send(self, type_, **fields) -> None:
        self.sent.append(type_)


@BUDGET
@given(st.one_of(st.binary(max_size=256), st.text(max_size=256), _JSON.map(json.dumps),
                 _EVENTS.map(json.dumps), st.integers(1, 3000).map(lambda n: "[" * n)))
def test_every_message_from_a_realtime_endpoint_becomes_an_event_with_a_type(message):
    from parley.architectures.realtime.socket import server_event

    event = server_event(message)
    assert isinstance(event, dict) and isinstance(event["type"], str)


@BUDGET
@given(st.lists(st.one_of(_EVENTS, st.fixed_dictionaries({"type": st.text(max_size=12)})), max_size=12))
def test_a_realtime_client_survives_any_event_sequence_and_keeps_playing(events):
    """Both clients (the endpoint's turns and parley's turns) read any sequence of events to the
    end of the connection: odd events are `error` events, never an exception out of the reader."""
    import asyncio

    from parley.architectures.realtime.client import RealtimeAgent
    from parley.architectures.realtime.responder import RealtimeResponder, _Answer
    from parley.clock import RealClock
    from parley.config import AgentConfig
    from parley.dialogue.conversation import Conversation
    from parley.duplex.playout import Reply
    from parley.events import EventLog

    async def go():
        cfg, clock = AgentConfig(), RealClock()
        log = EventLog("s", clock_now=clock.now)
        agent = RealtimeAgent(cfg, clock, log, Conversation(cfg, [], log), _Socket(events), caller_vad=lambda p: 0.0)
        await agent._read()
        for i in range(4):
            agent.pull_audio(512, i * 0.032)
        responder = RealtimeResponder(cfg, log, Conversation(cfg, [], log), _Socket(events))
        loop = asyncio.get_running_loop()
        answer = _Answer(Reply(turn=1, transcript=loop.create_future(), reading=loop.create_future()))
        responder._waiting.append(answer)
        await responder._read()
        while not answer.queue.empty():  # whatever was queued ends with the end of the stream
            last = answer.queue.get_nowait()
        assert answer.response is None or last is None

    asyncio.run(go())


@BUDGET
@given(st.lists(st.one_of(st.binary(max_size=64), st.tuples(st.integers(0, 7), st.binary(max_size=64)).map(
    lambda m: bytes([m[0]]) + m[1]), st.text(max_size=8)), max_size=12))
def test_the_moshi_client_survives_any_server_message(messages):
    import sphn

    from parley.architectures.moshi import MoshiAgent
    from parley.clock import RealClock
    from parley.config import AgentConfig
    from parley.events import EventLog

    clock = RealClock()
    log = EventLog("s", clock_now=clock.now)
    cfg = AgentConfig()
    cfg.moshi.url = "ws://127.0.0.1:8998/api/chat"
    agent = MoshiAgent(cfg, clock, log, vad=lambda p: 0.0, user_vad=lambda p: 0.0)
    agent._reader = sphn.OpusStreamReader(24000)
    for message in messages:
        agent._on_message(message)
    for i in range(4):
        agent.pull_audio(512, i * 0.032)
    assert len(log.of("error")) <= 1 + sum(1 for m in messages if isinstance(m, bytes) and m[:1] == b"\x05")
