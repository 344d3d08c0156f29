"""Barge-in, backchannel immunity and echo, on real synthesized audio, asserting on event logs."""

import asyncio

from parley.clock import RealClock
from parley.duplex.backchannel import is_backchannel
from parley.runner import run_conversation
from parley.transports.loopback import UserLine

QUESTION = "Can you explain your return policy to me in detail, step by step?"


def test_backchannel_words_and_noises_are_recognised():
    for text in ["Mm-hmm.", "yeah", "Okay.", "Right.", "I see.", "", "(coughs)", "[cough]"]:
        assert is_backchannel(text), text
    for text in ["Wait.", "No, stop.", "What about shipping?", "Okay, but what about exchanges?"]:
        assert not is_backchannel(text), text
    assert is_backchannel("Please.", speech_s=0.2)  # a cough Whisper turned into a word
    assert not is_backchannel("Stop.", speech_s=0.45)


def test_barge_in_leaves_only_heard_text_in_history(fast_cfg, user_speech):
    lines = [UserLine(QUESTION, user_speech(QUESTION)),
             UserLine("Sorry, stop. What are your opening hours?", user_speech("Sorry, stop. What are your opening hours?"),
                      after_agent_starts_s=1.5)]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock()))
    log = res.log
    stops = [e for e in log.of("agent_audio_stopped") if e.reason == "barge_in"]
    assert len(stops) == 1
    first = [e for e in log.of("agent_turn")][0]
    full = [e.text for e in log.of("llm_done") if e.turn == first.turn][0]
    assert first.interrupted
    assert first.agent and len(first.agent) < len(full.strip()) and full.startswith(first.agent)
    onset = [e.t for e in log.of("user_speech_started") if e.t > log.of("agent_audio_started")[0].t][0]
    assert 0 <= stops[0].t - onset <= 0.75  # paused at onset, stopped once confirmed (600 ms)
    paused = log.of("agent_audio_paused")
    assert paused and paused[0].t - onset < 0.25
    # the next reply addresses the new question and history holds the heard text with a marker
    assert len(res.records) == 2 and res.records[1].agent


def test_user_mm_hmm_mid_reply_does_not_stop_the_agent(fast_cfg, user_speech):
    lines = [UserLine(QUESTION, user_speech(QUESTION)),
             # Piper reads "Mm" as "millimetres"; "Mhm" is how it says mm-hmm
             UserLine("mm-hmm", user_speech("Mhm."), after_agent_starts_s=1.5)]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock(), reply_timeout_s=30))
    log = res.log
    assert not [e for e in log.of("agent_audio_stopped") if e.reason == "barge_in"]
    assert [e for e in log.of("backchannel") if e.source == "user"]
    turns = log.of("agent_turn")
    assert len(turns) == 1 and not turns[0].interrupted  # the backchannel was no turn and got no reply


def test_agent_echo_alone_never_interrupts_it(fast_cfg, user_speech):
    lines = [UserLine(QUESTION, user_speech(QUESTION))]
    # a 60-token reply plays for ~14 s: the channel must not close on it (that stop is not an interruption)
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock(), echo_db=-20.0, reply_timeout_s=30))
    log = res.log
    assert log.of("agent_audio_started")
    assert not log.of("agent_audio_paused")
    assert not [e for e in log.of("agent_audio_stopped") if e.reason != "finished"]
    assert not log.of("asr_partial") or all(e.t < log.of("agent_audio_started")[0].t for e in log.of("asr_partial"))


def test_user_speaking_over_the_echo_still_barges_in(fast_cfg, user_speech):
    lines = [UserLine(QUESTION, user_speech(QUESTION)),
             UserLine("Sorry, stop. What are your opening hours?", user_speech("Sorry, stop. What are your opening hours?"),
                      after_agent_starts_s=1.5)]
    res = asyncio.run(run_conversation(fast_cfg, lines, clock=RealClock(), echo_db=-20.0))
    stops = [e for e in res.log.of("agent_audio_stopped") if e.reason == "barge_in"]
    assert len(stops) == 1
    assert len(res.records) == 2 and "opening" in res.records[1].heard_user.lower()
