"""One conversation's shell, the same for every architecture and transport: clock, event log,
recorder and agent, started and closed together, with the artefacts written however it ends.

`demo`, `talk` (file or microphone), `duplex-check`, `bench` and the benchmarks all run a
conversation inside a `Session`; only the transport that feeds it audio differs. A session that
fails or is interrupted still closes its agent, logs `session_ended` and writes `events.jsonl`,
`conversation.wav`, `transcript.md` and `summary.json` for what happened up to then.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from parley.audio.recorder import ConversationRecorder
from parley.clock import Clock, RealClock
from parley.config import AgentConfig, redacted
from parley.events import EventLog, SessionEnded, SessionStarted
from parley.transcript import TurnRecord, markdown, summary, turns

JOURNAL = "audio.journal"  # the recording as it happens; becomes conversation.wav at the end


@dataclass
class ConversationResult:
    log: EventLog
    recorder: ConversationRecorder
    records: list[TurnRecord]
    summary: dict


class Session:
    def __init__(self, cfg: AgentConfig, *, arch: str = "cascade", clock: Clock | None = None,
                 out_dir: Path | None = None, name: str | None = None, agent_kwargs: dict | None = None) -> None:
        self.cfg, self.arch, self.out_dir = cfg, arch, out_dir
        self.clock = clock or RealClock()
        self.name = name or uuid.uuid4().hex[:12]
        self.log = EventLog(self.name, out_dir / "events.jsonl" if out_dir else None, clock_now=self.clock.now)
        self.recorder = ConversationRecorder(journal=out_dir / JOURNAL if out_dir else None)
        self._agent_kwargs = agent_kwargs or {}
        self.agent = None
        self.result: ConversationResult | None = None

    async def __aenter__(self) -> "Session":
        from parley.architectures.registry import build

        await self.clock.start()
        try:
            self.agent = build(self.arch, self.cfg, self.clock, self.log, **self._agent_kwargs)
            await self.agent.start()
            self.log.emit(SessionStarted, architecture=self.agent.name, config=redacted(self.cfg.model_dump(mode="json")))
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *_exc) -> None:
        await self._close()

    async def _close(self) -> None:
        try:
            if self.agent is not None:
                await self.agent.close()
        finally:
            self.log.emit(SessionEnded)
            self.log.close()
            await self.clock.stop()
            records = turns(self.log.events)
            self.result = ConversationResult(self.log, self.recorder, records,
                                             summary(self.agent.name if self.agent else self.arch, records))
            if self.out_dir is not None:
                write_artefacts(self.out_dir, self.recorder, records, self.result.summary)


def write_artefacts(out_dir: Path, recorder: ConversationRecorder, records: list[TurnRecord], summ: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "transcript.md").write_text(markdown(records), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=2), encoding="utf-8")
    if not recorder.empty:  # a session that failed before any audio has no recording
        recorder.save(out_dir / "conversation.wav")
    recorder.close()
    if recorder.journal is not None:
        recorder.journal.unlink(missing_ok=True)  # the WAV holds it now
