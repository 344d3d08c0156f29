"""Durable sessions (issue 12): audio and events reach disk as they happen; after a kill the rest is
rebuilt; SIGTERM and Ctrl-C write everything."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from parley.audio.recorder import ConversationRecorder, render_journal
from parley.audio.wavio import read_wav, write_wav
from parley.sessions import find, repair
from test_cli import parley


def test_the_journal_renders_the_same_recording_as_memory(tmp_path):
    mem = ConversationRecorder(origin=10.0)
    disk = ConversationRecorder(journal=tmp_path / "audio.journal")
    disk.origin = 10.0
    rng = np.random.default_rng(0)
    for t, who in ((10.0, "user"), (10.5, "agent"), (10.7, "user"), (12.0, "agent")):
        pcm = (rng.standard_normal(8000) * 0.1).astype(np.float32)
        for rec in (mem, disk):
            getattr(rec, f"add_{who}")(t, pcm)
    mem.save(tmp_path / "mem.wav")
    disk.save(tmp_path / "disk.wav")
    a, b = read_wav(tmp_path / "mem.wav", mono=False), read_wav(tmp_path / "disk.wav", mono=False)
    assert a.shape == b.shape and np.abs(a - b).max() < 3 / 32768


def _interrupted_session(folder):
    """A session as kill -9 leaves it: events with a half-written last line, a journal cut mid-record."""
    folder.mkdir(parents=True)
    events = [{"t": 0.0, "kind": "session_started", "session": "s", "architecture": "cascade", "config": {}},
              {"t": 1.0, "kind": "sim_utterance", "session": "s", "turn": 1, "text": "Hi there.", "start": 0.2, "end": 1.0},
              {"t": 1.1, "kind": "user_speech_stopped", "session": "s", "utterance_s": 0.8},
              {"t": 2.0, "kind": "agent_turn", "session": "s", "turn": 1, "user": "Hi there.", "agent": "Hello!",
               "interrupted": False}]
    text = "".join(json.dumps(e) + "\n" for e in events) + '{"t": 2.5, "kind": "tts_ch'
    (folder / "events.jsonl").write_text(text, encoding="utf-8")
    rec = ConversationRecorder(journal=folder / "audio.journal")
    rec.add_user(0.2, np.full(12800, 0.2, np.float32))
    rec.add_agent(1.5, np.full(8000, -0.2, np.float32))
    rec.close()
    data = (folder / "audio.journal").read_bytes()
    (folder / "audio.journal").write_bytes(data + data[17:60])  # a record cut short


def test_a_killed_session_is_listed_repaired_and_exported(tmp_path):
    folder = tmp_path / "runs" / "call-1"
    _interrupted_session(folder)
    [info] = find(tmp_path / "runs")
    assert info.state == "interrupted" and info.turns == 1
    assert set(repair(folder)) == {"transcript.md", "summary.json", "conversation.wav"}
    assert "Hello!" in (folder / "transcript.md").read_text()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["repaired"] == {"unreadable_event_lines": 1, "ended": False}
    stereo = read_wav(folder / "conversation.wav", mono=False)
    assert stereo.shape[1] == 2 and abs(stereo[:, 0].max() - 0.2) < 0.01 and abs(stereo[:, 1].min() + 0.2) < 0.01
    assert find(tmp_path / "runs")[0].state == "repaired"
    proc = parley("sessions", "export", str(folder), "--to", str(tmp_path / "call.zip"))
    assert proc.returncode == 0, proc.stderr
    assert {"call-1/transcript.md", "call-1/conversation.wav"} <= set(zipfile.ZipFile(tmp_path / "call.zip").namelist())


def test_sessions_cli_lists_and_repairs(tmp_path):
    _interrupted_session(tmp_path / "call")
    listing = json.loads(parley("sessions", "list", str(tmp_path), "--json").stdout)
    assert [s["state"] for s in listing] == ["interrupted"]
    proc = parley("sessions", "repair", str(tmp_path))
    assert proc.returncode == 0 and "conversation.wav" in proc.stdout
    assert json.loads(parley("sessions", "list", str(tmp_path), "--json").stdout)[0]["state"] == "repaired"
    assert render_journal(tmp_path / "call" / "audio.journal", tmp_path / "again.wav")


@pytest.mark.slow
def test_kill_9_is_repaired_and_sigterm_writes_everything(tmp_path, user_speech):
    """Real models: a call stopped after its first reply by kill -9 (then `sessions repair`) and by
    SIGTERM (artefacts written by the process itself) keeps that reply and the recording."""
    lines = ["Hi, my name is Dana and my order number is 4 4 1 7 2.", "How long does standard shipping take?",
             "What was my order number again?"]
    pcm = np.concatenate([np.concatenate([user_speech(t), np.zeros(16000 * 6, np.float32)]) for t in lines])
    write_wav(tmp_path / "call.wav", pcm)
    for sig in (signal.SIGKILL, signal.SIGTERM):
        out = tmp_path / sig.name
        proc = subprocess.Popen([sys.executable, "-m", "parley.cli", "talk", "--input", str(tmp_path / "call.wav"),
                                 "--llm", "fast", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            events = out / "events.jsonl"
            if events.exists() and '"agent_turn"' in events.read_text():
                break
            time.sleep(0.2)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        if sig == signal.SIGKILL:
            assert not (out / "transcript.md").exists()
            repair(out)
        else:
            assert proc.returncode == 130
            assert '"session_ended"' in (out / "events.jsonl").read_text()
        assert find(out)[0].state == ("repaired" if sig == signal.SIGKILL else "complete")
        assert "Dana" in (out / "transcript.md").read_text()
        assert read_wav(out / "conversation.wav").size > 16000 * 5
