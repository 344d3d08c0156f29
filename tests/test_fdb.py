"""Full-Duplex-Bench v1: the official rules on exported samples, and an export that agrees with the audio."""

import json
from pathlib import Path

import numpy as np
import pytest

from parley.audio.wavio import write_wav
from parley.bench.fdb import conversation_samples, export_tree
from parley.bench.fdb_score import fdb_scores, score_tree, takes_turn
from parley.bench.turn_metrics import CaseLog, turn_taking
from parley.components import registry
from parley.events import AgentAudioStarted, AgentAudioStopped, AgentTurn, EventLog, RecordingStarted, SimUtterance

SR = 16000


def _sample(d: Path, words, turn_end=1.0, seconds=4.0, task_file="turn_taking.json"):
    d.mkdir(parents=True)
    write_wav(d / "input.wav", np.zeros(int(seconds * SR), np.float32))
    write_wav(d / "output.wav", np.zeros(int(seconds * SR), np.float32))
    (d / "output.json").write_text(json.dumps({"text": " ".join(w for w, _, _ in words),
                                               "chunks": [{"text": w, "timestamp": [s, e]} for w, s, e in words]}))
    (d / task_file).write_text(json.dumps([{"text": "[TURN-TAKING]", "timestamp": [turn_end, seconds]}]))
    return d


def test_a_one_word_blip_is_no_turn_for_fdb_but_a_turn_for_parley(tmp_path):
    # the agent answers "Sure." (0.4 s) 0.5 s after the user's turn ends: parley counts any reply
    d = _sample(tmp_path / "smooth_turn_taking" / "0", [("Sure.", 1.5, 1.9)])
    fdb = fdb_scores({"smooth_turn_taking": [d]})
    assert fdb["fdb_smooth_tor"] == 0.0 and fdb["fdb_smooth_latency_ms"] is None
    ev = [SimUtterance(t=1.0, session="s", index=0, text="q", start=0.0, end=1.0),
          AgentAudioStarted(t=1.5, session="s", turn=1), AgentAudioStopped(t=1.9, session="s", turn=1)]
    own = turn_taking([CaseLog.single("c", "smooth", False, ev)])
    assert own["smooth_tor"] == 1.0 and own["smooth_latency_ms_p50"] == 500.0


def test_fdb_turn_rule_and_latency_follow_the_official_definitions(tmp_path):
    assert takes_turn([]) == 0
    assert takes_turn([{"text": "w", "timestamp": [0.1 * i, 0.1 * i + 0.1]} for i in range(4)]) == 1  # 4 words < 1 s
    assert takes_turn([{"text": "Well", "timestamp": [0.0, 0.3]}, {"text": "no.", "timestamp": [0.9, 1.2]}]) == 1
    assert takes_turn([{"text": "Hm", "timestamp": [0.0, None]}]) == 0  # a missing end: the start stands in
    early = _sample(tmp_path / "a", [("Yes,", 0.8, 1.0), ("we", 1.0, 1.2), ("do", 1.2, 1.5), ("ship.", 1.5, 2.0)])
    late = _sample(tmp_path / "b", [("We", 1.6, 1.8), ("open", 1.8, 2.1), ("at", 2.1, 2.3), ("nine.", 2.3, 2.9)])
    fdb = fdb_scores({"smooth_turn_taking": [early, late]})
    assert fdb["fdb_smooth_tor"] == 1.0
    assert fdb["fdb_smooth_latency_ms"] == 300.0  # mean of 0 (a start before the turn end counts as 0) and 600 ms
    assert fdb["fdb_pause_tor"] is None and fdb["fdb_backchannel_freq"] is None


def test_backchannel_rule_uses_vad_segments_of_the_output(tmp_path, user_speech):
    """Two short 'Mhm.'s are backchannels (TOR 0, 2 per output duration); a long answer is a turn."""
    bc = user_speech("Mhm.")
    long = user_speech("Well, I think the best thing you can do is send the jacket back to us with the label.")
    out = np.zeros(20 * SR, np.float32)
    out[3 * SR:3 * SR + len(bc)] = bc
    out[9 * SR:9 * SR + len(bc)] = bc
    d = tmp_path / "backchannel" / "0"
    _sample(d, [("Mhm.", 3.0, 3.0 + len(bc) / SR), ("Mhm.", 9.0, 9.0 + len(bc) / SR)], seconds=20)
    (d / "turn_taking.json").unlink()
    write_wav(d / "output.wav", out)
    turn = tmp_path / "backchannel" / "1"
    _sample(turn, [("Well,", 5.0, 5.3)], seconds=20)
    (turn / "turn_taking.json").unlink()
    out2 = np.zeros(20 * SR, np.float32)
    out2[5 * SR:5 * SR + len(long)] = long
    write_wav(turn / "output.wav", out2)
    fdb = score_tree(tmp_path)
    assert fdb["fdb_backchannel_tor"] == 0.5  # 0 for the backchannels, 1 for the answer (a > 3 s segment)
    # "Well," before the answer's first pause is a short segment of its own: counted before the long one
    assert fdb["fdb_backchannel_freq"] == pytest.approx((2 / 20 + 1 / 20) / 2, abs=1e-4)


REPLY = "Yes, we sell gift cards in every store and online."


@pytest.mark.parametrize("offset_s,recorded", [(2.417, True), (3.0, True), (2.417, False)])
def test_exported_words_start_at_the_replys_first_audible_sample(tmp_path, user_speech, offset_s, recorded):
    """A conversation folder written by hand: the user asks, the agent (Piper) answers at `offset_s`.
    The export's first word must start within 30 ms of the first audible sample of the reply, with
    the words from the playout record, or (no record of the text) from Whisper."""
    question = user_speech("Do you sell gift cards?")
    reply = registry.piper(deterministic=True).synthesize(REPLY)
    n = int((offset_s + len(reply) / SR + 1.5) * SR)
    stereo = np.zeros((n, 2), np.float32)
    stereo[int(0.5 * SR):int(0.5 * SR) + len(question), 0] = question
    a = int(offset_s * SR)
    stereo[a:a + len(reply), 1] = reply
    conv = tmp_path / "conv"
    conv.mkdir()
    write_wav(conv / "conversation.wav", stereo)
    origin = 10.0  # the clock time the recording starts at: samples must be cut relative to it
    log = EventLog("s", conv / "events.jsonl")
    log.emit(RecordingStarted, t=origin)
    end = 0.5 + len(question) / SR
    log.emit(SimUtterance, t=origin + end, index=0, text="Do you sell gift cards?", start=origin + 0.5, end=origin + end)
    if recorded:
        log.emit(AgentAudioStarted, t=origin + offset_s, turn=1)
        log.emit(AgentAudioStopped, t=origin + offset_s + len(reply) / SR, turn=1)
        log.emit(AgentTurn, t=origin + offset_s + len(reply) / SR, turn=1, user="", agent=REPLY)
    log.close()
    samples = conversation_samples(conv, log.events, ["smooth"])
    d = samples["smooth_turn_taking"][0]
    out = json.loads((d / "output.json").read_text())
    loud = np.flatnonzero(np.abs(reply) >= 0.01)
    first_audible = offset_s + loud[0] / SR - 0.5  # in the sample, which starts with the user's line (0.5 s)
    assert out["chunks"], "the reply was not transcribed"
    assert abs(out["chunks"][0]["timestamp"][0] - first_audible) <= 0.03
    assert "gift" in out["text"].lower()
    if recorded:
        assert out["text"] == REPLY and len(out["chunks"]) == 10
        loud_end = offset_s + (loud[-1] + 1) / SR - 0.5
        assert abs(out["chunks"][-1]["timestamp"][1] - loud_end) <= 0.03
    turn_end = json.loads((d / "turn_taking.json").read_text())[0]["timestamp"][0]
    assert abs(turn_end - (end - 0.5)) < 1e-3
    assert conversation_samples(conv, log.events, ["smooth"]) == samples  # kept, not redone
    n = export_tree(tmp_path / "export", {"cascade": samples})
    assert n == 1 and sorted(p.name for p in (tmp_path / "export" / "cascade" / "smooth_turn_taking").iterdir()) == ["0"]


def test_acknowledgements_and_backchannels_keep_their_own_words():
    """Turn-0 audio is either an acknowledgement (logged as its audio starts) or an agent
    backchannel (logged when offered): each stretch gets its own line's words, in whichever order
    they were played, and none is left for Whisper to guess."""
    from parley.bench.fdb import played_words
    from parley.events import Acknowledgement, Backchannel

    agent = np.zeros(6 * SR, np.float32)
    for a, b in ((1.0, 1.4), (2.0, 2.3), (3.0, 4.0)):
        agent[int(a * SR):int(b * SR)] = 0.3
    log = EventLog("s")
    log.emit(RecordingStarted, t=0.0)
    log.emit(AgentAudioStarted, t=1.0, turn=0)
    log.emit(Acknowledgement, t=1.0, turn=1, text="Mhm.")
    log.emit(AgentAudioStopped, t=1.4, turn=0)
    log.emit(Backchannel, t=1.95, source="agent", text="Right.")
    log.emit(AgentAudioStarted, t=2.0, turn=0)
    log.emit(AgentAudioStopped, t=2.3, turn=0)
    log.emit(AgentAudioStarted, t=3.0, turn=1)
    log.emit(AgentAudioStopped, t=4.0, turn=1)
    log.emit(AgentTurn, t=4.0, turn=1, user="", agent="Sure, I can help.")
    words = played_words(log.events, agent, asr=object())  # any Whisper call would fail
    assert [w for w, _, _ in words] == ["Mhm.", "Right.", "Sure,", "I", "can", "help."]
    assert words[0][1] == pytest.approx(1.0, abs=0.01) and words[1][1] == pytest.approx(2.0, abs=0.01)
