"""A local OpenAI-style chat endpoint that misbehaves on request: the LLM seam's test double.

It speaks the wire format vLLM, Ollama and llama.cpp server speak (`POST /v1/chat/completions`,
Server-Sent Events) and answers by the requested model name, so a test or the reliability suite can
put any fault behind `--llm-url`:
  missing  → HTTP 404            error   → HTTP 500          flaky → HTTP 503, `flaky_left` times, then text
  hang     → sleeps `hang_s` first   garbage → events that are not JSON   anything else → WORDS
It never stands in for a real model in a capability; it tests what parley does when one fails.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

WORDS = ["Your", " order", " number", " is", " 4", "7", "1", "9", "2", "."]


class FakeEndpoint(BaseHTTPRequestHandler):
    requests: list = []  # request bodies, newest last
    flaky_left = 0
    hang_s = 2.0

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"data": []}')

    def _status(self, code: int, body: bytes = b"") -> None:
        self.send_response(code)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeEndpoint.requests.append(body)
        model = body["model"]
        if model == "missing":
            return self._status(404, b'{"error": "model not found"}')
        if model == "error":
            return self._status(500, b'{"error": "internal"}')
        if model == "flaky" and FakeEndpoint.flaky_left > 0:
            FakeEndpoint.flaky_left -= 1
            return self._status(503)
        if model == "hang":
            time.sleep(FakeEndpoint.hang_s)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            if model == "garbage":
                self.wfile.write(b'data: <html>Bad gateway</html>\n\ndata: {"choices": 7}\n\ndata: [DONE]\n\n')
                return
            for w in WORDS:
                self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': w}}]})}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled and closed the stream


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """The endpoint on 127.0.0.1 at a free port, for the duration: yields its base URL (…/v1)."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        srv.shutdown()
