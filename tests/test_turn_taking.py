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
    ("I was thinking...", "trailing off"),
])
def test_transcript_cues_hold_the_floor(text, cue):
    assert hold_cue(text) == cue


@pytest.mark.parametrize("text", ["What time do you close?", "Thanks, that's all.", "I have four cats",
                                  "My order number is 4.7192.", "Can you remind me what my order number was?"])
def test_finished_sentences_carry_no_hold_cue(text):
    assert hold_cue(text) is None


def test_waits_follow_confidence_and_eagerness():
    assert required_wait(0.9, "What time do you close?", "medium").wait_ms == WAITS_MS["medium"][0]
    assert required_wait(0.2, "Thanks, that's all.", "medium").wait_ms == WAITS_MS["medium"][1]
    assert required_wait(0.9, "my number is four four", "medium").wait_ms == WAITS_MS["medium"][2]
    assert required_wait(0.9, "Okay?", "high").wait_ms < required_wait(0.9, "Okay?", "low").wait_ms


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
