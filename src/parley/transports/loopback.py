"""A simulated full-duplex channel between a scripted user and an agent.

Every 32 ms tick the channel hands the agent the frame the user just finished "saying" and takes the
frame the agent plays next, on one clock; the agent keeps hearing the user while it speaks. Input
frame k covers [(k-1)·dt, k·dt) and is delivered at k·dt, when it has been fully captured, so latency
measured on this channel is not flattered by the frame size. Works on a real or a virtual clock.

The user side follows a script: each line starts `gap_s` after the agent has gone quiet (or after
`reply_timeout_s` if it never answers). When a line has been played, a `sim_utterance` event records
its true start and end, the ground truth that latency is measured from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.architectures.base import DuplexAgent
from parley.audio.frame import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioFrame
from parley.audio.recorder import ConversationRecorder
from parley.clock import Clock
from parley.events import EventLog, SimUtterance


@dataclass
class UserLine:
    text: str
    pcm: np.ndarray  # 16 kHz mono float32, trimmed to the speech
    gap_s: float = 0.8  # silence after the agent went quiet before this line starts


class LoopbackChannel:
    def __init__(self, agent: DuplexAgent, clock: Clock, log: EventLog, lines: list[UserLine], *,
                 recorder: ConversationRecorder | None = None, lead_in_s: float = 0.5,
                 reply_timeout_s: float = 15.0, tail_s: float = 1.0, max_s: float = 600.0) -> None:
        self.agent = agent
        self.clock = clock
        self.log = log
        self.lines = lines
        self.recorder = recorder or ConversationRecorder()
        self.lead_in_s = lead_in_s
        self.reply_timeout_s = reply_timeout_s
        self.tail_s = tail_s
        self.max_s = max_s

    async def run(self) -> None:
        dt = FRAME_SECONDS
        line_i, pos = 0, -1           # pos < 0: waiting to start line_i
        quiet_since = self.clock.now()  # when the agent last became idle
        line_end = self.clock.now()   # true end of the previous line
        line_start = 0.0
        k = 1
        t0 = self.clock.now()         # the channel opens now; models were warmed before
        self.recorder.origin = t0
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
                if line_i < len(self.lines):
                    gap = self.lines[line_i].gap_s
                    if first_ready or (line_i > 0 and (idle_for >= gap or timed_out)):
                        pos, line_start = 0, t_in
                elif idle_for >= self.tail_s or timed_out or t_in - t0 >= self.max_s:
                    break

            pcm = np.zeros(FRAME_SAMPLES, dtype=np.float32)
            if pos >= 0:
                line = self.lines[line_i]
                piece = line.pcm[pos:pos + FRAME_SAMPLES]
                pcm[:len(piece)] = piece
                pos += FRAME_SAMPLES
                if pos >= len(line.pcm):
                    line_end = line_start + len(line.pcm) / SAMPLE_RATE
                    self.log.emit(SimUtterance, t=line_end, index=line_i, text=line.text,
                                  start=round(line_start, 4), end=round(line_end, 4))
                    line_i, pos = line_i + 1, -1
                    quiet_since = line_end

            self.recorder.add_user(t_in, pcm)
            self.agent.push_audio(AudioFrame(pcm, SAMPLE_RATE, t_in))
            out = self.agent.pull_audio(FRAME_SAMPLES, t_out)
            self.recorder.add_agent(t_out, out)
            k += 1
            if t_in - t0 >= self.max_s:
                break
