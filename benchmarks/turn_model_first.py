"""Smart Turn beside Whisper's final pass, or before it: what the end-of-turn verdict and the
transcript each cost when they share the two cores, and when the short call goes first
(`duplex.engine.JUDGE_FIRST_S`). Lines in the bench's default caller voice, each after 0.5 s of
silence; medians over `--repeat` passes of every line. Nothing else may run meanwhile.

Usage: python benchmarks/turn_model_first.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

from parley.bench.voices import speak_as_user
from parley.components import registry

LINES = ["The order number is three eight two five one.", "Can you tell me when it will arrive?",
         "I think I'd like the blue ones instead.", "My email is dan at example dot com."]


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    audio = [np.concatenate([np.zeros(8000, np.float32), speak_as_user(line)]) for line in LINES] * args.repeat
    asr, turn = registry.whisper(), registry.smart_turn()
    turn.predict(audio[0]), asr.transcribe_final(audio[0])  # warm both

    def timed(fn, a) -> float:
        t0 = time.perf_counter()
        fn(a)
        return time.perf_counter() - t0

    turn_alone = [timed(turn.predict, a) for a in audio]
    asr_alone = [timed(asr.transcribe_final, a) for a in audio]
    side = {"turn": [], "asr": []}
    first = {"turn": [], "asr": []}
    for a in audio:
        t0, done = time.perf_counter(), {}
        worker = threading.Thread(target=lambda: (asr.transcribe_final(a), done.setdefault("t", time.perf_counter())))
        worker.start()
        turn.predict(a)
        side["turn"].append(time.perf_counter() - t0)
        worker.join()
        side["asr"].append(done["t"] - t0)
        t0 = time.perf_counter()
        turn.predict(a)
        first["turn"].append(time.perf_counter() - t0)
        asr.transcribe_final(a)
        first["asr"].append(time.perf_counter() - t0)
    print(f"{len(audio)} passes, medians in ms (verdict: Smart Turn done; transcript: Whisper's final pass done)")
    print(f"  alone:               Smart Turn {_ms(turn_alone):>5}   Whisper {_ms(asr_alone):>5}")
    print(f"  side by side:        verdict    {_ms(side['turn']):>5}   transcript {_ms(side['asr']):>5}")
    print(f"  Smart Turn first:    verdict    {_ms(first['turn']):>5}   transcript {_ms(first['asr']):>5}")


if __name__ == "__main__":
    main()
