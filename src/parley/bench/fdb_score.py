"""Full-Duplex-Bench v1 scores, computed from an exported sample tree by the official rules.

Implemented from the definitions in FDB's evaluation scripts (`v1_v1.5/evaluation/eval_*.py`,
REFERENCE.md §4), reading only what they read, so that running them on parley's export gives the
same figures:

- a sample *takes the turn* (TOR = 1) when its `output.json` has words and they are not a blip: the
  span from the first word's start to the last word's end under 1 s with at most 3 words is TOR 0;
- pause handling: mean TOR (lower is better);
- smooth turn-taking: mean TOR; latency = first word start − `turn_taking.json` timestamp[0]
  (negative → 0), averaged over TOR = 1 samples;
- user interruption: the same on the words after the interruption (`interrupt.json` timestamp[1]);
  the official script also asks GPT-4-turbo for a relevance rating, which needs no figure here;
- backchannel: Silero VAD segments of `output.wav` (threshold 0.5, 250 ms minimum speech, 100 ms
  minimum silence, 30 ms padding, times rounded to 0.1 s); a segment over 3 s is TOR 1 and ends the
  scan; otherwise each segment's verdict replaces the last (over 3 words → 1; under 1 s with at most
  2 words → 0; else 1), and counts as a backchannel; frequency = backchannels ÷ output seconds.
  The JSD against FDB's human distribution is not computed: that distribution belongs to FDB's own
  55 recordings, not to parley's samples.

Latencies are FDB's means, reported in ms. A task with no samples gives null.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE

TURN_MIN_S = 1.0            # a reply shorter than this …
TURN_MAX_BLIP_WORDS = 3     # … with at most this many words is not a turn
BC_TURN_S = 3.0             # a VAD segment longer than this is a turn, not a backchannel
BC_SHORT_S = 1.0
BC_SHORT_WORDS = 2
BC_MANY_WORDS = 3

TASK_KEYS = {"pause_handling": "pause", "smooth_turn_taking": "smooth",
             "user_interruption": "interruption", "backchannel": "backchannel"}


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def takes_turn(chunks: list[dict]) -> int:
    if not chunks:
        return 0
    first, last = chunks[0]["timestamp"], chunks[-1]["timestamp"]
    end = last[-1] if last[-1] is not None else last[0]
    return int(not (end - first[0] < TURN_MIN_S and len(chunks) <= TURN_MAX_BLIP_WORDS))


def _latency(chunks: list[dict], user_end: float) -> float:
    return max(0.0, chunks[0]["timestamp"][0] - user_end)


def pause_sample(d: Path) -> int:
    return takes_turn(_read(d / "output.json")["chunks"])


def smooth_sample(d: Path) -> tuple[int, float | None]:
    chunks = _read(d / "output.json")["chunks"]
    tor = takes_turn(chunks)
    return tor, _latency(chunks, _read(d / "turn_taking.json")[0]["timestamp"][0]) if tor else None


def interruption_sample(d: Path) -> tuple[int, float | None]:
    chunks = _read(d / "output.json")["chunks"]
    tor = takes_turn(chunks)
    return tor, _latency(chunks, _read(d / "interrupt.json")[0]["timestamp"][1]) if tor else None


def _segment_words(chunks: list[dict], start: float, end: float) -> list[str]:
    """The words FDB's backchannel script attributes to the VAD segment [start, end]."""
    words = []
    for c in chunks:
        a, b = c["timestamp"][0], c["timestamp"][1]
        if a is None or (b is None and a < end):
            continue
        b = a if b is None else b
        if (a >= start and b <= end) or (a <= end < b) or (a <= start < b):
            words.append(c["text"])
    return words


def backchannel_sample(d: Path, vad=None) -> tuple[int, float]:
    """(TOR, backchannels per second of output)."""
    from parley.audio.wavio import read_wav
    from parley.components.vad.silero import speech_timestamps

    pcm = read_wav(d / "output.wav")
    chunks = _read(d / "output.json")["chunks"]
    tor, backchannels = 0, 0
    for start, end in speech_timestamps(pcm, vad):
        if end - start > BC_TURN_S:
            tor = 1
            break
        n = len(_segment_words(chunks, start, end))
        tor = 1 if n > BC_MANY_WORDS else int(not (end - start < BC_SHORT_S and n <= BC_SHORT_WORDS))
        backchannels += 1
    seconds = len(pcm) / SAMPLE_RATE
    return tor, backchannels / seconds if seconds else 0.0


def _mean(xs, digits: int = 3) -> float | None:
    return round(float(np.mean(xs)), digits) if len(xs) else None


def _mean_ms(xs) -> float | None:
    return round(float(np.mean(xs)) * 1000, 1) if len(xs) else None


def fdb_scores(samples: dict[str, list[Path]]) -> dict:
    """The `fdb_*` keys of `turn_taking` from sample folders grouped by FDB task name."""
    pause = [pause_sample(d) for d in samples.get("pause_handling", [])]
    smooth = [smooth_sample(d) for d in samples.get("smooth_turn_taking", [])]
    intr = [interruption_sample(d) for d in samples.get("user_interruption", [])]
    bc_dirs = samples.get("backchannel", [])
    vad = None
    if bc_dirs:
        from parley.components.vad.silero import SileroVAD

        vad = SileroVAD()
    bc = [backchannel_sample(d, vad) for d in bc_dirs]
    return {
        "fdb_pause_tor": _mean(pause),
        "fdb_smooth_tor": _mean([t for t, _ in smooth]),
        "fdb_smooth_latency_ms": _mean_ms([lat for t, lat in smooth if t]),
        "fdb_interruption_tor": _mean([t for t, _ in intr]),
        "fdb_interruption_latency_ms": _mean_ms([lat for t, lat in intr if t]),
        "fdb_backchannel_tor": _mean([t for t, _ in bc]),
        "fdb_backchannel_freq": _mean([f for _, f in bc], 4),
    }


FDB_KEYS = tuple(fdb_scores({}))


def score_tree(arch_dir: Path) -> dict:
    """FDB scores of one architecture's exported tree (`DIR/<arch>/<task>/<id>/`)."""
    return fdb_scores({task: sorted((p for p in (arch_dir / task).iterdir() if p.is_dir()), key=lambda p: p.name)
                       for task in TASK_KEYS if (arch_dir / task).is_dir()})
