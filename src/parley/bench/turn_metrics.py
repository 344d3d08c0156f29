"""Turn-taking metrics computed from event logs, after Full-Duplex-Bench v1 (REFERENCE.md §4).

FDB scores recorded audio with ASR word timestamps; parley has the agent's own event log, which
says exactly when agent audio started, paused, stopped and why, so the same quantities are read
from it directly. Per case kind:

- pause (the user pauses mid-utterance): TOR = 1 if the agent started a reply (not a backchannel)
  before the user's utterance ended. Lower is better.
- backchannel (the user says "mhm" over the agent): TOR = 1 if the agent answered it as a turn;
  a false interruption is an agent reply stopped by it for good (a pause that resumed is not one).
- smooth (a clean turn end): TOR = 1 if the agent replied; latency = reply audio start − true end
  of the user's audio.
- interruption (the user barges in): TOR = 1 if the agent went silent and then answered the
  interruption; stop latency = interruption onset → agent audio paused or stopped.
- agent backchannels per minute of user speech; echo self-interruptions = agent audio paused or
  stopped while no user audio was being played (only the agent's echo could have caused it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.events import Event

KINDS = ("pause", "backchannel", "smooth", "interruption")


@dataclass
class CaseLog:
    case: str
    kind: str  # one of KINDS
    echo: bool
    events: list[Event]


def _sims(events):
    return [e for e in events if e.kind == "sim_utterance"]


def _reply_starts(events):
    return [e.t for e in events if e.kind == "agent_audio_started" and e.turn > 0]


def _silenced(events, after: float) -> float | None:
    ts = [e.t for e in events if e.kind in ("agent_audio_paused", "agent_audio_stopped") and e.t >= after]
    return min(ts) if ts else None


def pause_tor(c: CaseLog) -> int:
    sim = _sims(c.events)[0]
    return int(any(sim.start < t < sim.end for t in _reply_starts(c.events)))


def backchannel_outcome(c: CaseLog) -> tuple[int, int]:
    """(TOR, false interruption) for a backchannel case."""
    sims = _sims(c.events)
    if len(sims) < 2:
        return 0, 0  # the agent never spoke, so no backchannel was played over it
    bc = sims[1]
    answered = any(e.kind == "agent_turn" and e.t > bc.start and e.turn > 0 and _is_after_reply(c.events, e, bc)
                   for e in c.events)
    stopped = any(e.kind == "agent_audio_stopped" and e.reason == "barge_in" and e.t >= bc.start for e in c.events)
    return int(answered), int(stopped)


def _is_after_reply(events, turn_event, bc) -> bool:
    starts = [e.t for e in events if e.kind == "agent_audio_started" and e.turn == turn_event.turn]
    return bool(starts) and starts[0] > bc.start


def smooth(c: CaseLog) -> tuple[int, float | None]:
    sim = _sims(c.events)[0]
    after = [t for t in _reply_starts(c.events) if t >= sim.end - 0.05]
    if not after:
        return 0, None
    return 1, max(0.0, (after[0] - sim.end) * 1000)


def interruption(c: CaseLog) -> tuple[int, float | None]:
    sims = _sims(c.events)
    if len(sims) < 2:
        return 0, None
    intr = sims[1]
    stop = _silenced(c.events, intr.start)
    stop_ms = None if stop is None else (stop - intr.start) * 1000
    answered = any(t > intr.end for t in _reply_starts(c.events))
    return int(stop is not None and answered), stop_ms


def echo_self_interruptions(c: CaseLog, margin_s: float = 0.3) -> int:
    """Times the agent went quiet for "user speech" while no user audio was playing. What counts is
    the moment it reacted: its pause, or a barge-in stop that no pause preceded (a stop that
    resolves an earlier pause is judged by that pause)."""
    sims = _sims(c.events)
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
    by = {k: [c for c in cases if c.kind == k] for k in KINDS}
    bc = [backchannel_outcome(c) for c in by["backchannel"]]
    sm = [smooth(c) for c in by["smooth"]]
    it = [interruption(c) for c in by["interruption"]]
    sm_lat = [lat for tor, lat in sm if tor and lat is not None]
    stop = [ms for _, ms in it if ms is not None]
    user_speech_s = sum(sum(s.end - s.start for s in _sims(c.events)) for c in cases)
    agent_bcs = sum(1 for c in cases for e in c.events if e.kind == "backchannel" and e.source == "agent")
    return {
        "pause_tor": _mean([pause_tor(c) for c in by["pause"]]),
        "backchannel_tor": _mean([t for t, _ in bc]),
        "smooth_tor": _mean([t for t, _ in sm]),
        "smooth_latency_ms_p50": _pct(sm_lat, 50),
        "interruption_tor": _mean([t for t, _ in it]),
        "interruption_stop_ms_p50": _pct(stop, 50),
        "interruption_stop_ms_p95": _pct(stop, 95),
        "false_interruption_rate": _mean([f for _, f in bc]),
        "agent_backchannels_per_min": round(agent_bcs / (user_speech_s / 60), 2) if user_speech_s else 0.0,
        "echo_self_interruptions": sum(echo_self_interruptions(c) for c in cases if c.echo),
        "n_cases": len(cases),
    }
