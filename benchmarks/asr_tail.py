"""Words after a pause inside a turn: does the turn's final ASR pass keep them?

Whisper often ends a transcript at a long pause ("my order number is … four four one seven two" →
"My order number is."). The engine's final pass joins on the audio after the pause, heard alone,
where the whole turn's pass adds nothing to the pass made at the pause
(`components/asr/stream.py`, `TAIL_MIN_S`). This runs every scripted line with pauses of the
pause scenarios (the built-in ones and the held-out one) the way the engine hears it: the caller's
voice cut between the pieces (`voices.speak_in_pieces`), 1.3 s of silence at each pause, the
pre-roll before it, on each line condition, starting at a few sub-frame offsets (the result moves
with them). The pass at the last pause is the head. A line's tail counts as lost when under half of
its scripted letters and digits are found at the end of the transcript.

Prints per voice and condition: passes, tails lost by the whole pass alone, tails lost with the
join, how many extra tail passes ran and their median time.

Usage: python benchmarks/asr_tail.py [--voices joe,espeak-us-f,espeak-rp-f] [--conditions clean,phone]
                                     [--offsets-ms 0,16,32]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from difflib import SequenceMatcher

import numpy as np
from pause_prosody import DEFAULT, paused_lines

from parley.audio.frame import SAMPLE_RATE
from parley.bench.conditions import active_rms, line_filter
from parley.bench.voices import parse_voices, speak_in_pieces
from parley.clock import RealClock
from parley.components import registry
from parley.components.asr.stream import StreamingTranscriber, _chars

PAUSE_S = 1.3
PREROLL_S = 0.32  # the engine hands ASR the pre-roll before the onset
NOTICED_S = 0.096  # the pass at a pause starts after this much silence


class Counted:
    """The ASR, timing each final pass made through it: the transcriber's tail passes."""

    def __init__(self, asr) -> None:
        self.asr = asr
        self.ms: list[float] = []

    def transcribe(self, pcm, prompt=None):
        return self.asr.transcribe(pcm, prompt)

    def transcribe_final(self, pcm, prompt=None, beam_size=5):
        t0 = time.perf_counter()
        try:
            return self.asr.transcribe_final(pcm, prompt, beam_size)
        finally:
            self.ms.append((time.perf_counter() - t0) * 1000)


def lost(tail: str, text: str) -> bool:
    said, end = _chars(tail), _chars(text)
    return SequenceMatcher(None, said, end[-len(said):]).ratio() < 0.5 if said else False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default="joe,espeak-us-f,espeak-rp-f")
    ap.add_argument("--conditions", default="clean,phone")
    ap.add_argument("--offsets-ms", default="0,16,32")
    args = ap.parse_args()
    asr = registry.whisper()
    counted = Counted(asr)
    st = StreamingTranscriber(counted, RealClock())
    offsets = [int(x) / 1000 for x in args.offsets_ms.split(",")]
    lines = paused_lines(DEFAULT)
    print(f"{platform.processor() or platform.machine()}; {len(lines)} lines, offsets {args.offsets_ms} ms")
    print(f"{'voice':<14}{'line':<7}{'passes':>7}{'lost, whole':>13}{'lost, joined':>14}{'tail passes':>13}{'median ms':>11}")
    total = [0, 0, 0, 0]
    for voice in parse_voices(args.voices):
        for condition in args.conditions.split(","):
            n = whole_lost = joined_lost = 0
            tail_ms: list[float] = []
            for pieces in lines:
                said = speak_in_pieces(pieces, voice)
                gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
                body = np.concatenate([x for p in said for x in (p, gap)][:-1])
                head_end = len(body) - len(said[-1]) - len(gap) + int(NOTICED_S * SAMPLE_RATE)
                for off in offsets:
                    lead = np.zeros(int((PREROLL_S + off) * SAMPLE_RATE), np.float32)
                    clip = np.concatenate([lead, body, np.zeros(int(0.1 * SAMPLE_RATE), np.float32)])
                    f = line_filter(condition, active_rms(body))
                    if f is not None:
                        clip = f(clip)
                    h = len(lead) + head_end
                    head = asr.transcribe_final(clip[:h])[0]
                    whole = asr.transcribe_final(clip)[0]
                    passes = len(counted.ms)
                    joined = st._with_tail(clip, whole, (h, head))
                    tail_ms += counted.ms[passes:]
                    n += 1
                    whole_lost += lost(pieces[-1], whole)
                    joined_lost += lost(pieces[-1], joined)
            med = f"{statistics.median(tail_ms):.0f}" if tail_ms else "-"
            print(f"{voice:<14}{condition:<7}{n:>7}{whole_lost:>13}{joined_lost:>14}{len(tail_ms):>13}{med:>11}")
            total = [total[0] + n, total[1] + whole_lost, total[2] + joined_lost, total[3] + len(tail_ms)]
    print(f"{'all':<21}{total[0]:>7}{total[1]:>13}{total[2]:>14}{total[3]:>13}")


if __name__ == "__main__":
    main()
