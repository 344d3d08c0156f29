"""The OpenAI-compatible backend against a local streaming server (the wire format vLLM/Ollama speak)."""

import asyncio
import json
import time

import pytest

from parley.cancel import CancelToken
from parley.clock import RealClock
from parley.components.llm.fake_endpoint import WORDS, FakeEndpoint as Handler, serve
from parley.components.llm.openai_http import OpenAIChatModel
from parley.errors import EndpointError

@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def collect(model, cancel_after=None):
    async def main():
        cancel = CancelToken()
        out = []
        async for d in model.stream([{"role": "user", "content": "order?"}], cancel=cancel):
            out.append(d)
            if cancel_after and len(out) == cancel_after:
                cancel.cancel()
        return out

    return asyncio.run(main())


def test_streams_deltas_from_an_openai_compatible_server(server):
    model = OpenAIChatModel(server, "qwen", RealClock(), api_key="k")
    model.check()
    assert "".join(collect(model)) == "".join(WORDS)
    assert Handler.requests[-1]["stream"] is True and Handler.requests[-1]["messages"][0]["content"] == "order?"


def test_cancel_stops_the_stream(server):
    model = OpenAIChatModel(server, "qwen", RealClock())
    assert collect(model, cancel_after=2) == WORDS[:2]


def test_http_error_is_a_clear_endpoint_error(server):
    model = OpenAIChatModel(server, "missing", RealClock())
    with pytest.raises(EndpointError, match="HTTP 404"):
        collect(model)


def test_a_refused_request_is_retried_before_the_first_token(server):
    Handler.flaky_left = 2
    model = OpenAIChatModel(server, "flaky", RealClock())
    assert "".join(collect(model)) == "".join(WORDS)
    assert Handler.flaky_left == 0


def test_garbage_and_hangs_are_endpoint_errors_that_name_the_cause(server):
    with pytest.raises(EndpointError, match="no reply text.*2 unreadable"):
        collect(OpenAIChatModel(server, "garbage", RealClock()))
    t0 = time.perf_counter()
    with pytest.raises(EndpointError, match="did not answer within 0.3 s.*ReadTimeout"):
        collect(OpenAIChatModel(server, "hang", RealClock(), timeout_s=0.3))
    assert time.perf_counter() - t0 < 4.0  # three tries, backing off, then a sentence: no hang


@pytest.mark.slow
def test_a_failing_endpoint_is_said_and_reported_and_nothing_is_lost(server, tmp_path, user_speech):
    """The agent says its fallback line instead of silence, the CLI names the real cause and exits 1,
    and the call's artefacts are written."""
    import subprocess
    import sys

    from parley.audio.wavio import write_wav

    write_wav(tmp_path / "in.wav", user_speech("What time do you open tomorrow?"))
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "talk", "--input", str(tmp_path / "in.wav"),
                           "--llm-url", server, "--llm-model", "garbage", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "no reply text" in " ".join(proc.stderr.split())
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (tmp_path / "out" / "conversation.wav").exists()
    transcript = (tmp_path / "out" / "transcript.md").read_text()
    assert "having trouble" in transcript, transcript
    assert summary


@pytest.mark.slow
def test_bench_runs_the_cascade_on_an_openai_compatible_endpoint(server, tmp_path, monkeypatch):
    """`--arch cascade-openai`: the way to a bigger model. Real speech models, the LLM behind HTTP."""
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    monkeypatch.setenv("PARLEY_LLM_URL", server)
    Handler.requests.clear()
    scenario = tmp_path / "s.yaml"
    # The order number is in the persona: a number no source gave is not spoken (ground_numbers).
    scenario.write_text("id: endpoint\ntitle: t\nsuites: [memory]\n"
                        "persona: You are Sam from Northwind. The caller's order is 47192.\n"
                        "turns:\n  - say: What was my order number?\n    expect:\n      must_mention: ['47192']\n"
                        "      axis: memory\n")
    run = run_bench([str(scenario)], ["cascade-openai"], tmp_path / "out", base=AgentConfig())
    card = run.scorecard["architectures"]["cascade-openai"]
    assert card["conversations"] == 1 and card["failures"] == 0
    assert card["memory"]["accuracy"] == 1.0  # the endpoint's words reached the user's ears
    system = Handler.requests[-1]["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are Sam from Northwind.")
