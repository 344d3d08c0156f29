"""Spelled names through Whisper tiny: the first pass alone vs the letters-only second pass.

A caller says "Hi, my last name is Smith, that is A L V A R E Z." in each voice and line condition;
a name counts as heard when the fact grammar (`dialogue.entities.spelled`) reads exactly its
letters from the transcript. The second pass (`WhisperASR.respell`) runs only where the first pass
announces a spelling; its extra time is reported per respelled turn.

`--nato` spells with the NATO alphabet instead ("Alpha Lima Victor …").

Usage: python benchmarks/spelling_asr.py [--voices joe,espeak-us-f] [--conditions clean,phone] [--nato] [--show]
"""

from __future__ import annotations

import argparse
import platform
import os
import time

import numpy as np

from parley.bench.conditions import active_rms, line_filter
from parley.bench.voices import speak_as_user
from parley.components.asr.whisper import WhisperASR
from parley.dialogue.entities import NATO, spelled

NAMES = ["ALVAREZ", "NGUYEN", "OKAFOR", "KOWALSKI", "BRENNAN", "PATEL", "DUBOIS", "HAYASHI", "MORRISON", "QUINTERO",
         "FITZGERALD", "JABLONSKI"]


def spell(name: str, nato: bool) -> str:
    if not nato:
        return " ".join(name)
    word = {}
    for w, c in NATO.items():
        word.setdefault(c, w.capitalize())
    return " ".join(word[c] for c in name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", default="joe,espeak-us-f,espeak-us")
    ap.add_argument("--conditions", default="clean,phone")
    ap.add_argument("--nato", action="store_true", help="spell with the NATO alphabet")
    ap.add_argument("--show", action="store_true", help="print every transcript")
    args = ap.parse_args()
    asr = WhisperASR()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(NAMES)} names per cell")
    print(f"{'voice':16} {'line':6} {'first pass':>10} {'respelled':>10} {'2nd pass ms p50':>16}")
    for voice in args.voices.split(","):
        for cond in args.conditions.split(","):
            first_ok = second_ok = 0
            extra: list[float] = []
            for name in NAMES:
                pcm = speak_as_user(f"Hi, my last name is Smith, that is {spell(name, args.nato)}.", voice)
                filt = line_filter(cond, active_rms(pcm))
                pcm = filt(pcm) if filt is not None else pcm
                first = asr.transcribe(pcm)
                t0 = time.perf_counter()
                second = asr.respell(pcm, first)
                if second != first:
                    extra.append((time.perf_counter() - t0) * 1000)
                first_ok += name in [v for v, _ in spelled(first)]
                second_ok += name in [v for v, _ in spelled(second)]
                if args.show:
                    print(f"  {name}: {first!r} -> {second!r}")
            ms = f"{np.median(extra):.0f} (n={len(extra)})" if extra else "-"
            print(f"{voice:16} {cond:6} {first_ok:>7}/{len(NAMES)} {second_ok:>7}/{len(NAMES)} {ms:>16}", flush=True)


if __name__ == "__main__":
    main()
