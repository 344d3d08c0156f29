"""Running one conversation end to end and writing its artefacts.

Used by `parley demo`, the tests and the benchmarks, so every path produces the same files:
`events.jsonl`, `conversation.wav` (stereo: left user, right agent), `transcript.md`, `summary.json`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from parley.audio.recorder import ConversationRecorder
from parley.clock import Clock, RealClock
from parley.config import CascadeConfig
from parley.events import EventLog, SessionEnded, SessionStarted
from parley.transcript import TurnRecord, markdown, summary, turns
from parley.transports.loopback import LoopbackChannel, UserLine


@dataclass
class ConversationResult:
    log: EventLog
    recorder: ConversationRecorder
    records: list[TurnRecord]
    summary: dict


async def run_conversation(cfg: CascadeConfig, lines: list[UserLine], *, clock: Clock | None = None,
                           out_dir: Path | None = None, session: str | None = None,
                           agent_kwargs: dict | None = None, arch: str = "cascade",
                           **channel_kwargs) -> ConversationResult:
    from parley.architectures.registry import build

    clock = clock or RealClock()
    session = session or uuid.uuid4().hex[:12]
    log = EventLog(session, out_dir / "events.jsonl" if out_dir else None, clock_now=clock.now)
    recorder = ConversationRecorder()
    await clock.start()
    agent = build(arch, cfg, clock, log, **(agent_kwargs or {}))
    try:
        await agent.start()
        log.emit(SessionStarted, architecture=agent.name, config=cfg.model_dump(mode="json"))
        channel = LoopbackChannel(agent, clock, log, lines, recorder=recorder, **channel_kwargs)
        await channel.run()
    finally:
        await agent.close()
        log.emit(SessionEnded)
        log.close()
        await clock.stop()
    records = turns(log.events)
    summ = summary(agent.name, records)
    if out_dir is not None:
        write_artefacts(out_dir, recorder, records, summ)
    return ConversationResult(log, recorder, records, summ)


def write_artefacts(out_dir: Path, recorder: ConversationRecorder, records: list[TurnRecord], summ: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    recorder.save(out_dir / "conversation.wav")
    (out_dir / "transcript.md").write_text(markdown(records), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=2), encoding="utf-8")
