"""The chat model's P(sentence end) on finished lines and on the words before a caller's pause,
per embedded model: where the end-of-turn thresholds (`end_of_turn.P_UNFINISHED`,
`P_WORDS_DOUBTFUL`) fall on each model's distribution. Every scripted pause of the pause suites
(the built-in pause scenarios and the held-out one, as `pause_prosody.py` reads them) gives a
pair: the words before it (unfinished) and the whole line (finished); the latency
benchmark's lines are finished too. Written text, not Whisper's transcripts: the models' own
calibration, before the ASR's rewrites.

Usage: python benchmarks/finality.py [--llm quality,fast]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from parley.components import registry
from parley.dialogue.persona import system_prompt
from parley.duplex.end_of_turn import P_UNFINISHED, P_WORDS_DOUBTFUL

sys.path.insert(0, str(Path(__file__).parent))
from latency import LINES  # noqa: E402
from pause_prosody import DEFAULT, paused_lines  # noqa: E402


def pairs() -> list[tuple[str, str]]:
    """(words before the pause, the whole line) for every scripted pause."""
    return [(" ".join(pieces[: i + 1]).rstrip(",;:"), " ".join(pieces))
            for pieces in paused_lines(DEFAULT) for i in range(len(pieces) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default="quality,fast")
    args = ap.parse_args()
    cut = pairs()
    finished = [line for _, line in cut] + LINES
    print(f"{len(cut)} pre-pause fragments; {len(finished)} finished lines "
          f"(thresholds: unfinished < {P_UNFINISHED}, doubtful < {P_WORDS_DOUBTFUL})")
    for model in args.llm.split(","):
        engine = registry.llama_engine(model, 8192, 2)

        def p(words: str) -> float:
            return engine.read([{"role": "system", "content": system_prompt()},
                                    {"role": "user", "content": words}], words).p_final

        frag = np.array([p(f) for f, _ in cut])
        done = np.array([p(line) for line in finished])
        print(f"\n{model}: P(sentence end)   median   below {P_UNFINISHED}   below {P_WORDS_DOUBTFUL}")
        print(f"  before a pause     {np.median(frag):6.3f}   {np.mean(frag < P_UNFINISHED):8.2f}   {np.mean(frag < P_WORDS_DOUBTFUL):8.2f}")
        print(f"  finished lines     {np.median(done):6.3f}   {np.mean(done < P_UNFINISHED):8.2f}   {np.mean(done < P_WORDS_DOUBTFUL):8.2f}")
        low = sorted(zip(done, finished))[:4]
        print("  lowest finished: " + "; ".join(f"{v:.3f} {t!r}" for v, t in low))


if __name__ == "__main__":
    main()
