"""`parley budget`: the context planner's contract and its arithmetic."""

import json
import subprocess
import sys

from parley.dialogue.budget import MOSHI_WINDOW, moshi, plan


def test_budget_json_contract_ten_minutes_with_knowledge(tmp_path):
    persona = tmp_path / "persona.txt"
    persona.write_text("You are Sam. Speak briefly.")
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "budget", "--minutes", "10", "--knowledge-tokens", "4000",
                           "--persona", str(persona), "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    archs = json.loads(proc.stdout)["architectures"]
    for b in archs.values():
        assert {"window", "unit", "used", "fits", "lost_minutes"} <= set(b)
    assert archs["cascade"]["fits"] is True and archs["cascade"]["lost_minutes"] == 0
    assert archs["moshi"]["fits"] is False and archs["moshi"]["lost_minutes"] > 5  # only the last 4 minutes remain
    assert archs["moshi"]["prompt_lost"] is True


def test_moshi_ring_drops_the_prompt_before_any_history():
    b = moshi(minutes=3.0, prompt_tokens=900)  # 2250 steps of audio + 900 of prompt = 3150 > 3000
    assert not b.fits and b.prompt_lost and b.lost_minutes == 0.0
    assert moshi(minutes=3.0, prompt_tokens=0).fits
    assert moshi(minutes=MOSHI_WINDOW / 750 + 1, prompt_tokens=0).lost_minutes == 1.0


def test_a_long_call_overflows_the_cascade_window_and_says_how_much():
    b = plan(60, 4000, "persona", n_ctx=8192, reply_tokens=120)["cascade"]
    assert not b.fits and 0 < b.lost_minutes < 60


def test_the_room_left_for_a_moshi_prompt_keeps_it_in_the_window_for_the_whole_call():
    from parley.dialogue.budget import moshi_prompt_room

    room = moshi_prompt_room(2.0)
    assert room == 1500 and moshi(2.0, room).fits and not moshi(2.0, room).prompt_lost
    assert moshi(2.0, room + 1).prompt_lost and moshi_prompt_room(10.0) == 0
