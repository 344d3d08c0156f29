"""Sessions on disk: find them, read them, and rebuild what a killed process did not write.

Every session writes `events.jsonl` (flushed event by event) and `audio.journal` (audio chunk by
chunk) as it runs, and `transcript.md`, `summary.json` and `conversation.wav` when it ends. A process
killed with -9 (or a machine that lost power) leaves the first two, possibly with a half-written
last line or record; `repair` rebuilds the rest from them. `parley sessions list|show|repair|export`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from parley.audio.recorder import render_journal
from parley.errors import ParleyError
from parley.events import Event, event_from_dict
from parley.session import JOURNAL
from parley.transcript import TurnRecord, markdown, summary, turns

ARTEFACTS = ("events.jsonl", "transcript.md", "summary.json", "conversation.wav")


def read_log(path: Path) -> tuple[list[Event], int]:
    """The events of `path`, and how many lines could not be read (a line cut by a kill, junk)."""
    events, bad = [], 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except (ValueError, TypeError, KeyError):
                bad += 1
    return events, bad


@dataclass
class SessionInfo:
    folder: Path
    architecture: str
    turns: int
    seconds: float
    state: str  # complete | repaired (by `repair`) | interrupted (artefacts missing: repair it) | unreadable

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "architecture": self.architecture, "turns": self.turns,
                "seconds": self.seconds, "state": self.state}


def info(folder: Path) -> SessionInfo:
    try:
        events, _ = read_log(folder / "events.jsonl")
    except OSError:
        return SessionInfo(folder, "?", 0, 0.0, "unreadable")
    arch = next((e.architecture for e in events if e.kind == "session_started"), "?")
    ended = any(e.kind == "session_ended" for e in events)
    written = all((folder / a).exists() for a in ARTEFACTS[1:3])
    state = "interrupted" if not written else "complete" if ended else "repaired"
    n = sum(1 for e in events if e.kind == "agent_turn")
    return SessionInfo(folder, arch, n, round(events[-1].t - events[0].t, 1) if events else 0.0, state)


def find(root: Path) -> list[SessionInfo]:
    """Every session under `root` (a session folder itself, or a folder of them at any depth)."""
    if not root.exists():
        raise ParleyError(f"{root}: no such folder; give the folder sessions were written to (--out).")
    return [info(p.parent) for p in sorted(root.rglob("events.jsonl"))]


def records(folder: Path) -> list[TurnRecord]:
    events, _ = read_log(_events(folder))
    return turns(events)


def repair(folder: Path) -> list[str]:
    """Rebuild transcript, summary and WAV from the event log and the audio journal; the names of
    the files written."""
    events, bad = read_log(_events(folder))
    arch = next((e.architecture for e in events if e.kind == "session_started"), "unknown")
    recs = turns(events)
    summ = summary(arch, recs)
    summ["repaired"] = {"unreadable_event_lines": bad, "ended": any(e.kind == "session_ended" for e in events)}
    (folder / "transcript.md").write_text(markdown(recs), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summ, indent=2), encoding="utf-8")
    written = ["transcript.md", "summary.json"]
    journal = folder / JOURNAL
    if journal.exists() and render_journal(journal, folder / "conversation.wav"):
        written.append("conversation.wav")
    return written


def export(folder: Path, dest: Path) -> Path:
    """The session's artefacts in one zip (repaired first if it was interrupted)."""
    if info(folder).state == "interrupted":
        repair(folder)
    dest = dest if dest.suffix == ".zip" else dest / f"{folder.name}.zip"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in ARTEFACTS:
            if (folder / name).exists():
                z.write(folder / name, f"{folder.name}/{name}")
    return dest


def _events(folder: Path) -> Path:
    path = folder / "events.jsonl"
    if not path.exists():
        raise ParleyError(f"{folder} holds no events.jsonl; give a session folder (`parley sessions list` finds them).")
    return path
