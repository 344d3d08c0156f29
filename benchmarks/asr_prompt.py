"""Can a prompt make Whisper keep what a caller says before a pause ("… and", "the", a half-said number)?

Whisper tiny drops or rewrites the word before a pause inside a turn ("Could you send a replacement
or" → "Can you send a replacement?"), so the transcript reads finished and no word cue holds the
floor. Whisper's prompt steers its style (a disfluent, trailing prompt is the known way to keep
fillers). For every pause scripted in the pause scenarios (the built-in ones and the held-out one),
the final pass made at the pause — the pieces so far, cut from the whole line, the silence heard
before the pass — with each prompt against none: how often a word cue then holds the pause
(`end_of_turn.hold_cue`) and how often the last scripted word is the transcript's last. The price,
on finished lines (every paused line whole, and `voices_wer.py`'s 20 sentences): word error rate and
how often a cue wrongly holds the line. The prompts were written before the first run.

Usage: python benchmarks/asr_prompt.py [--voices joe,espeak-us-f,espeak-rp-f] [--conditions clean,phone]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
from asr_tail import NOTICED_S, PAUSE_S, PREROLL_S
from pause_prosody import DEFAULT, paused_lines
from voices_wer import SENTENCES, edit_distance, through, words

from parley.audio.frame import SAMPLE_RATE
from parley.bench.voices import parse_voices, speak_as_user, speak_in_pieces
from parley.components import registry
from parley.duplex.end_of_turn import hold_cue

PROMPTS = {
    "none": None,
    "trailing": "So I, um, ordered the... and then, uh, my number is four, seven... and",
    "fillers": "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking.",
}


def last_word_kept(piece: str, text: str) -> bool:
    said, heard = words(piece), words(text)
    return bool(said and heard and said[-1] == heard[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default="joe,espeak-us-f,espeak-rp-f")
    ap.add_argument("--conditions", default="clean,phone")
    args = ap.parse_args()
    asr = registry.whisper()
    lines = paused_lines(DEFAULT)
    lead = np.zeros(int(PREROLL_S * SAMPLE_RATE), np.float32)
    gap = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
    noticed = np.zeros(int(NOTICED_S * SAMPLE_RATE), np.float32)

    def as_heard(said: list[np.ndarray]) -> np.ndarray:
        """Pieces joined by the scripted pause, with the pre-roll before and the silence the pass waits for."""
        return np.concatenate([lead, *[x for p in said for x in (p, gap)][:-1], noticed])

    print(f"{platform.processor() or platform.machine()}; {len(lines)} paused lines, {len(SENTENCES)} sentences")
    print(f"{'voice':<13}{'line':<7}{'prompt':<10}{'pauses':>7}{'held':>6}{'kept':>6}"
          f"{'finished':>10}{'held':>6}{'WER':>7}{'ms p50':>8}")
    totals: dict[str, list[int]] = {}
    for voice in parse_voices(args.voices):
        for condition in args.conditions.split(","):
            at_pause, finished = [], []  # (clip, scripted words before the pause / the whole line)
            for pieces in lines:
                said = speak_in_pieces(pieces, voice)
                at_pause += [(as_heard(said[: i + 1]), pieces[i]) for i in range(len(pieces) - 1)]
                finished.append((as_heard(said), " ".join(pieces)))
            finished += [(as_heard([speak_as_user(s, voice)]), s) for s in SENTENCES]
            at_pause = [(through(condition, clip), text) for clip, text in at_pause]
            finished = [(through(condition, clip), text) for clip, text in finished]
            for name, prompt in PROMPTS.items():
                ms: list[float] = []

                def hear(clip: np.ndarray) -> str:
                    t0 = time.perf_counter()
                    text = asr.transcribe_final(clip, prompt)[0]
                    ms.append((time.perf_counter() - t0) * 1000)
                    return text

                heard = [(hear(clip), text) for clip, text in at_pause]
                held = sum(hold_cue(h) is not None for h, _ in heard)
                kept = sum(last_word_kept(t, h) for h, t in heard)
                whole = [(hear(clip), text) for clip, text in finished]
                wrongly = sum(hold_cue(h) is not None for h, _ in whole)
                errors = sum(edit_distance(words(t), words(h)) for h, t in whole)
                counts = (len(heard), held, kept, len(whole), wrongly, errors, sum(len(words(t)) for _, t in whole))
                totals[name] = [a + b for a, b in zip(totals.get(name, [0] * len(counts)), counts)]
                print(f"{voice:<13}{condition:<7}{name:<10}{len(heard):>7}{held:>6}{kept:>6}{len(whole):>10}"
                      f"{wrongly:>6}{errors / counts[-1]:>7.3f}{statistics.median(ms):>8.0f}", flush=True)
    for name, (n, held, kept, m, wrongly, errors, total) in totals.items():
        print(f"{'all':<20}{name:<10}{n:>7}{held:>6}{kept:>6}{m:>10}{wrongly:>6}{errors / total:>7.3f}")


if __name__ == "__main__":
    main()
