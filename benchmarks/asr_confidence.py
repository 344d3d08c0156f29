"""How well the ASR's own confidence tells a garbled transcript from a good one.

Every bench voice says the `voices_wer.py` sentences and `asr_beam.py`'s held-out ones on the
clean and phone lines; each is transcribed by the reply's pass (`WhisperASR.transcribe_final`,
beam 5), which also returns the decoder's lowest mean token log-probability. For each threshold:
how many transcripts fall below it, how many of those are garbled (WER ≥ 50 %) and how many were
in fact good (WER ≤ 10 %) — a good transcript below the threshold is a caller asked to repeat for
nothing; joe (the clearest voice) is counted apart. Then the lines below the agent's threshold
(`[asr] unclear_below`) are said again a fifth slower, as the simulated caller does when asked, and
heard again.

Usage: python benchmarks/asr_confidence.py [--voices all] [--conditions clean,phone] [--json FILE]
"""

from __future__ import annotations

import json
import platform

from asr_beam import HELD_OUT
from voices_wer import SENTENCES, caller_options, edit_distance, spoken, through, words

from parley.bench.voices import speak_as_user
from parley.components import registry
from parley.config import AgentConfig

THRESHOLDS = (-0.5, -0.6, -0.7, -0.8, -0.9, -1.0)


def main() -> None:
    args = caller_options(__doc__.splitlines()[0], "clean,phone").parse_args()
    asr = registry.whisper()
    rows = []
    for voice, cond, sentence, pcm in spoken(args.voices, args.conditions, SENTENCES + HELD_OUT):
        text, logprob = asr.transcribe_final(pcm, None, 5)
        wer = edit_distance(words(sentence), words(text)) / len(words(sentence))
        rows.append({"voice": voice, "condition": cond, "sentence": sentence, "heard": text,
                     "logprob": logprob, "wer": round(wer, 3)})
    garbled = sum(r["wer"] >= 0.5 for r in rows)
    print(f"{len(rows)} transcripts, {garbled} garbled (WER >= 50 %)")
    print(f"{'below':>7} {'flagged':>8} {'garbled':>8} {'good':>6} {'joe':>5} {'garbled missed':>15}")
    table = []
    for thr in THRESHOLDS:
        low = [r for r in rows if r["logprob"] is not None and r["logprob"] < thr]
        row = {"threshold": thr, "flagged": len(low), "garbled": sum(r["wer"] >= 0.5 for r in low),
               "good": sum(r["wer"] <= 0.1 for r in low), "joe": sum(r["voice"] == "joe" for r in low)}
        row["garbled_missed"] = garbled - row["garbled"]
        table.append(row)
        print(f"{thr:>7} {row['flagged']:>8} {row['garbled']:>8} {row['good']:>6} {row['joe']:>5} {row['garbled_missed']:>15}")
    # what asking helps: the lines below the agent's threshold said again, slower, as the simulated caller does
    below = AgentConfig().asr.unclear_below
    flagged = [r for r in rows if r["logprob"] is not None and r["logprob"] < below]
    again = []
    for r in flagged:
        text, _ = asr.transcribe_final(through(r["condition"], speak_as_user(r["sentence"], r["voice"], slower=True)),
                                       None, 5)
        again.append(edit_distance(words(r["sentence"]), words(text)) / len(words(r["sentence"])))
    said_again = {"threshold": below, "lines": len(flagged),
                  "wer_first": round(sum(r["wer"] for r in flagged) / max(1, len(flagged)), 3),
                  "wer_said_again_slower": round(sum(again) / max(1, len(again)), 3)}
    print(f"below {below}: {len(flagged)} lines, mean WER {said_again['wer_first']} heard first, "
          f"{said_again['wer_said_again_slower']} said again slower")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "thresholds": table, "said_again": said_again, "rows": rows},
                      f, indent=2)


if __name__ == "__main__":
    main()
