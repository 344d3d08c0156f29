"""Turns, transcripts and latency, computed from an event log and nothing else.

A turn's latency is the time from the true end of the user's audio to the first agent sample
played — a hybrid talker's acknowledgement of the pause included — and its content latency the
time to the first sample of the reply itself (after any opener: the answer). The true end comes from the simulator's `sim_utterance` when there is one (loopback, bench)
and from the VAD's estimated end of speech otherwise (live microphone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parley.events import Event


@dataclass
class TurnRecord:
    turn: int
    user: str               # what the user said (script) or what ASR heard (live)
    heard_user: str         # what the agent's ASR heard
    agent: str              # what the user heard from the agent
    latency_ms: float | None
    interrupted: bool = False
    breakdown_ms: dict[str, float] = field(default_factory=dict)
    content_ms: float | None = None


def _by_turn(events: list[Event], kind: str) -> dict[int, Event]:
    out: dict[int, Event] = {}
    for e in events:
        if e.kind == kind:
            out[e.turn] = e  # the last one wins (a turn's final attempt)
    return out


def turns(events: list[Event]) -> list[TurnRecord]:
    sims = [e for e in events if e.kind == "sim_utterance"]
    stops = [e for e in events if e.kind == "user_speech_stopped"]
    ends = _by_turn(events, "turn_end_predicted")
    started = _by_turn(events, "agent_audio_started")
    acked = _by_turn(events, "acknowledgement")
    answered = _by_turn(events, "agent_content_started")
    asr = _by_turn(events, "asr_final")
    spec = _by_turn(events, "speculation_started")
    req = _by_turn(events, "llm_request")
    first_tok = _by_turn(events, "llm_first_token")
    first_chunk: dict[int, Event] = {}
    for e in events:
        if e.kind == "tts_chunk" and e.turn not in first_chunk:
            first_chunk[e.turn] = e

    records = []
    for e in events:
        if e.kind != "agent_turn":
            continue
        k = e.turn
        eot = ends.get(k)
        t_decided = eot.t if eot else e.t
        user_text = e.user
        true_end = None
        prior_sims = [s for s in sims if s.end <= t_decided + 1e-6]
        line_start = None
        if prior_sims:
            true_end, line_start = prior_sims[-1].end, prior_sims[-1].start
            user_text = prior_sims[-1].text
        else:
            prior_stops = [s for s in stops if s.t <= t_decided]
            if prior_stops:
                true_end = prior_stops[-1].t
        latency = content = None
        bd: dict[str, float] = {}
        if true_end is not None and k in started and (line_start is None or started[k].t >= line_start):
            # (an agent that was already talking when the line began did not answer it)
            first = min(started[k].t, acked[k].t) if k in acked else started[k].t
            latency = round((first - true_end) * 1000, 1)
            content = round(((answered[k] if k in answered else started[k]).t - true_end) * 1000, 1)
            if eot:
                bd["endpoint_wait"] = (eot.t - true_end) * 1000
            if k in spec and k in asr:
                bd["asr_tail"] = (asr[k].t - spec[k].t) * 1000
            if k in req and k in first_tok:
                bd["llm_first_token"] = (first_tok[k].t - req[k].t) * 1000
            if k in req and k in first_chunk:
                c = first_chunk[k]
                bd["first_clause"] = (c.t - c.compute_ms / 1000 - req[k].t) * 1000
                bd["tts_first_chunk"] = c.compute_ms
            bd = {name: round(v, 1) for name, v in bd.items()}
        records.append(TurnRecord(turn=k, user=user_text, heard_user=e.user, agent=e.agent,
                                  latency_ms=latency, interrupted=e.interrupted, breakdown_ms=bd, content_ms=content))
    return records


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summary(architecture: str, records: list[TurnRecord]) -> dict:
    lat = [r.latency_ms for r in records if r.latency_ms is not None]
    return {
        "architecture": architecture,
        "turns": [{"user": r.user, "agent": r.agent, "latency_ms": r.latency_ms} for r in records],
        "latency_ms": {"p50": round(percentile(lat, 50), 1) if lat else None,
                       "p95": round(percentile(lat, 95), 1) if lat else None},
    }


def markdown(records: list[TurnRecord], title: str = "Conversation") -> str:
    lines = [f"# {title}", ""]
    for r in records:
        lines.append(f"**User:** {r.user}")
        if r.heard_user and r.heard_user.strip().lower() != r.user.strip().lower():
            lines.append(f"  *(agent heard: {r.heard_user})*")
        lat = f" *({r.latency_ms:.0f} ms)*" if r.latency_ms is not None else ""
        cut = " *[interrupted]*" if r.interrupted else ""
        lines.append(f"**Agent:**{lat} {r.agent}{cut}")
        lines.append("")
    return "\n".join(lines)
