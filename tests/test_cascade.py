"""The cascade end to end over the loopback channel, asserting on the event log."""

import asyncio

import numpy as np

from parley.audio.frame import FRAME_SAMPLES, SAMPLE_RATE
from parley.clock import RealClock, VirtualClock
from parley.duplex.playout import Playout, Reply
from parley.components.tts.base import SpeechChunk
from parley.events import EventLog
from parley.runner import run_conversation
from parley.transports.loopback import UserLine


def kinds_for_turn(events, turn):
    return [e.kind for e in events if getattr(e, "turn", None) == turn]


def test_two_turn_loopback_conversation_yields_ordered_events_and_replies(fast_cfg, user_speech):
    lines = [UserLine(t, user_speech(t)) for t in ["Hi, my name is Tom.", "What is my name?"]]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock()))
    ev = res.log.events
    assert len(res.records) == 2
    for i, rec in enumerate(res.records):
        assert rec.agent.strip(), "empty reply"
        assert rec.latency_ms is not None and rec.latency_ms > 0
        order = kinds_for_turn(ev, rec.turn)
        # the second turn asks for a value the caller gave: said from the fact store, no LLM call
        drafted = ["llm_request", "llm_first_token"] if i == 0 else ["read_back"]
        chain = ["speculation_started", "asr_final", *drafted, "tts_chunk",
                 "turn_end_predicted", "agent_audio_started", "agent_audio_stopped", "agent_turn"]
        assert all(k in order for k in chain), (order, rec.agent, rec.heard_user)
        positions = [order.index(k) for k in chain if k != "turn_end_predicted"]
        assert positions == sorted(positions), order
        assert order.index("agent_audio_started") > order.index("turn_end_predicted")
    times = [e.t for e in ev if e.kind in ("agent_audio_started", "agent_audio_stopped")]
    assert times == sorted(times)
    # the agent kept hearing the user while it spoke: the second user turn was perceived
    assert sum(e.kind == "user_speech_started" for e in ev) >= 2
    assert "tom" in res.records[0].heard_user.lower()
    assert "llm_request" not in kinds_for_turn(ev, res.records[1].turn) and "tom" in res.records[1].agent.lower()


def test_silence_and_noise_only_input_gives_no_reply(fast_cfg):
    rng = np.random.default_rng(1)
    lines = [UserLine("<silence>", np.zeros(SAMPLE_RATE * 2, dtype=np.float32)),
             UserLine("<noise>", (0.03 * rng.standard_normal(SAMPLE_RATE * 2)).astype(np.float32))]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=VirtualClock(), reply_timeout_s=3.0))
    assert res.records == []
    assert not res.log.of("agent_audio_started", "error")


def test_cancelling_a_reply_stops_agent_audio_within_one_frame():
    from parley.components import registry

    log = EventLog("t", clock_now=lambda: 0.0)
    finished = []
    playout = Playout(log, lambda r, heard, interrupted: finished.append((heard, interrupted)))
    tts = registry.piper()
    text = "First clause here, and a second clause that the user never hears."
    cut = text.index(",") + 1
    reply = Reply(turn=1, text=text, committed=True)
    reply.chunks.append(SpeechChunk(tts.synthesize(text[:cut]), text[:cut], 0, cut))
    reply.chunks.append(SpeechChunk(tts.synthesize(text[cut + 1:]), text[cut + 1:], cut + 1, len(text)))
    playout.play(reply)
    n_first = len(reply.chunks[0].pcm)
    t = 0.0
    while t * SAMPLE_RATE < n_first + FRAME_SAMPLES:  # play the first clause and a little of the second
        frame = playout.pull(FRAME_SAMPLES, t)
        t += FRAME_SAMPLES / SAMPLE_RATE
    assert np.abs(frame).max() > 0
    playout.stop("barge_in", t)
    assert reply.cancel.cancelled
    nxt = playout.pull(FRAME_SAMPLES, t)  # the very next frame: a 5 ms fade, then silence
    offset = int(round(t * SAMPLE_RATE)) - n_first  # samples of the second clause already played
    ramp = np.linspace(1.0, 0.0, 80, endpoint=False)
    assert np.allclose(nxt[:80], reply.chunks[1].pcm[offset:offset + 80] * ramp, atol=1e-6)
    assert not np.any(nxt[80:])
    assert not np.any(playout.pull(FRAME_SAMPLES, t + FRAME_SAMPLES / SAMPLE_RATE))
    stops = log.of("agent_audio_stopped")
    assert len(stops) == 1 and stops[0].reason == "barge_in" and stops[0].t == t
    heard, interrupted = finished[0]
    assert interrupted and heard.startswith("First clause here,") and "never hears" not in heard


def test_llm_stream_stops_when_cancelled(fast_cfg):
    from parley.cancel import CancelToken
    from parley.components import registry

    async def main():
        clock = RealClock()
        llm = registry.chat_model(fast_cfg.llm, clock)
        cancel = CancelToken()
        got = []
        async for delta in llm.stream([{"role": "user", "content": "Count from one to fifty in words."}], cancel=cancel):
            got.append(delta)
            if len(got) == 3:
                cancel.cancel("test")
        return got

    got = asyncio.run(main())
    assert 3 <= len(got) <= 4


def test_the_loopback_bounds_a_run_by_its_script_not_by_a_fixed_cap():
    """A 200-line script may legitimately take far longer than ten minutes; the channel's safety
    bound is what the script could take at most (every reply timing out)."""
    from parley.events import EventLog
    from parley.transports.loopback import LoopbackChannel, UserLine

    lines = [UserLine("x", np.zeros(16000, dtype=np.float32)) for _ in range(200)]
    channel = LoopbackChannel(None, None, EventLog("s"), lines, reply_timeout_s=20.0, lead_in_s=0.5, tail_s=1.0)
    assert channel.max_s == 0.5 + 200 * (1.0 + 20.0) + 20.0 + 1.0
    assert LoopbackChannel(None, None, EventLog("s"), lines, max_s=30.0).max_s == 30.0
