"""Greedy against beam search for the ASR pass a reply is built on, per caller voice and line.

The same caller sentences as `voices_wer.py` (the set the team has looked at) and 20 sentences
written for this comparison and not used to choose anything else (held out: other names, codes,
places and requests), each voice on each line, transcribed by `WhisperASR.transcribe_final` at each
beam width. WER on normalized words as in `voices_wer.py`; time per call, median over all calls.

Usage: python benchmarks/asr_beam.py [--beams 1,5] [--voices all] [--conditions clean,phone] [--json FILE]
"""

from __future__ import annotations

import json
import platform
import statistics
import time

from voices_wer import SENTENCES, caller_options, edit_distance, spoken, words

from parley.components import registry

HELD_OUT = [
    "My account number is three one eight eight zero six.",
    "Please call me on seven seven two four nine one three.",
    "The serial number on the box is R T nine five one.",
    "My booking reference is M Q eight three two.",
    "I am on flight B A two seventy one tomorrow.",
    "The name is Kowalski, K O W A L S K I.",
    "You can reach me at maria dot lopez at yahoo dot com.",
    "Ship it to two hundred Elm Street, suite four.",
    "Can I book a table for Friday the ninth of June?",
    "We just moved to Schenectady last spring.",
    "The voucher code is H four W nine.",
    "I was charged sixty two dollars and fifteen cents.",
    "I bought a kettle and the lid came off.",
    "Is it possible to change the delivery address?",
    "The courier never rang the doorbell.",
    "I would like to cancel my subscription please.",
    "My zip code is nine four one one zero.",
    "The package weighs about three kilos.",
    "I need the invoice for my accountant.",
    "Does the warranty cover water damage?",
]


def main() -> None:
    ap = caller_options(__doc__.splitlines()[0], "clean,phone")
    ap.add_argument("--beams", default="1,5")
    args = ap.parse_args()
    beams = [int(b) for b in args.beams.split(",")]
    asr = registry.whisper()
    audio: dict[tuple[str, str, str], list] = {}
    for name, sents in (("seen", SENTENCES), ("held-out", HELD_OUT)):
        for voice, cond, sentence, pcm in spoken(args.voices, args.conditions, sents):
            audio.setdefault((voice, cond, name), []).append((sentence, pcm))
    rows, times = [], {b: [] for b in beams}
    for (voice, cond, name), items in audio.items():
        row = {"voice": voice, "condition": cond, "set": name}
        for beam in beams:
            errors = total = 0
            for sentence, pcm in items:
                t0 = time.perf_counter()
                hyp, _confidence = asr.transcribe_final(pcm, None, beam)
                times[beam].append(time.perf_counter() - t0)
                errors += edit_distance(words(sentence), words(hyp))
                total += len(words(sentence))
            row[f"wer_beam{beam}"] = round(errors / total, 3)
        rows.append(row)
        print(f"{voice:16s} {cond:6s} {name:9s}", "  ".join(f"beam {b}: {100 * row[f'wer_beam{b}']:5.1f} %"
                                                            for b in beams), flush=True)
    summary = {}
    for beam in beams:
        for name in ("seen", "held-out"):
            vals = [r[f"wer_beam{beam}"] for r in rows if r["set"] == name]
            summary[f"beam{beam} {name} mean wer"] = round(sum(vals) / len(vals), 3)
        summary[f"beam{beam} ms per call p50"] = round(1000 * statistics.median(times[beam]), 1)
    report(summary, rows, args.json)


def report(summary: dict, rows: list[dict], path: str | None) -> None:
    """The summary printed; with `path`, summary and rows written there with the machine."""
    print(json.dumps(summary, indent=1))
    if path:
        with open(path, "w") as f:
            json.dump({"machine": platform.platform(), "summary": summary, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
