"""The turn-taking metrics are pure functions of event logs: checked on hand-made logs."""

import json
import subprocess
import sys

from parley.bench.turn_metrics import CaseLog, turn_taking
from parley.events import (
    AgentAudioPaused, AgentAudioStarted, AgentAudioStopped, AgentTurn, Backchannel, SimUtterance,
)

KEYS = {"pause_tor", "backchannel_tor", "smooth_tor", "smooth_latency_ms_p50", "interruption_tor",
        "interruption_stop_ms_p50", "interruption_stop_ms_p95", "false_interruption_rate",
        "agent_backchannels_per_min", "echo_self_interruptions", "n_cases", "monologue_tor"}
FDB_KEYS = {"fdb_pause_tor", "fdb_smooth_tor", "fdb_smooth_latency_ms", "fdb_interruption_tor",
            "fdb_interruption_latency_ms", "fdb_backchannel_tor", "fdb_backchannel_freq"}


def sim(i, start, end):
    return SimUtterance(t=end, session="s", index=i, text="", start=start, end=end)


def test_metrics_follow_their_definitions():
    cases = [
        # pause: the agent replied at 2.0 s, inside the user's utterance (0–4 s) → TOR 1
        CaseLog.single("p1", "pause", False, [sim(0, 0, 4), AgentAudioStarted(t=2.0, session="s", turn=1)]),
        # pause: only a backchannel inside, the reply after the end → TOR 0
        CaseLog.single("p2", "pause", False, [sim(0, 0, 4), AgentAudioStarted(t=2.0, session="s", turn=0),
                                       Backchannel(t=2.0, session="s", source="agent", text="Mhm."),
                                       AgentAudioStarted(t=4.5, session="s", turn=1)]),
        # smooth: reply 600 ms after the end
        CaseLog.single("s1", "smooth", True, [sim(0, 0, 2), AgentAudioStarted(t=2.6, session="s", turn=1)]),
        # backchannel: paused and resumed, never stopped → TOR 0, no false interruption
        CaseLog.single("b1", "backchannel", False, [sim(0, 0, 2), AgentAudioStarted(t=2.5, session="s", turn=1),
                                             sim(1, 4.0, 4.4), AgentAudioPaused(t=4.1, session="s", turn=1),
                                             AgentAudioStopped(t=9.0, session="s", turn=1, reason="finished"),
                                             AgentTurn(t=9.0, session="s", turn=1)]),
        # interruption: stopped 120 ms after onset, then answered
        CaseLog.single("i1", "interruption", True, [sim(0, 0, 2), AgentAudioStarted(t=2.5, session="s", turn=1),
                                             sim(1, 4.0, 6.0), AgentAudioPaused(t=4.12, session="s", turn=1),
                                             AgentAudioStopped(t=4.6, session="s", turn=1, reason="barge_in"),
                                             AgentAudioStarted(t=6.8, session="s", turn=2),
                                             # an echo self-interruption: a pause with no user audio playing
                                             AgentAudioPaused(t=8.0, session="s", turn=2)]),
        # a backchannel misheard as a barge-in: stopped 0.6 s after the user's audio, but the
        # reaction (the pause) came while the user spoke: a false interruption, not an echo one
        CaseLog.single("b2", "backchannel", True, [sim(0, 0, 2), AgentAudioStarted(t=2.5, session="s", turn=1),
                                            sim(1, 4.0, 4.4), AgentAudioPaused(t=4.1, session="s", turn=1),
                                            AgentAudioStopped(t=5.0, session="s", turn=1, reason="barge_in")]),
    ]
    m = turn_taking(cases)
    assert set(m) == KEYS
    assert m["pause_tor"] == 0.5
    assert m["smooth_tor"] == 1.0 and m["smooth_latency_ms_p50"] == 600.0
    assert m["backchannel_tor"] == 0.0 and m["false_interruption_rate"] == 0.5
    assert m["interruption_tor"] == 1.0 and abs(m["interruption_stop_ms_p50"] - 120) < 1e-6
    assert m["echo_self_interruptions"] == 1
    assert m["n_cases"] == 6 and m["agent_backchannels_per_min"] > 0


def test_one_conversation_holds_several_situations():
    """A bench scenario: a question, a backchannel over the reply, a follow-up, a barge-in."""
    ev = [sim(0, 0, 2), AgentAudioStarted(t=2.7, session="s", turn=1),
          sim(1, 4.0, 4.4), AgentAudioPaused(t=4.1, session="s", turn=1),
          AgentTurn(t=8.0, session="s", turn=1),
          sim(2, 9.0, 11.0), AgentAudioStarted(t=11.5, session="s", turn=3),
          sim(3, 13.0, 14.0), AgentAudioStopped(t=13.2, session="s", turn=3, reason="barge_in"),
          AgentAudioStarted(t=14.9, session="s", turn=4)]
    c = CaseLog("conv", False, ev, [("smooth", 0), ("backchannel", 1), ("smooth", 2), ("interruption", 3)])
    m = turn_taking([c])
    assert m["n_cases"] == 4 and m["smooth_tor"] == 1.0 and m["backchannel_tor"] == 0.0
    assert m["smooth_latency_ms_p50"] == 600.0  # 700 ms and 500 ms: each judged in its own window
    assert m["interruption_tor"] == 1.0 and abs(m["interruption_stop_ms_p50"] - 200) < 1e-6


def test_duplex_check_command_writes_its_contract(tmp_path):
    fdb = tmp_path / "fdb"
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "duplex-check", "--out", str(tmp_path),
                           "--llm", "fast", "--per-kind", "1", "--echo", "--export-fdb", str(fdb)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((tmp_path / "turn_taking.json").read_text())
    assert set(m) == KEYS | FDB_KEYS and m["n_cases"] == 5
    assert all(isinstance(m[k], (int, float)) for k in FDB_KEYS)
    for task, own in [("pause_handling", "pause.json"), ("smooth_turn_taking", "turn_taking.json"),
                      ("user_interruption", "interrupt.json"), ("backchannel", None)]:
        assert [p.name for p in (fdb / "cascade" / task).iterdir()] == ["0"]  # sample folders only, numbered
        files = {p.name for p in (fdb / "cascade" / task / "0").iterdir()}
        assert files == {"input.wav", "output.wav", "output.json"} | ({own} if own else set())
    assert m["echo_self_interruptions"] == 0
    assert m["smooth_tor"] == 1.0 and m["interruption_tor"] == 1.0
    assert (tmp_path / "cases" / "smooth-00" / "events.jsonl").exists()


def test_an_interruption_with_nothing_playing_has_no_stop_latency():
    """The agent's reply ended before the caller's 'barge-in' began: nothing was stopped."""
    ev = [sim(0, 0, 2), AgentAudioStarted(t=2.5, session="s", turn=1), AgentAudioStopped(t=3.0, session="s", turn=1),
          sim(1, 4.0, 5.0), AgentAudioStarted(t=5.8, session="s", turn=2), AgentAudioStopped(t=12.0, session="s", turn=2)]
    m = turn_taking([CaseLog("c", False, ev, [("smooth", 0), ("interruption", 1)])])
    assert m["interruption_tor"] == 1.0 and m["interruption_stop_ms_p50"] is None


def test_an_acknowledgement_is_the_replys_first_audio_and_no_takeover_of_a_pause():
    from parley.events import Acknowledgement

    ack = [sim(0, 0, 2), AgentAudioStarted(t=2.25, session="s", turn=0),
           Acknowledgement(t=2.25, session="s", turn=1, text="Mhm."), AgentAudioStarted(t=2.7, session="s", turn=1)]
    m = turn_taking([CaseLog.single("s", "smooth", False, ack)])
    assert m["smooth_tor"] == 1.0 and m["smooth_latency_ms_p50"] == 250.0
    # an acknowledgement into a mid-utterance pause whose turn never came is a backchannel
    paused = [sim(0, 0, 4), AgentAudioStarted(t=1.3, session="s", turn=0),
              Acknowledgement(t=1.3, session="s", turn=1, text="Mhm."), AgentAudioStarted(t=4.5, session="s", turn=2)]
    assert turn_taking([CaseLog.single("p", "pause", False, paused)])["pause_tor"] == 0.0
    # an acknowledgement of an earlier turn does not time this one
    other = [sim(0, 0, 2), Acknowledgement(t=1.0, session="s", turn=1, text="Mhm."),
             AgentAudioStarted(t=2.7, session="s", turn=1)]
    assert turn_taking([CaseLog.single("o", "smooth", False, other)])["smooth_latency_ms_p50"] == 700.0
