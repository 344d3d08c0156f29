"""`parley bench --export-fdb DIR2`: turn-taking conversations in Full-Duplex-Bench v1's layout.

FDB's official scripts score a folder per sample: `input.wav` (the user), `output.wav` (the system,
time-aligned with the input, same length, 16 kHz mono), `output.json` (the system's words with
timestamps: `{"text", "chunks": [{"text", "timestamp": [start, end]}]}`) and the task's own file.
Each scripted turn of a bench conversation whose kind FDB v1 has a task for becomes one sample,
cut from the conversation's recording around that turn:

    DIR2/pause_handling/<id>/       the user's paused utterance (window: its start → its end)
    DIR2/smooth_turn_taking/<id>/   + turn_taking.json [{"text", "timestamp": [user end, next start]}]
    DIR2/user_interruption/<id>/    + interrupt.json [{"context", "interrupt", "timestamp": [start, end]}]

Words come from Whisper (tiny.en) with word timestamps on the agent's channel, as FDB's own
preparation step transcribes `output.wav`; for interruptions `output.json` keeps only the words
after the interruption ends, the part FDB scores. FDB v1's backchannel task (the agent
backchanneling during a user monologue, compared with a human distribution) has no counterpart
sample here; user backchannels over the agent are a v1.5 situation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.wavio import read_wav, write_wav
from parley.bench.scorecard import Conversation
from parley.bench.turn_metrics import line_windows

TASKS = {"pause": "pause_handling", "smooth": "smooth_turn_taking", "interruption": "user_interruption"}


def export_fdb(run_dir: Path, out: Path, results: dict[str, list[Conversation]]) -> int:
    """Write one FDB sample per eligible turn; returns how many were written."""
    from parley.components import registry

    asr = registry.whisper(10, 2)
    n = 0
    for arch, convs in results.items():
        for conv in convs:
            if "turn-taking" not in conv.scenario.suites or not conv.events:
                continue
            wav = run_dir / arch / conv.scenario.id / "conversation.wav"
            if not wav.exists():
                continue
            stereo = read_wav(wav, mono=False)
            origin = next((e.t for e in conv.events if e.kind == "session_started"), 0.0)
            windows = line_windows(conv.events)
            sims = [s for s, _ in windows]
            for i, (sim, nxt) in enumerate(windows):
                kind = conv.scenario.turns[i].kind if i < len(conv.scenario.turns) else None
                if kind not in TASKS or (kind == "interruption" and i == 0):
                    continue
                if nxt == float("inf"):
                    nxt = sim.end + 6.0  # the last line: 6 s of the agent's answer
                a = sims[i - 1].start if kind == "interruption" else sim.start
                b = sim.end if kind == "pause" else nxt
                sample = out / TASKS[kind] / f"{arch}-{conv.scenario.id}-t{i + 1}"
                words = _write_audio(sample, stereo, a - origin, b - origin, asr)
                rel = lambda t: round(t - a, 3)  # noqa: E731 - times inside the cut
                if kind == "interruption":  # FDB scores only what the agent said after the interruption
                    words = [w for w in words if w[1] >= rel(sim.end)]
                _json(sample / "output.json", {"text": " ".join(w for w, _, _ in words),
                                               "chunks": [{"text": w, "timestamp": [s, e]} for w, s, e in words]})
                if kind == "smooth":
                    _json(sample / "turn_taking.json", [{"text": sim.text, "timestamp": [rel(sim.end), rel(b)]}])
                elif kind == "interruption":
                    _json(sample / "interrupt.json", [{"context": sims[i - 1].text, "interrupt": sim.text,
                                                       "timestamp": [rel(sim.start), rel(sim.end)]}])
                else:
                    _json(sample / "pause.json", [{"text": sim.text, "timestamp": [rel(sim.start), rel(sim.end)]}])
                n += 1
    return n


def _write_audio(d: Path, stereo: np.ndarray, a: float, b: float, asr) -> list[tuple[str, float, float]]:
    """input.wav and output.wav cut to [a, b); returns the agent's words with timestamps."""
    i, j = max(0, int(a * SAMPLE_RATE)), max(0, int(b * SAMPLE_RATE))
    user = np.zeros(j - i, np.float32)
    agent = np.zeros(j - i, np.float32)
    cut = stereo[i:j]
    user[:len(cut)], agent[:len(cut)] = cut[:, 0], cut[:, 1]
    d.mkdir(parents=True, exist_ok=True)
    write_wav(d / "input.wav", user, SAMPLE_RATE)
    write_wav(d / "output.wav", agent, SAMPLE_RATE)
    return asr.words(agent) if np.abs(agent).max(initial=0.0) > 1e-4 else []


def _json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
