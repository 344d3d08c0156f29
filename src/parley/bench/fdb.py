"""Full-Duplex-Bench v1 samples cut from parley conversations, and `--export-fdb`.

FDB's official scripts score a folder per sample: `input.wav` (the user), `output.wav` (the system,
time-aligned with the input and of the same length, 16 kHz mono), `output.json` (the system's words
with timestamps, `{"text", "chunks": [{"text", "timestamp": [start, end]}]}`) and the task's own
file. Each scripted user line whose situation FDB v1 has a task for becomes one sample, cut from the
conversation's recording (`recording_started` says where it begins on the event log's clock):

    pause_handling/      the paused utterance, its start → its end; pause.json = the pause interval(s)
    smooth_turn_taking/  the line's start → the next line's start (the last: the recording's end);
                         turn_taking.json timestamp[0] = the end of the user's turn
    user_interruption/   the previous line's start → the next line's start; interrupt.json = the
                         interruption's [start, end]; output.json holds only words after its end
    backchannel/         a monologue (≥ 20 s with pauses), its start → its end; folders numbered

Words come from parley's own playout record: what the agent played (the heard text of each reply,
`agent_turn.agent`, in its spoken form; the text of each agent backchannel and acknowledgement), placed on the audio it
was played as. The agent's channel is a clean digital track, so its stretches of sound are found
sample-exactly (`audio/activity.py`); each stretch belongs to the reply whose playout (started /
resumed → paused / stopped) covers it, and a reply's words are spread over its stretches by their
length: the first word starts at the reply's first audible sample, the last ends at its last. No
ASR error changes a word count and no VAD padding moves a word (Whisper with VAD padding put first
words ~0.3 s before the audio). Sound that no playout accounts for (an architecture that reports no
text) is transcribed by Whisper tiny.en and anchored to its stretch the same way. For an
interruption, only words that start after the interruption's end are kept, as FDB's ASR step crops
the audio there.

Samples are written once per conversation into `<conversation>/fdb/<task>/<line>/` (kept while
`events.jsonl` is unchanged) and scored there (`bench/fdb_score.py`); `--export-fdb DIR` copies them
into one tree per architecture, `DIR/<arch>/<task>/<n>/`, numbered from 0, nothing else in a task
folder (FDB's scripts average over a task folder and crash on stray files).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from parley.audio.activity import audible_runs
from parley.audio.frame import SAMPLE_RATE
from parley.audio.wavio import read_wav, write_wav
from parley.bench.turn_metrics import agent_intervals, line_windows
from parley.textnorm import for_speech

TASKS = {"pause": "pause_handling", "smooth": "smooth_turn_taking", "interruption": "user_interruption",
         "monologue": "backchannel"}
SAMPLES = "fdb"
_VERSION = 6  # bump when the cut or the words change: old samples are redone
_CONTEXT_S = 0.1  # audio kept around each sound stretch when it is transcribed
_GAP_S = 0.3      # silence between stretches in the clip Whisper hears


def _origin(events) -> float:
    for kind in ("recording_started", "session_started"):
        t = next((e.t for e in events if e.kind == kind), None)
        if t is not None:
            return t
    return 0.0


Word = tuple[str, float, float]  # (text, start s, end s) on the recording's time axis


def _playouts(events, origin: float) -> list[tuple[float, float, str]]:
    """(first sample, last sample, spoken text) of each reply, each agent backchannel and each
    acknowledgement, on the recording's time axis. A reply paused by the user's backchannel and
    resumed is one playout."""
    heard = {e.turn: e.agent for e in events if e.kind == "agent_turn"}
    backchannels = iter([e.text for e in events if e.kind == "backchannel" and e.source == "agent"])
    acks = {e.t: e.text for e in events if e.kind == "acknowledgement"}  # logged as its audio starts
    replies: dict[int, list[float]] = {}
    out = []
    for a, b, turn in agent_intervals(events):
        if turn == 0:  # a short line of its own: an acknowledgement, else the next backchannel offered
            text = acks[a] if a in acks else next(backchannels, "")
            out.append((a - origin, b - origin, for_speech(text)))
        else:
            span = replies.setdefault(turn, [a, b])
            span[1] = b
    out += [(a - origin, b - origin, for_speech(heard.get(turn, ""))) for turn, (a, b) in replies.items()]
    return sorted(out)


def played_words(events, agent: np.ndarray, asr=None) -> list[Word]:
    """Every word the agent played, timed on `agent` (the whole conversation's agent channel)."""
    origin = _origin(events)
    runs = audible_runs(agent)
    playouts = _playouts(events, origin)
    groups: dict[int, list[tuple[float, float]]] = {}
    orphans = []
    for a, b in runs:
        mid = (a + b) / 2
        k = next((i for i, (s, e, _) in enumerate(playouts) if s - 0.05 <= mid <= e + 0.05), None)
        if k is None or not playouts[k][2].split():
            orphans.append((a, b))
        else:
            groups.setdefault(k, []).append((a, b))
    words: list[Word] = []
    for k, stretches in groups.items():
        words += _spread(playouts[k][2].split(), stretches)
    for a, b in orphans:  # sound with no text on record: what Whisper hears there
        if asr is None:
            from parley.components import registry

            asr = registry.whisper(10, 2)
        i, j = int(a * SAMPLE_RATE), int(b * SAMPLE_RATE)
        words += timed_words(agent[i:j], asr, offset_s=a)
    return sorted(words, key=lambda w: w[1])


def _spread(tokens: list[str], stretches: list[tuple[float, float]]) -> list[Word]:
    """Words laid over stretches of sound in proportion to their length (+1 for the space), so the
    first starts at the first stretch's start and the last ends at the last stretch's end."""
    weights = np.array([len(t) + 1 for t in tokens], dtype=float)
    edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    lengths = np.array([b - a for a, b in stretches])
    cum = np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum()

    def at(f: float, start: bool) -> float:  # fraction of the sound → time; a boundary belongs to the next stretch
        k = int(np.searchsorted(cum, f, side="right" if start else "left")) - 1
        k = min(max(k, 0), len(stretches) - 1)
        a, b = stretches[k]
        return a + (f - cum[k]) / (cum[k + 1] - cum[k]) * (b - a) if cum[k + 1] > cum[k] else a

    return [(t, at(edges[i], True), at(edges[i + 1], False)) for i, t in enumerate(tokens)]


def timed_words(agent: np.ndarray, asr, offset_s: float = 0.0) -> list[tuple[str, float, float]]:
    """The agent's words with timestamps anchored to its audio (see the module docstring)."""
    runs = audible_runs(agent)
    if not runs:
        return []
    pieces, where, t = [], [], 0.0  # where: (start in the clip, start in `agent`, run index)
    gap = np.zeros(int(_GAP_S * SAMPLE_RATE), np.float32)
    for k, (a, b) in enumerate(runs):
        i, j = max(0, int((a - _CONTEXT_S) * SAMPLE_RATE)), min(len(agent), int((b + _CONTEXT_S) * SAMPLE_RATE))
        where.append((t, i / SAMPLE_RATE, k))
        pieces += [agent[i:j], gap]
        t += (j - i) / SAMPLE_RATE + _GAP_S
    words = asr.words(np.concatenate(pieces))
    by_run: dict[int, list[list]] = {}
    for w, s, e in words:
        mid = (s + e) / 2
        clip_start, src_start, k = max((p for p in where if p[0] <= mid), default=where[0], key=lambda p: p[0])
        shift = src_start - clip_start
        by_run.setdefault(k, []).append([w, s + shift, e + shift])
    out = []
    for k, ws in sorted(by_run.items()):
        a, b = runs[k]
        prev = a
        for n, w in enumerate(ws):
            start = a if n == 0 else min(max(w[1], prev), b)
            end = b if n == len(ws) - 1 else min(max(w[2], start), b)
            out.append((w[0], round(start + offset_s, 3), round(end + offset_s, 3)))
            prev = end
    return out


def _stamp(conv_dir: Path) -> dict:
    st = (conv_dir / "events.jsonl").stat()
    return {"version": _VERSION, "events_size": st.st_size, "events_mtime_ns": st.st_mtime_ns}


def _listed(root: Path) -> dict[str, list[Path]]:
    return {task: sorted((p for p in (root / task).iterdir() if p.is_dir()), key=lambda p: int(p.name))
            for task in TASKS.values() if (root / task).is_dir()}


def conversation_samples(conv_dir: Path, events, kinds: list[str], asr=None) -> dict[str, list[Path]]:
    """FDB samples of one conversation (`kinds[i]` = the situation user line i creates), written
    into `conv_dir/fdb/` unless they are there already for this event log."""
    root = conv_dir / SAMPLES
    wav = conv_dir / "conversation.wav"
    if not wav.exists() or not (conv_dir / "events.jsonl").exists():
        return {}
    try:
        if json.loads((root / "source.json").read_text()) == _stamp(conv_dir):
            return _listed(root)
    except (OSError, ValueError):
        pass
    if root.exists():
        shutil.rmtree(root)
    stereo = read_wav(wav, mono=False)
    origin = _origin(events)
    rec_end = len(stereo) / SAMPLE_RATE
    words = played_words(events, stereo[:, 1], asr)
    windows = line_windows(events)
    sims = [s for s, _ in windows]
    for i, (sim, nxt) in enumerate(windows):
        kind = kinds[i] if i < len(kinds) else None
        if kind not in TASKS or (kind == "interruption" and i == 0):
            continue
        a = (sims[i - 1].start if kind == "interruption" else sim.start) - origin
        b = (sim.end if kind in ("pause", "monologue") else nxt) - origin
        a, b = max(0.0, a), min(rec_end, b)
        if b <= a:
            continue
        d = root / TASKS[kind] / str(i)
        _write_sample(d, kind, stereo, a, b, sim, sims[i - 1] if i else None, origin, words)
    root.mkdir(parents=True, exist_ok=True)
    (root / "source.json").write_text(json.dumps(_stamp(conv_dir)), encoding="utf-8")
    return _listed(root)


def _write_sample(d: Path, kind: str, stereo: np.ndarray, a: float, b: float, sim, prev, origin: float,
                  words: list[Word]) -> None:
    i, j = int(round(a * SAMPLE_RATE)), int(round(b * SAMPLE_RATE))
    user, agent = stereo[i:j, 0], stereo[i:j, 1]
    d.mkdir(parents=True, exist_ok=True)
    write_wav(d / "input.wav", user, SAMPLE_RATE)
    write_wav(d / "output.wav", agent, SAMPLE_RATE)
    rel = lambda t: round(t - origin - i / SAMPLE_RATE, 3)  # noqa: E731 - clock time → time in the sample
    t0 = i / SAMPLE_RATE
    start = sim.end - origin if kind == "interruption" else a  # FDB's ASR step crops at the interruption's end
    inside = [(w, round(s - t0, 3), round(e - t0, 3)) for w, s, e in words if start <= s < b]
    _json(d / "output.json", {"text": " ".join(w for w, _, _ in inside),
                              "chunks": [{"text": w, "timestamp": [s, e]} for w, s, e in inside]})
    if kind == "pause":
        _json(d / "pause.json", [{"text": "[PAUSE]", "timestamp": [rel(p[0]), rel(p[1])]} for p in sim.pauses]
              or [{"text": "[PAUSE]", "timestamp": [rel(sim.start), rel(sim.end)]}])
    elif kind == "smooth":
        _json(d / "turn_taking.json", [{"text": "[TURN-TAKING]", "timestamp": [rel(sim.end), round(b - a, 3)]}])
    elif kind == "interruption":
        _json(d / "interrupt.json", [{"context": prev.text, "interrupt": sim.text,
                                      "timestamp": [rel(sim.start), rel(sim.end)]}])


def _json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")


def merge(groups: list[dict[str, list[Path]]]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for g in groups:
        for task, dirs in g.items():
            out.setdefault(task, []).extend(dirs)
    return out


def export_tree(dest: Path, samples_by_arch: dict[str, dict[str, list[Path]]]) -> int:
    """Copy each architecture's samples into `dest/<arch>/<task>/<n>/` (n from 0; a task folder is
    replaced whole, so no stale sample joins its average). Returns how many were written."""
    n = 0
    for arch, samples in samples_by_arch.items():
        for task in TASKS.values():
            folder = dest / arch / task
            if folder.exists():
                shutil.rmtree(folder)
            for k, src in enumerate(samples.get(task, [])):
                shutil.copytree(src, folder / str(k))
                n += 1
    return n
