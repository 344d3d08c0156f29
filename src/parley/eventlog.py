"""The JSONL event log: one session's events, in memory and mirrored to disk as they happen.

The event log is the single source of truth: transcripts, the demo's turn table and every latency
figure are computed from it (see `parley.transcript`). Each event is a small frozen dataclass with a
`kind`, a session-clock time `t` (seconds) and a `session` id; one JSON object per line on disk.
The kinds themselves, the event contract every architecture emits, are `parley.events`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, TextIO

_REGISTRY: dict[str, type["Event"]] = {}


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"
    t: float
    session: str

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        _REGISTRY[cls.kind] = cls

    def to_dict(self) -> dict[str, Any]:
        d = {"t": round(self.t, 6), "kind": self.kind, "session": self.session}
        for f in dataclasses.fields(self):
            if f.name not in ("t", "session"):
                d[f.name] = getattr(self, f.name)
        return d


def event_from_dict(d: dict[str, Any]) -> Event:
    cls = _REGISTRY.get(d.get("kind", ""))
    if cls is None:
        raise ValueError(f"unknown event kind {d.get('kind')!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


class EventLog:
    """Append-only log of one session; optionally mirrored to a JSONL file as events arrive."""

    def __init__(self, session: str, path: Path | None = None, clock_now: Callable[[], float] | None = None):
        self.session = session
        self.events: list[Event] = []
        self._now = clock_now
        self._fh: TextIO | None = None
        self._listeners: list[Callable[[Event], None]] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "w", encoding="utf-8")

    def emit(self, cls: type[Event], t: float | None = None, **fields: Any) -> Event:
        if t is None:
            if self._now is None:
                raise ValueError("EventLog needs a clock to time-stamp events without an explicit t")
            t = self._now()
        ev = cls(t=t, session=self.session, **fields)
        self.events.append(ev)
        if self._fh is not None:
            self._fh.write(json.dumps(ev.to_dict(), ensure_ascii=False) + "\n")
            self._fh.flush()
        for fn in self._listeners:
            fn(ev)
        return ev

    def subscribe(self, fn: Callable[[Event], None]) -> None:
        self._listeners.append(fn)

    def of(self, *kinds: "str | type[Event]") -> list[Event]:
        """The events of the given kinds, by kind string or by class (`log.of(AgentTurn)`)."""
        names = {k if isinstance(k, str) else k.kind for k in kinds}
        return [e for e in self.events if e.kind in names]

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_events(path: Path) -> list[Event]:
    import parley.events  # noqa: F401 - the catalogue registers the kinds a log file names

    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(event_from_dict(json.loads(line)))
    return out
