"""End of turn: wait through mid-utterance pauses, answer quickly when the user is done."""

import asyncio

import numpy as np
import pytest

from parley.clock import RealClock
from parley.duplex.end_of_turn import WAITS_MS, hold_cue, required_wait
from parley.runner import run_conversation
from parley.transports.loopback import UserLine


@pytest.mark.parametrize("text,cue", [
    ("My number is four four", "number in progress"),
    ("My order number is 4 4", "number in progress"),
    ("My number is 4-4.", "number in progress"),
    ("I'd like to change my order and", "trailing 'and'"),
    ("So, um", "trailing 'um'"),
    ("My name is spelled M A", "spelling in progress"),
    ("My name is spelled L.", "spelling in progress"),
    ("It's spelled", "spelling in progress"),
    ("My first name is spelled SI.", "spelling in progress"),
    ("I was thinking...", "trailing off"),
    ("I would like to change the delivery address to.", "trailing 'to'"),
    ("I think the problem is that.", "clause announced"),
    ("Could you tell me about the?", "trailing 'the'"),
    ("My email is j.", "e-mail in progress"),
    ("You can email me at Anna.", "e-mail in progress"),
    ("The postcode is SW1.", "code in progress"),
    ("The reference number is Q.", "code in progress"),
])
def test_transcript_cues_hold_the_floor(text, cue):
    assert hold_cue(text) == cue


@pytest.mark.parametrize("text", ["What time do you close?", "Thanks, that's all.", "I have four cats", "I like that.",
                                  "Please come in.",
                                  "My order number is 4.7192.", "Can you remind me what my order number was?",
                                  "What is it for?", "My email address is j dot okafor at gmail dot com.",
                                  "The postcode is SW1A 2AA.", "My flight is BA 287 to Lisbon.", "I forgot my code.",
                                  "It is spelled the usual way.", "My name is spelled SIOBHAN.", "It is spelled Kim."])
def test_finished_sentences_carry_no_hold_cue(text):
    assert hold_cue(text) is None


def test_waits_follow_confidence_and_eagerness():
    assert required_wait(0.9, "What time do you close?", "medium").wait_ms == WAITS_MS["medium"][0]
    assert required_wait(0.2, "Thanks, that's all.", "medium").wait_ms == WAITS_MS["medium"][1]
    assert required_wait(0.02, "Thanks, that's all.", "medium").wait_ms == WAITS_MS["medium"][1]  # closing
    assert required_wait(0.02, "so I sent it back in.", "medium").wait_ms == WAITS_MS["medium"][3]
    # Whisper wrote "last week and" as a finished sentence; Smart Turn's "not done" still holds
    assert required_wait(0.47, "I ordered a jacket last weekend.", "medium").wait_ms == WAITS_MS["medium"][2]
    assert required_wait(0.6, "I ordered a jacket last weekend.", "medium").wait_ms == WAITS_MS["medium"][1]
    assert required_wait(0.1, "I ordered a jacket last weekend.", "medium").wait_ms == WAITS_MS["medium"][3]
    assert required_wait(0.03, "My order number is 4.4 7192", "medium").wait_ms == WAITS_MS["medium"][1]
    assert required_wait(0.9, "my number is four four", "medium").wait_ms == WAITS_MS["medium"][3]
    # words Whisper is unsure of: no evidence the caller finished, whatever the audio and the chat model say
    assert required_wait(0.95, "The most coconut normal you want.", "medium", 0.4, unclear=True).wait_ms \
        == WAITS_MS["medium"][3]
    assert required_wait(0.9, "Okay?", "high").wait_ms < required_wait(0.9, "Okay?", "low").wait_ms
    # Whisper wrote "two shirts and" as "two shirts in." and Smart Turn agreed; the chat model did not
    assert required_wait(0.97, "I ordered two shirts in.", "medium", p_final=0.0002).cue == "words unfinished"
    assert required_wait(0.97, "I ordered two shirts in.", "medium", p_final=0.0002).wait_ms == WAITS_MS["medium"][3]
    # a clause the chat model doubts holds the floor like one it finds unfinished; one it expects to end does not
    doubted = required_wait(0.98, "I bought the table for four.", "medium", p_final=0.03)
    assert (doubted.cue, doubted.wait_ms) == ("words doubtful", WAITS_MS["medium"][3])
    assert required_wait(0.98, "I bought the table for four.", "medium", p_final=0.4).wait_ms == WAITS_MS["medium"][0]
    assert required_wait(0.97, "Yes.", "medium", p_final=0.05).wait_ms == WAITS_MS["medium"][0]  # short answers
    assert required_wait(0.97, "Do you ship to Canada?", "medium", p_final=0.58).wait_ms == WAITS_MS["medium"][0]


@pytest.mark.slow
@pytest.mark.parametrize("voice,condition", [("joe", "clean"), ("espeak-us-f", "phone")])
def test_a_pause_after_and_gets_no_reply_in_two_voices_one_on_the_phone(voice, condition):
    """1.5 s after "and", each piece synthesized on its own (so the pre-pause word ends with a
    sentence's falling pitch, which Smart Turn takes for an end): no agent reply in the pause."""
    from parley.bench.conditions import active_rms, line_filter
    from parley.bench.voices import speak_as_user
    from parley.config import AgentConfig

    first, second = speak_as_user("I ordered two shirts and", voice), speak_as_user("only one of them arrived.", voice)
    pcm = np.concatenate([first, np.zeros(int(1.5 * 16000), dtype=np.float32), second])
    if condition != "clean":
        pcm = line_filter(condition, active_rms(pcm))(pcm)
    res = asyncio.run(run_conversation(AgentConfig(), [UserLine("two shirts", pcm)], clock=RealClock()))
    sim = res.log.of("sim_utterance")[0]
    pause_end = sim.start + (len(first) + 1.5 * 16000) / 16000
    replies = [e.t for e in res.log.events if e.kind == "agent_audio_started" and e.turn > 0]
    assert replies and min(replies) > pause_end, "the agent took the floor in the pause after 'and'"


def test_no_reply_during_a_pause_in_the_middle_of_a_number(fast_cfg, user_speech):
    first, second = user_speech("My number is four four"), user_speech("seven one nine two.")
    pcm = np.concatenate([first, np.zeros(int(1.2 * 16000), dtype=np.float32), second])
    line = UserLine("My number is four four ... seven one nine two.", pcm)
    res = asyncio.run(run_conversation(fast_cfg, [line], clock=RealClock()))
    ev = res.log.events
    end = res.log.of("sim_utterance")[0].end
    starts = [e.t for e in ev if e.kind == "agent_audio_started"]
    assert starts and min(starts) > end, "the agent spoke during the pause"
    preds = res.log.of("turn_prediction")
    assert any(p.cue == "number in progress" for p in preds)
    assert len(res.records) == 1
    assert "4" in res.records[0].heard_user.replace("four", "4") and "9" in res.records[0].heard_user.replace("nine", "9")


def test_agent_backchannels_in_a_long_turn_pause_and_never_counts_it_as_a_reply(fast_cfg, user_speech):
    first = user_speech("I bought a rain jacket from you last week, and it was too small, so I sent it back and")
    second = user_speech("now I would like a refund, please.")
    pcm = np.concatenate([first, np.zeros(int(1.6 * 16000), dtype=np.float32), second])
    res = asyncio.run(run_conversation(fast_cfg, [UserLine("long turn", pcm)], clock=RealClock()))
    log = res.log
    sim = log.of("sim_utterance")[0]
    pause_start, pause_end = sim.start + len(first) / 16000, sim.start + (len(first) + 1.6 * 16000) / 16000
    bcs = [e for e in log.of("backchannel") if e.source == "agent"]
    assert len(bcs) == 1 and pause_start < bcs[0].t < pause_end
    started = [e for e in log.of("agent_audio_started") if e.turn == 0]
    assert started and pause_start < started[0].t < pause_end
    assert len(res.records) == 1 and res.records[0].agent  # one real reply, after the whole turn
    assert log.of("agent_turn")[0].t > sim.end
    floors = [e.state for e in log.of("floor")]
    assert "user" in floors and "agent" in floors
