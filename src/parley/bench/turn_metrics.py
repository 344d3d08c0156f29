"""Turn-taking metrics computed from event logs, after Full-Duplex-Bench v1 (REFERENCE.md §4).

FDB scores recorded audio with ASR word timestamps; parley has the agent's own event log, which
says exactly when agent audio started, paused, stopped and why, so the same quantities are read
from it directly. Each situation (a probe: a kind and the user line that creates it) is judged in
the window from that line's start to the next line's start:

- pause (the user pauses mid-utterance): TOR = 1 if the agent started a reply (not a backchannel)
  before the user's utterance ended. Lower is better.
- monologue (the user talks for 20 s or more, with pauses): the same rule (`monologue_tor`); the
  agent should only backchannel. Full-Duplex-Bench's backchannel task scores these samples.
- backchannel (the user says "mhm" over the agent): TOR = 1 if the agent answered it as a turn;
  a false interruption is an agent reply stopped by it for good (a pause that resumed is not one).
- smooth (a clean turn end): TOR = 1 if the agent replied; latency = the reply's first audio − true
  end of the user's audio, where a hybrid talker's acknowledgement of the pause that ended the turn
  is the reply's first audio (as FDB's first word is).
- interruption (the user barges in): TOR = 1 if the agent went silent and then answered the
  interruption; stop latency = interruption onset → agent audio paused or stopped. If the agent
  was not audible at the onset (its reply had already ended), there was nothing to stop: no stop
  latency, and TOR = 1 if it answered.
- agent backchannels per minute of user speech; echo self-interruptions = agent audio paused or
  stopped while no user audio was being played (only the agent's echo could have caused it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.events import Event

KINDS = ("pause", "backchannel", "smooth", "interruption", "monologue")
# which user line of a duplex-check case creates its situation (the others set it up)
_CASE_LINE = {"pause": 0, "smooth": 0, "backchannel": 1, "interruption": 1, "monologue": 0}


@dataclass
class CaseLog:
    """One conversation's events and the turn-taking situations (probes) it contains: each probe is a
    kind and the index of the user line (`sim_utterance.index`) that creates it. A duplex-check case
    has one probe; a bench scenario has one per scripted turn."""
    case: str
    echo: bool
    events: list[Event]
    probes: list[tuple[str, int]]

    @classmethod
    def single(cls, case: str, kind: str, echo: bool, events: list[Event]) -> "CaseLog":
        return cls(case, echo, events, [(kind, _CASE_LINE[kind])])


def user_lines(events) -> list:
    """The simulated user's scripted lines (`sim_utterance`, in the order they were said); a
    caller's answer to a read-back belongs to the turn before it, whose window it falls in."""
    return [e for e in events if e.kind == "sim_utterance" and not getattr(e, "answer", False)]


def line_windows(events) -> list[tuple]:
    """(user line, start of the next line): each line's outcome is judged inside its window."""
    sims = user_lines(events)
    return [(s, sims[i + 1].start if i + 1 < len(sims) else float("inf")) for i, s in enumerate(sims)]


def _line(events, i: int):
    windows = line_windows(events)
    return windows[i] if i < len(windows) else (None, None)


def _reply_starts(events):
    return [e.t for e in events if e.kind == "agent_audio_started" and e.turn > 0]


def _silenced(events, after: float) -> float | None:
    ts = [e.t for e in events if e.kind in ("agent_audio_paused", "agent_audio_stopped") and e.t >= after]
    return min(ts) if ts else None


def pause_tor(events, i: int = 0) -> int:
    sim, _ = _line(events, i)
    return int(sim is not None and any(sim.start < t < sim.end for t in _reply_starts(events)))


def backchannel_outcome(events, i: int = 1) -> tuple[int, int]:
    """(TOR, false interruption) for a backchannel said as user line i."""
    bc, until = _line(events, i)
    if bc is None:
        return 0, 0  # the agent never spoke, so no backchannel was played over it
    starts = {}
    for e in events:
        if e.kind == "agent_audio_started":
            starts.setdefault(e.turn, e.t)
    answered = any(e.kind == "agent_turn" and e.turn > 0 and bc.start < starts.get(e.turn, -1) < until for e in events)
    stopped = any(e.kind == "agent_audio_stopped" and e.reason == "barge_in" and bc.start <= e.t < until
                  for e in events)
    return int(answered), int(stopped)


def smooth(events, i: int = 0) -> tuple[int, float | None]:
    sim, until = _line(events, i)
    if sim is None:
        return 0, None
    after = [e for e in events if e.kind == "agent_audio_started" and e.turn > 0 and sim.end - 0.05 <= e.t < until]
    if not after:
        return 0, None
    acks = [e.t for e in events if e.kind == "acknowledgement" and e.turn == after[0].turn and e.t >= sim.end - 0.05]
    return 1, max(0.0, (min([after[0].t, *acks]) - sim.end) * 1000)


def agent_intervals(events: list[Event]) -> list[tuple[float, float, int]]:
    """(start, end, turn) spans of audible agent speech (turn 0: an agent backchannel); a reply
    paused by the user and resumed is two spans of the same turn."""
    out, open_at, turn = [], None, None
    end = events[-1].t if events else 0.0
    for e in events:
        if e.kind in ("agent_audio_started", "agent_audio_resumed") and open_at is None:
            open_at, turn = e.t, e.turn
        elif e.kind in ("agent_audio_paused", "agent_audio_stopped") and open_at is not None:
            out.append((open_at, e.t, turn))
            open_at = None
    if open_at is not None:
        out.append((open_at, end, turn))
    return out


def _audible_at(events, t: float) -> bool:
    return any(a <= t < b for a, b, _ in agent_intervals(events))


def interruption(events, i: int = 1) -> tuple[int, float | None]:
    intr, until = _line(events, i)
    if intr is None:
        return 0, None
    if not _audible_at(events, intr.start):
        return int(any(intr.end < t < until for t in _reply_starts(events))), None
    stop = _silenced(events, intr.start)
    stop_ms = None if stop is None or stop >= until else (stop - intr.start) * 1000
    answered = any(intr.end < t < until for t in _reply_starts(events))
    return int(stop_ms is not None and answered), stop_ms


def echo_self_interruptions(c: CaseLog, margin_s: float = 0.3) -> int:
    """Times the agent went quiet for "user speech" while no user audio was playing. What counts is
    the moment it reacted: its pause, or a barge-in stop that no pause preceded (a stop that
    resolves an earlier pause is judged by that pause)."""
    sims = user_lines(c.events)
    paused_turns: set[int] = set()
    count = 0
    for e in c.events:
        if e.kind == "agent_audio_paused":
            paused_turns.add(e.turn)
            reaction = True
        else:
            reaction = e.kind == "agent_audio_stopped" and e.reason == "barge_in" and e.turn not in paused_turns
        if reaction and not any(s.start - 0.05 <= e.t <= s.end + margin_s for s in sims):
            count += 1
    return count


def _mean(xs):
    return round(float(np.mean(xs)), 3) if xs else None


def _pct(xs, q):
    return round(float(np.percentile(xs, q)), 1) if xs else None


def turn_taking(cases: list[CaseLog]) -> dict:
    by = {k: [(c.events, i) for c in cases for kind, i in c.probes if kind == k] for k in KINDS}
    bc = [backchannel_outcome(*p) for p in by["backchannel"]]
    sm = [smooth(*p) for p in by["smooth"]]
    it = [interruption(*p) for p in by["interruption"]]
    sm_lat = [lat for tor, lat in sm if tor and lat is not None]
    stop = [ms for _, ms in it if ms is not None]
    user_speech_s = sum(sum(s.end - s.start for s in user_lines(c.events)) for c in cases)
    agent_bcs = sum(1 for c in cases for e in c.events if e.kind == "backchannel" and e.source == "agent")
    return {
        "pause_tor": _mean([pause_tor(*p) for p in by["pause"]]),
        "monologue_tor": _mean([pause_tor(*p) for p in by["monologue"]]),
        "backchannel_tor": _mean([t for t, _ in bc]),
        "smooth_tor": _mean([t for t, _ in sm]),
        "smooth_latency_ms_p50": _pct(sm_lat, 50),
        "interruption_tor": _mean([t for t, _ in it]),
        "interruption_stop_ms_p50": _pct(stop, 50),
        "interruption_stop_ms_p95": _pct(stop, 95),
        "false_interruption_rate": _mean([f for _, f in bc]),
        "agent_backchannels_per_min": round(agent_bcs / (user_speech_s / 60), 2) if user_speech_s else 0.0,
        "echo_self_interruptions": sum(echo_self_interruptions(c) for c in cases if c.echo),
        "n_cases": sum(len(c.probes) for c in cases),
    }
