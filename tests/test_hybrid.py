"""The Thinker-Talker hybrid on real models and real synthesized speech, asserting on the event log:
the talker acknowledges a finished-sounding pause before the words are known and the reply follows
without saying it again; the talker's opener plays without waiting for the thinker, the thinker
continues it without repeating it, and a barge-in during the opener cancels the thinker too."""

import asyncio

from parley.clock import RealClock
from parley.dialogue import talker
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

QUESTIONS = ["What are your opening hours on Saturday?", "My order number is 4 7 1 9 2. Where is it?"]


def _of_turn(log, kind, turn):
    return [e for e in log.of(kind) if e.turn == turn]


def test_the_opener_plays_first_and_the_thinker_continues_it(fast_cfg, user_speech):
    fast_cfg.hybrid.acknowledge = False  # the opener path alone (as after a pause Smart Turn doubts)
    res = asyncio.run(run_conversation(fast_cfg, [UserLine(q, user_speech(q)) for q in QUESTIONS],
                                       clock=RealClock(), arch="hybrid"))
    log = res.log
    assert len(res.records) == 2
    for rec in res.records:
        opener = _of_turn(log, "opener", rec.turn)[0]
        assert opener.source == "talker" and talker.unsupported(opener.text, rec.heard_user) == []
        chunks = _of_turn(log, "tts_chunk", rec.turn)
        assert chunks[0].text == opener.text  # the first audio is the talker's line
        started = _of_turn(log, "agent_audio_started", rec.turn)[0].t
        assert started <= chunks[1].t  # it did not wait for the thinker
        assert _of_turn(log, "agent_content_started", rec.turn)[0].t > started  # the answer follows the opener
        assert rec.agent.startswith(opener.text) and len(rec.agent) > len(opener.text) + 5
        assert rec.agent.lower().count(opener.text.lower().rstrip(".")) == 1  # continued, not repeated


def test_a_barge_in_during_the_opener_cancels_the_thinker(fast_cfg, user_speech):
    fast_cfg.llm.max_tokens = 120
    fast_cfg.hybrid.acknowledge = False
    long = "Can you explain your return policy to me in detail, step by step?"  # the thinker is still at work
    stop = "Sorry, stop, I meant the opening hours on Sunday."
    lines = [UserLine(long, user_speech(long)),
             UserLine(stop, user_speech(stop), after_agent_starts_s=0.2)]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock(), arch="hybrid"))
    log = res.log
    first = res.records[0]
    stops = [e for e in _of_turn(log, "agent_audio_stopped", first.turn) if e.reason == "barge_in"]
    assert stops and first.interrupted
    opener = _of_turn(log, "opener", first.turn)[0].text
    assert opener.startswith(first.agent)  # heard: at most the opener
    dones = _of_turn(log, "llm_done", first.turn)
    assert dones and all(e.cancelled for e in dones)
    assert len(res.records) == 2 and "sunday" in res.records[1].heard_user.lower()


def test_a_finished_turn_is_acknowledged_before_its_words_are_known(fast_cfg, user_speech):
    res = asyncio.run(run_conversation(fast_cfg, [UserLine(q, user_speech(q)) for q in QUESTIONS],
                                       clock=RealClock(), arch="hybrid"))
    log = res.log
    assert len(res.records) == 2
    acknowledged = [rec for rec in res.records if _of_turn(log, "acknowledgement", rec.turn)]
    assert res.records[0] in acknowledged  # Smart Turn hears the first question as finished (~0.96)
    first_asr = _of_turn(log, "asr_final", res.records[0].turn)[0]
    assert _of_turn(log, "acknowledgement", res.records[0].turn)[0].t < first_asr.t + 0.05  # before the words
    for rec in acknowledged:  # (the second ends in "where is it?", which it doubts: the opener answers it)
        [ack] = _of_turn(log, "acknowledgement", rec.turn)
        assert ack.text == "Let's see."  # questions: never "mhm", which would answer one
        assert ack.t < _of_turn(log, "agent_audio_started", rec.turn)[0].t  # before the reply, never over it
        assert rec.latency_ms < rec.content_ms  # the acknowledgement is the turn's first audio
        assert not any(rec.agent.startswith(h) for h in talker.HOLDING)  # no second "let me check"
    openers = [e.text for e in log.of("opener")]
    assert openers == ["Order number 4 7 1 9 2, let me check."]  # only a value adds to the acknowledgement
