"""How hard each caller voice and line is for the agent's ASR: Whisper tiny.en word error rate.

Every bench voice (`parley voices`) says the same 20 caller sentences — digit-heavy ones (order and
phone numbers) and the entities callers give (spelled surnames, e-mail addresses, flight and policy
codes, street addresses, dates, place names) — on each line (clean, phone, noisy; `echo` needs an
agent speaking, so it is not a property of the caller's audio). Each line is transcribed by the
agent's own ASR path (`WhisperASR.transcribe`, the 10 s window). WER is computed on normalized words
(lower case, no punctuation, numbers as digits one per word, spelled letters joined), so "4 7 1 9 2",
"47192" and "four seven one nine two" are the same words and only real mishearings count.

Usage: python benchmarks/voices_wer.py [--voices all] [--conditions clean,phone,noisy] [--json FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import re

import numpy as np

from parley.bench.conditions import active_rms, line_filter, parse_conditions
from parley.bench.voices import parse_voices, speak_as_user
from parley.components import registry
from parley.textnorm import digits_of, unspell

SENTENCES = [
    "My order number is four seven one nine two.",
    "You can call me back on five five five zero one eight two.",
    "The tracking number ends in four eight eight two.",
    "My policy number is P X seven seven three zero one.",
    "I am flying on flight U A fourteen twenty nine.",
    "My last name is Alvarez, that is A L V A R E Z.",
    "The account is under Nguyen, N G U Y E N.",
    "My email is j dot okafor at gmail dot com.",
    "Please send it to fourteen Wexford Lane, apartment three B.",
    "I would like a fitting on Thursday the sixteenth of March.",
    "We are moving to Ypsilanti in Michigan next month.",
    "My confirmation code is K seven Q four two.",
    "The postcode is S W one A two A A.",
    "I paid forty nine dollars and ninety nine cents.",
    "My date of birth is the third of August nineteen eighty four.",
    "I ordered two shirts and only one of them arrived.",
    "Could you send a replacement or should I ask for a refund?",
    "The parcel was left outside so it got soaked in the rain.",
    "I want to return the boots because they are too small.",
    "Do you have the blue rain jacket in a size small?",
]


def words(text: str) -> list[str]:
    t = unspell(digits_of(text)).lower()
    t = re.sub(r"(\d)", r" \1 ", t)  # one digit per word: "47192" and "4 7 1 9 2" agree
    return re.sub(r"[^\w\s]", " ", t).split()


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def through(condition: str, pcm: np.ndarray) -> np.ndarray:
    line = line_filter(condition, active_rms(pcm), seed=7)
    if line is None:
        return pcm
    n = len(pcm) // 512 * 512 + 512
    padded = np.zeros(n, np.float32)
    padded[:len(pcm)] = pcm
    return np.concatenate([line(padded[i:i + 512]) for i in range(0, n, 512)])


def caller_options(description: str, conditions: str) -> argparse.ArgumentParser:
    """The options every caller-voice ASR benchmark takes (`asr_beam.py`, `asr_confidence.py`)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--voices", default="all")
    ap.add_argument("--conditions", default=conditions)
    ap.add_argument("--json", default=None)
    return ap


def spoken(voices: str, conditions: str, sentences: list[str]):
    """(voice, condition, sentence, what the agent hears) for every sentence in every voice on every line."""
    for voice in parse_voices(voices):
        for cond in parse_conditions(conditions):
            for sentence in sentences:
                yield voice, cond, sentence, through(cond, speak_as_user(sentence, voice))


def main() -> None:
    args = caller_options(__doc__.splitlines()[0], "clean,phone,noisy").parse_args()
    asr = registry.whisper()
    rows = []
    heard = spoken(args.voices, args.conditions, SENTENCES)
    for (voice, cond), said in itertools.groupby(heard, key=lambda x: x[:2]):
        errors = total = 0
        for _, _, s, pcm in said:
            ref = words(s)
            errors += edit_distance(ref, words(asr.transcribe(pcm)))
            total += len(ref)
        rows.append({"voice": voice, "condition": cond, "wer": round(errors / total, 3), "words": total})
        print(f"{voice:16s} {cond:7s} WER {100 * errors / total:5.1f} %  ({total} words)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "sentences": len(SENTENCES), "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
