"""Smart Turn on the words before a scripted pause: said alone (how the simulated caller used to say
them, ending on a sentence's final fall) against cut from the whole line (`voices.speak_in_pieces`,
how it says them now). A caller who is still talking does not sound finished; the count of pieces
Smart Turn hears as finished (P >= 0.5, its own threshold) says how far the simulator was from that.

Usage: python benchmarks/pause_prosody.py [--voices joe,espeak-us-f,...] [SCENARIO.yaml ...]
(default: the built-in pause scenarios and the held-out one, every voice)
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.bench.scenario import load_scenario
from parley.bench.user import pieces_of
from parley.bench.voices import parse_voices, speak_as_user, speak_in_pieces
from parley.components import registry

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = sorted(glob.glob(str(ROOT / "src/parley/bench/scenarios/turn-taking-pauses*.yaml"))) + \
    sorted(glob.glob(str(ROOT / "benchmarks/heldout/*pause*.yaml")))


def paused_lines(paths: list[str]) -> list[list[str]]:
    """Each scripted line with pauses, as the pieces between them."""
    return [pieces_of(turn) for path in paths for turn in load_scenario(path).turns if turn.all_pauses]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default="all")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    detector = registry.smart_turn()
    lines = paused_lines(args.scenarios or DEFAULT)
    window = 8 * SAMPLE_RATE
    print(f"{'voice':<16}{'pauses':>7}{'alone: P>=0.5':>15}{'cut: P>=0.5':>13}{'median alone':>14}{'median cut':>12}")
    total = [0, 0, 0]
    for name in parse_voices(args.voices):
        alone, cut = [], []
        for pieces in lines:
            said = speak_in_pieces(pieces, name)
            for i in range(len(pieces) - 1):
                alone.append(detector.predict(speak_as_user(pieces[i], name)[-window:]))
                cut.append(detector.predict(np.concatenate(said[: i + 1])[-window:]))
        a, c = sum(p >= 0.5 for p in alone), sum(p >= 0.5 for p in cut)
        total = [total[0] + len(alone), total[1] + a, total[2] + c]
        print(f"{name:<16}{len(alone):>7}{a:>15}{c:>13}{np.median(alone):>14.2f}{np.median(cut):>12.2f}")
    print(f"{'all':<16}{total[0]:>7}{total[1]:>15}{total[2]:>13}")


if __name__ == "__main__":
    main()
