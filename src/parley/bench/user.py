"""The simulated user: a scenario's turns spoken in the user's voice, with their timing directives.

Each turn becomes one loopback line (transports/loopback.py), which plays it in full duplex and
reacts to the agent's audio: by default a turn starts `gap_ms` after the agent has gone quiet; a
backchannel or a barge-in starts that many ms after the agent's reply became audible; a
mid-utterance pause is silence spliced in after word N, so the agent hears exactly the pause the
scenario asks for.
"""

from __future__ import annotations

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.bench.scenario import Scenario, UserTurn
from parley.bench.voices import speak_as_user
from parley.transports.loopback import UserLine


def line_for(turn: UserTurn) -> UserLine:
    if turn.pause is not None:
        words = turn.say.split()
        head, tail = " ".join(words[:turn.pause.after_word]), " ".join(words[turn.pause.after_word:])
        silence = np.zeros(int(turn.pause.ms / 1000 * SAMPLE_RATE), dtype=np.float32)
        pcm = np.concatenate([speak_as_user(head), silence, speak_as_user(tail)])
        text = f"{head} … {tail}"
    else:
        pcm, text = speak_as_user(turn.say), turn.say
    overlap_ms = turn.backchannel_ms if turn.backchannel_ms is not None else turn.barge_in_ms
    return UserLine(text, pcm, gap_s=turn.gap_ms / 1000,
                    after_agent_starts_s=None if overlap_ms is None else overlap_ms / 1000)


def user_lines(scenario: Scenario) -> list[UserLine]:
    return [line_for(t) for t in scenario.turns]
