"""The OpenAI-compatible backend against a local streaming server (the wire format vLLM/Ollama speak)."""

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from parley.cancel import CancelToken
from parley.clock import RealClock
from parley.components.llm.openai_http import OpenAIChatModel
from parley.errors import EndpointError

WORDS = ["Your", " order", " number", " is", " 4", "7", "1", "9", "2", "."]


class Handler(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Handler.requests.append(body)
        if body["model"] == "missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "model not found"}')
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for w in WORDS:
                chunk = {"choices": [{"delta": {"content": w}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled and closed the stream


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


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


@pytest.mark.slow
def test_bench_runs_the_cascade_on_an_openai_compatible_endpoint(server, tmp_path, monkeypatch):
    """`--arch cascade-openai`: the way to a bigger model. Real speech models, the LLM behind HTTP."""
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    monkeypatch.setenv("PARLEY_LLM_URL", server)
    Handler.requests.clear()
    scenario = tmp_path / "s.yaml"
    scenario.write_text("id: endpoint\ntitle: t\nsuites: [memory]\npersona: You are Sam from Northwind.\n"
                        "turns:\n  - say: What was my order number?\n    expect:\n      must_mention: ['47192']\n"
                        "      axis: memory\n")
    run = run_bench([str(scenario)], ["cascade-openai"], tmp_path / "out", base=AgentConfig())
    card = run.scorecard["architectures"]["cascade-openai"]
    assert card["conversations"] == 1 and card["failures"] == 0
    assert card["memory"]["accuracy"] == 1.0  # the endpoint's words reached the user's ears
    system = Handler.requests[-1]["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are Sam from Northwind.")
