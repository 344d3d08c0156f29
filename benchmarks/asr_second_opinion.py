"""Whisper base as a second opinion on the final passes Whisper tiny.en is unsure of, per caller voice and line.

The same caller sentences as `asr_beam.py` (20 the team has looked at, 20 held out), each voice on each
line, through the reply's pass (`WhisperASR.transcribe_final`, beam 5) twice: tiny.en alone, and with
Whisper base decoding again every transcript whose confidence (lowest mean token log-probability) is
below `--below`, the surer reading kept (`[asr] second_opinion_below`). WER on normalized words as in
`voices_wer.py`; "ran" is the share of transcripts the second model was asked about; the time is the
whole final pass, median and p95 over all calls.

Usage: python benchmarks/asr_second_opinion.py [--below -0.5] [--voices all] [--conditions clean,phone] [--json FILE]
"""

from __future__ import annotations

import time

import numpy as np
from asr_beam import HELD_OUT, report
from voices_wer import SENTENCES, caller_options, edit_distance, spoken, words

from parley.components import registry


def main() -> None:
    ap = caller_options(__doc__.splitlines()[0], "clean,phone")
    ap.add_argument("--below", type=float, default=-0.5)
    args = ap.parse_args()
    alone, paired = registry.whisper(), registry.whisper(second_below=args.below)
    groups: dict[tuple[str, str, str], dict] = {}
    times: dict[str, list[float]] = {"alone": [], "second": []}
    for name, sents in (("seen", SENTENCES), ("held-out", HELD_OUT)):
        for voice, cond, sentence, pcm in spoken(args.voices, args.conditions, sents):
            g = groups.setdefault((voice, cond, name), {"words": 0, "alone": 0, "second": 0, "ran": 0, "n": 0})
            ref = words(sentence)
            for key, asr in (("alone", alone), ("second", paired)):
                t0 = time.perf_counter()
                hyp, confidence = asr.transcribe_final(pcm, None, 5)
                if key == "second":
                    hyp, _ = asr.second_opinion(pcm, None, 5, hyp, confidence)
                times[key].append(time.perf_counter() - t0)
                g[key] += edit_distance(ref, words(hyp))
                if key == "alone":
                    g["ran"] += bool(hyp) and confidence is not None and confidence < args.below
            g["words"] += len(ref)
            g["n"] += 1
    rows = []
    for (voice, cond, name), g in groups.items():
        row = {"voice": voice, "condition": cond, "set": name, "wer_alone": round(g["alone"] / g["words"], 3),
               "wer_second": round(g["second"] / g["words"], 3), "ran": round(g["ran"] / g["n"], 2)}
        rows.append(row)
        print(f"{voice:16s} {cond:6s} {name:9s} tiny {100 * row['wer_alone']:5.1f} %  with base "
              f"{100 * row['wer_second']:5.1f} %  ran {row['ran']:.2f}", flush=True)
    summary = {"below": args.below}
    for name in ("seen", "held-out"):
        sel = [g for (_v, _c, n), g in groups.items() if n == name]
        words_n = sum(g["words"] for g in sel)
        summary[f"{name} wer alone"] = round(sum(g["alone"] for g in sel) / words_n, 3)
        summary[f"{name} wer with base"] = round(sum(g["second"] for g in sel) / words_n, 3)
    for key, ts in times.items():
        summary[f"{key} ms p50 / p95"] = [round(1000 * float(np.percentile(ts, q)), 1) for q in (50, 95)]
    report(summary, rows, args.json)


if __name__ == "__main__":
    main()
