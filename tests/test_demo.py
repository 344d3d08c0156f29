"""The main job with the default (quality) model: the demo's contract, checked on its real output."""

import json
import subprocess
import sys

import pytest

from parley.demo import DEMO_LINES, ORDER_NUMBER, RECALL_TURN
from parley.textnorm import mentions


@pytest.mark.slow
def test_demo_recalls_the_order_number_and_writes_its_contract(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["architecture"] == "cascade"
    assert len(summary["turns"]) >= 5
    for turn in summary["turns"]:
        assert set(turn) == {"user", "agent", "latency_ms"}
        assert isinstance(turn["latency_ms"], float) and turn["latency_ms"] > 0
    assert isinstance(summary["latency_ms"]["p50"], float) and isinstance(summary["latency_ms"]["p95"], float)
    recall = [t for t in summary["turns"] if t["user"] == DEMO_LINES[RECALL_TURN]]
    assert recall and mentions(ORDER_NUMBER, recall[0]["agent"]), recall
    for line in (out / "events.jsonl").read_text().splitlines():
        ev = json.loads(line)
        assert isinstance(ev["t"], float | int) and ev["kind"] and ev["session"]
    assert (out / "conversation.wav").stat().st_size > 16000 * 4 * 10
    assert "Maria" in (out / "transcript.md").read_text()
