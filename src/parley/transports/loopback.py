"""A simulated full-duplex channel between a scripted user and an agent.

Every 32 ms tick the channel hands the agent the frame the user just finished "saying" and takes the
frame the agent plays next, on one clock; the agent keeps hearing the user while it speaks. Input
frame k covers [(k-1)·dt, k·dt) and is delivered at k·dt, when it has been fully captured, so latency
measured on this channel is not flattered by the frame size. Works on a real or a virtual clock.

The user side follows a script: by default each line starts `gap_s` after the agent has gone quiet
(or after `reply_timeout_s` if it never answers); a line with `after_agent_starts_s` instead starts
that long after the agent's reply becomes audible — a barge-in or a backchannel over the agent (the
agent's own backchannels do not count as a reply).
When a line has been played, a `sim_utterance` event records its true start and end, the ground
truth that latency is measured from.

`echo_db` mixes the agent's output back into the user's channel, attenuated and delayed by
`echo_delay_s`, as a speakerphone does; `line` (bench/conditions.py) is the line between caller and
agent, a stateful filter applied to every frame the agent hears (a phone line, a noisy room). The
recording keeps the user's voice as said, alone, on the left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from parley.architectures.base import DuplexAgent
from parley.audio.frame import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioFrame
from parley.audio.recorder import ConversationRecorder
from parley.clock import Clock
from parley.events import Event, EventLog, RecordingStarted, SimUtterance


@dataclass
class UserLine:
    text: str
    pcm: np.ndarray  # 16 kHz mono float32, trimmed to the speech
    gap_s: float = 0.8  # silence after the agent went quiet before this line starts
    after_agent_starts_s: float | None = None  # instead: start this long after the agent's reply is audible
    pauses: tuple[tuple[float, float], ...] = ()  # (start, end) s of each pause inside the line, from its start
    readback: str | None = None  # the true value this line gives: checked against the agent's read-back
    answers: tuple["UserLine", ...] | None = None  # (confirm, correction, …): said after a read-back
    again: Callable[[], "UserLine"] | None = None  # the line said again when the agent did not catch it


MAX_ANSWERS = 3  # read-backs a caller answers per line before carrying on


def reads_back(value: str, heard: str) -> bool:
    """Does the agent's `heard` read-back carry `value` ("j.okafor@gmail.com" in "j dot okafor at
    gmail dot com", "ALVAREZ" in "A-L-V-A-R-E-Z")?"""
    import re

    spoken = f" {heard.lower()} ".replace(" dot ", ".").replace(" at ", "@")
    return re.sub(r"[^a-z0-9]", "", value.lower()) in re.sub(r"[^a-z0-9]", "", spoken)


class LoopbackChannel:
    def __init__(self, agent: DuplexAgent, clock: Clock, log: EventLog, lines: list[UserLine], *,
                 recorder: ConversationRecorder | None = None, lead_in_s: float = 0.5,
                 reply_timeout_s: float = 15.0, tail_s: float = 1.0, max_s: float | None = None,
                 echo_db: float | None = None, echo_delay_s: float = 0.045,
                 line: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.agent = agent
        self.clock = clock
        self.log = log
        self.lines = lines
        self.recorder = recorder or ConversationRecorder()
        self.lead_in_s = lead_in_s
        self.reply_timeout_s = reply_timeout_s
        self.tail_s = tail_s
        # A safety bound, never reached by a script that runs normally: each line starts at most
        # `reply_timeout_s` after the previous one ended (a fixed cap cut 100-turn calls at 10 min).
        self.max_s = max_s if max_s is not None else (
            lead_in_s + sum(len(line.pcm) / SAMPLE_RATE + reply_timeout_s for line in lines) + reply_timeout_s + tail_s)
        self.echo_gain = None if echo_db is None else 10 ** (echo_db / 20)
        self.echo_delay = int(round(echo_delay_s * SAMPLE_RATE))
        self.line = line
        self._agent_started: float | None = None  # when the latest agent reply became audible
        self._read_backs: dict[int, str] = {}  # agent turn → read-back action ("confirm" | "state")
        self._replies: list[tuple[float, int, str]] = []  # (t, turn, heard) of each finished agent turn
        log.subscribe(self._on_event)

    def _on_event(self, ev: Event) -> None:
        if ev.kind == "agent_audio_started" and ev.turn > 0:  # a reply, not the agent's own "mhm"
            self._agent_started = ev.t
        elif ev.kind == "read_back":
            self._read_backs[ev.turn] = ev.action
        elif ev.kind == "agent_turn":
            self._replies.append((ev.t, ev.turn, ev.agent))

    def _answer(self, line: UserLine, since: float, wrong_before: int) -> UserLine | None:
        """The caller's answer to a read-back heard after `since`: the line again when the agent did
        not catch it; confirm a read-back when right (and asked), correct it when wrong or when asked
        to say the value again (the n-th correction with the n-th answer line, the last repeated);
        None when the agent read nothing back."""
        for t, turn, heard in self._replies:
            if t > since and turn in self._read_backs:
                if self._read_backs[turn] == "unclear" or (self._read_backs[turn] == "ask_again" and not line.answers):
                    return line.again() if line.again is not None else None  # asked to say it again: they do
                if not line.answers:
                    return None
                if self._read_backs[turn] != "ask_again" and reads_back(line.readback, heard):
                    return line.answers[0] if self._read_backs[turn] == "confirm" else None
                return line.answers[min(1 + wrong_before, len(line.answers) - 1)]
        return None

    async def run(self) -> None:
        dt = FRAME_SECONDS
        line_i, pos = 0, -1           # pos < 0: waiting to start line_i
        said: UserLine | None = None  # the line being played (a scripted one, or an answer)
        answered = 0                  # read-backs answered after the last scripted line
        quiet_since = self.clock.now()  # when the agent last became idle
        line_end = self.clock.now()   # true end of the previous line
        line_start = 0.0
        k = 1
        # agent output played so far (most recent last), for the echo path: the frame heard at input
        # frame k is the agent audio that ended echo_delay before it
        echo_tail = _Tail(FRAME_SAMPLES + self.echo_delay + FRAME_SAMPLES)
        t0 = self.clock.now()         # the channel opens now; models were warmed before
        self.recorder.origin = t0
        self.log.emit(RecordingStarted, t=t0)
        while True:
            t_in = t0 + (k - 1) * dt  # start of the input frame being delivered
            t_out = t0 + k * dt       # start of the output frame to play next
            await self.clock.sleep_until(t_out)

            if self.agent.busy:
                quiet_since = t_in + dt
            if pos < 0:
                idle_for = t_in - max(quiet_since, line_end)
                timed_out = line_i > 0 and t_in - line_end >= self.reply_timeout_s
                first_ready = line_i == 0 and t_in - t0 >= self.lead_in_s
                prev = self.lines[line_i - 1] if line_i > 0 else None
                answer = None
                if prev is not None and (prev.answers or prev.again) and answered < MAX_ANSWERS \
                        and idle_for >= (prev.answers[0].gap_s if prev.answers else prev.gap_s):
                    answer = self._answer(prev, line_end, answered)
                if answer is not None:
                    said, pos, line_start = answer, 0, t_in
                    answered += 1
                elif line_i < len(self.lines):
                    nxt = self.lines[line_i]
                    if nxt.after_agent_starts_s is not None:
                        heard = self._agent_started is not None and self._agent_started >= line_end
                        go = heard and t_in >= self._agent_started + nxt.after_agent_starts_s
                        go = go or timed_out
                    else:
                        go = first_ready or (line_i > 0 and (idle_for >= nxt.gap_s or timed_out))
                    if go:
                        said, pos, line_start, answered = nxt, 0, t_in, 0
                elif idle_for >= self.tail_s or timed_out or t_in - t0 >= self.max_s:
                    break

            pcm = np.zeros(FRAME_SAMPLES, dtype=np.float32)
            if pos >= 0:
                line = said
                piece = line.pcm[pos:pos + FRAME_SAMPLES]
                pcm[:len(piece)] = piece
                pos += FRAME_SAMPLES
                if pos >= len(line.pcm):
                    line_end = line_start + len(line.pcm) / SAMPLE_RATE
                    is_answer = line is not self.lines[line_i] if line_i < len(self.lines) else True
                    self.log.emit(SimUtterance, t=line_end, index=line_i - 1 if is_answer else line_i, text=line.text,
                                  start=round(line_start, 4), end=round(line_end, 4), answer=is_answer,
                                  pauses=[[round(line_start + a, 4), round(line_start + b, 4)] for a, b in line.pauses])
                    if not is_answer:
                        line_i += 1
                    pos = -1
                    quiet_since = line_end

            self.recorder.add_user(t_in, pcm)
            heard = pcm
            if self.echo_gain is not None:
                heard = pcm + self.echo_gain * echo_tail[-(FRAME_SAMPLES + self.echo_delay):][:FRAME_SAMPLES]
            if self.line is not None:
                heard = self.line(heard)
            self.agent.push_audio(AudioFrame(heard.astype(np.float32), SAMPLE_RATE, t_in))
            out = self.agent.pull_audio(FRAME_SAMPLES, t_out)
            self.recorder.add_agent(t_out, out)
            echo_tail.append(out)
            k += 1
            if t_in - t0 >= self.max_s:
                break


class Loopback:
    """The loopback line as a `Transport`: the scripted `lines` played into a session's agent."""

    def __init__(self, lines: list[UserLine], **options) -> None:
        self.lines = lines
        self.options = options  # LoopbackChannel's: gaps, timeouts, echo, the caller's line

    async def run(self, session) -> None:
        await LoopbackChannel(session.agent, session.clock, session.log, self.lines, recorder=session.recorder,
                              **self.options).run()


class _Tail:
    """The last `n` samples of a stream, sliceable (oldest first)."""

    def __init__(self, n: int) -> None:
        self._buf = np.zeros(n, dtype=np.float32)

    def append(self, pcm: np.ndarray) -> None:
        k = len(pcm)
        self._buf = np.concatenate([self._buf[k:], pcm])

    def __getitem__(self, item):
        return self._buf[item]
