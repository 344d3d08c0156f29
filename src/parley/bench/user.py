"""The simulated user: a scenario's turns spoken in the user's voice, with their timing directives.

Each turn becomes one loopback line (transports/loopback.py), which plays it in full duplex and
reacts to the agent's audio: by default a turn starts `gap_ms` after the agent has gone quiet; a
backchannel or a barge-in starts that many ms after the agent's reply became audible; a
mid-utterance pause is silence spliced in after word N of the line said whole (voices.speak_in_pieces),
so the agent hears exactly the pause the scenario asks for, with the pitch of a caller who is still
talking (and the line records where each pause lies, for the Full-Duplex-Bench export).
A turn with `readback: VALUE` answers the agent's read-back of it: "Yes, that's right." when the
agent read it back right, "No, it is A L V A R E Z." when wrong, spelling an e-mail's name the
second time (at most three answers). Any other turn is said again, a little slower, when the agent
asks for it (it did not catch the turn, `readback.UNCLEAR_LINE`, or a value in it), as a caller would.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.bench.scenario import Scenario, UserTurn
from parley.bench.voices import DEFAULT_VOICE, speak_as_user, speak_in_pieces
from parley.dialogue.readback import say_email
from parley.transports.loopback import UserLine


def spoken_with_pauses(pieces: list[str], pauses_ms: list[int], voice: str) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The pieces said as one line with a silence of pauses_ms[i] after piece i; returns the
    audio and each pause's (start, end) in seconds from the line's start."""
    parts, spans, t = [], [], 0.0
    for i, pcm in enumerate(speak_in_pieces(pieces, voice)):
        parts.append(pcm)
        t += len(pcm) / SAMPLE_RATE
        if i < len(pauses_ms):
            n = int(pauses_ms[i] / 1000 * SAMPLE_RATE)
            parts.append(np.zeros(n, dtype=np.float32))
            spans.append((round(t, 4), round(t + n / SAMPLE_RATE, 4)))
            t += n / SAMPLE_RATE
    return np.concatenate(parts), spans


def pieces_of(turn: UserTurn) -> list[str]:
    """The turn's words between its pauses (one piece when it has none)."""
    words = turn.say.split()
    cuts = [0] + [p.after_word for p in turn.all_pauses] + [len(words)]
    return [" ".join(words[a:b]) for a, b in zip(cuts, cuts[1:])]


def line_for(turn: UserTurn, voice: str = DEFAULT_VOICE) -> UserLine:
    pauses = turn.all_pauses
    if pauses:
        pieces = pieces_of(turn)
        pcm, spans = spoken_with_pauses(pieces, [p.ms for p in pauses], voice)
        text = " … ".join(pieces)
    else:
        pcm, spans, text = speak_as_user(turn.say, voice), [], turn.say
    overlap_ms = turn.backchannel_ms if turn.backchannel_ms is not None else turn.barge_in_ms
    answers = None
    if turn.readback:
        said = ["Yes, that's right.", f"No, it is {say_value(turn.readback)}.",
                f"No, it is {say_value(turn.readback, spell=True)}."]
        answers = tuple(UserLine(text, speak_as_user(text, voice)) for text in said)
    return UserLine(text, pcm, gap_s=turn.gap_ms / 1000, pauses=tuple(spans),
                    after_agent_starts_s=None if overlap_ms is None else overlap_ms / 1000,
                    readback=turn.readback, answers=answers, again=partial(_said_again, turn, voice, answers))


def _said_again(turn: UserTurn, voice: str, answers) -> UserLine:
    """The turn said again when the agent asks for it: in one go (no pauses), a little slower, and
    a read-back of it is answered as before."""
    return UserLine(turn.say, speak_as_user(turn.say, voice, slower=True), gap_s=turn.gap_ms / 1000,
                    readback=turn.readback, answers=answers)


def say_value(value: str, spell: bool = False) -> str:
    """How a caller says a value again when correcting a read-back: e-mails with "at" and "dot"
    (with `spell`, as people do the second time, the part before the "@" letter by letter), anything
    else letter by letter ("A L V A R E Z", "U A 1 4 2 9")."""
    if "@" in value:
        local, _, domain = value.partition("@")
        if spell:
            local = " dot ".join(" ".join(part) for part in local.split("."))
            return f"{local} at {say_email('@' + domain)[4:]}"
        return say_email(value)
    return " ".join(c for c in value.upper() if c.isalnum())


def user_lines(scenario: Scenario, voice: str | None = None) -> list[UserLine]:
    return [line_for(t, voice or scenario.own_voice) for t in scenario.turns]
