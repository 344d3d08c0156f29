"""`parley serve`: the OpenAI Realtime protocol on `/v1/realtime`, and a browser page at `/`.

One process, one copy of each model (`components/registry.py`), one parley `Session` per
connection with its own clock, event log, recorder, conversation and artefacts (under
`--sessions-dir`). The HTTP side serves three fixed files and a health check; nothing a client
sends names a file.

Who may connect: on loopback anyone on the machine; on any other address a token is required
(`Authorization: Bearer T`, or the `openai-insecure-api-key.T` subprotocol a browser can send). A
browser's `Origin` must be the server's own, so another site open in the same browser cannot drive
the agent. Past `--max-sessions` a connection gets an `error` event and is closed (1013, try later).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from parley.config import AgentConfig, TurnTakingConfig
from parley.errors import ParleyError
from parley.transports.realtime import wire
from parley.transports.realtime.connection import Limits, RealtimeConnection
from parley.transports.realtime.wire import SessionSettings, WireError

ROUTE = "/v1/realtime"
PAGES = {"/": ("index.html", "text/html; charset=utf-8"), "/index.html": ("index.html", "text/html; charset=utf-8"),
         "/app.js": ("app.js", "text/javascript; charset=utf-8"),
         "/worklet.js": ("worklet.js", "text/javascript; charset=utf-8")}
HARD_MAX_BYTES = 16 * 1024 * 1024  # a frame past this closes the socket (1009); below it, Limits answers
KEY_PROTOCOL = "openai-insecure-api-key."


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ServeOptions:
    cfg: AgentConfig
    arch: str = "cascade"
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_sessions: int = 4
    sessions_dir: Path | None = None
    limits: Limits = field(default_factory=Limits)

    def check(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise ParleyError(f"Listening on {self.host} needs a token (--token or PARLEY_TOKEN): anyone who can "
                              "reach the port could talk to the agent; or listen on 127.0.0.1.")
        if self.max_sessions < 1:
            raise ParleyError("--max-sessions must be at least 1.")


def default_detection(tt: TurnTakingConfig) -> dict:
    """The turn detection a session starts with, as the wire names parley's configured turn-taking."""
    if tt.endpoint.predict:
        return {"type": "semantic_vad", "eagerness": tt.endpoint.eagerness, "create_response": True,
                "interrupt_response": tt.barge_in}
    return {"type": "server_vad", "threshold": tt.vad.threshold, "prefix_padding_ms": tt.vad.preroll_ms,
            "silence_duration_ms": tt.endpoint.end_of_turn_ms, "create_response": True,
            "interrupt_response": tt.barge_in}


def session_config(base: AgentConfig, settings: SessionSettings) -> AgentConfig:
    """The agent's config for one connection: the client's instructions as the persona. The agent is
    built able to predict turn ends; the client's turn detection is applied on top (`retune`)."""
    cfg = base.model_copy(deep=True)
    if settings.instructions:
        cfg.persona = settings.instructions
    cfg.turn_taking.endpoint.predict = True
    return cfg


class RealtimeServer:
    def __init__(self, opts: ServeOptions) -> None:
        opts.check()
        self.opts = opts
        self.active = 0
        self.started = 0

    # --- HTTP side ---------------------------------------------------------------------------------

    def _authorized(self, request) -> bool:
        if not self.opts.token:
            return True
        offered = [request.headers.get("Authorization", "").removeprefix("Bearer ").strip()]
        for proto in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
            proto = proto.strip()
            if proto.startswith(KEY_PROTOCOL):
                offered.append(proto[len(KEY_PROTOCOL):])
        return any(o and hmac.compare_digest(o.encode(), self.opts.token.encode()) for o in offered)

    def _same_origin(self, request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser: the token (or loopback) decides
            return True
        return urlsplit(origin).netloc.lower() == request.headers.get("Host", "").lower()

    def process_request(self, connection, request):
        path = urlsplit(request.path).path
        if path == ROUTE:
            if not self._same_origin(request):
                return connection.respond(HTTPStatus.FORBIDDEN, "This page's origin may not use this server.\n")
            if not self._authorized(request):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "A valid token is required (Authorization: "
                                          "Bearer TOKEN).\n")
            return None  # go on with the WebSocket handshake
        if path == "/healthz":
            body = json.dumps({"status": "ok", "sessions": self.active, "max_sessions": self.opts.max_sessions})
            return _response(connection, HTTPStatus.OK, body.encode(), "application/json")
        if path in PAGES:
            name, ctype = PAGES[path]
            return _response(connection, HTTPStatus.OK, resources.files(__package__).joinpath("web", name).read_bytes(),
                             ctype)
        return connection.respond(HTTPStatus.NOT_FOUND, "Not found.\n")

    @staticmethod
    def select_subprotocol(connection, offered):
        """A browser offers `realtime` (and the key protocol); answer one it offered, or none."""
        for proto in offered:
            if proto == "realtime":
                return proto
        return offered[0] if offered else None

    # --- one connection ------------------------------------------------------------------------------

    async def handler(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self._admit(ws)
        except ConnectionClosed:
            pass  # the client went away; its session, if any, was closed and written

    async def _admit(self, ws) -> None:
        if self.active >= self.opts.max_sessions:
            outbox = wire.Outbox()
            err = WireError(f"The server is at its limit of {self.opts.max_sessions} sessions; try again later.",
                            code="session_limit_reached")
            await ws.send(json.dumps(outbox.event("error", error=wire.error_body(err, "server_error"))))
            await ws.close(1013, "session limit reached")
            return
        self.active += 1
        try:
            await self._converse(ws)
        finally:
            self.active -= 1

    async def _converse(self, ws) -> None:
        from parley.clock import RealClock
        from parley.session import Session

        opts = self.opts
        settings = SessionSettings(instructions=opts.cfg.persona, turn_detection=default_detection(opts.cfg.turn_taking))
        conn = RealtimeConnection(ws, settings, opts.limits)
        try:
            if not await asyncio.wait_for(conn.opening(), opts.limits.opening_s):
                return
        except asyncio.TimeoutError:
            conn.error(WireError(f"No session.update or audio came within {opts.limits.opening_s:g} s of connecting; "
                                 "the connection is closed to free its slot.", code="session_timeout"), "server_error")
            await conn.drain()
            await ws.close(1008, "idle")
            return
        self.started += 1
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        out_dir = opts.sessions_dir / name if opts.sessions_dir is not None else None
        try:
            async with Session(session_config(opts.cfg, settings), arch=opts.arch, clock=RealClock(),
                               out_dir=out_dir, name=name) as session:
                await conn.run(session)
        except ParleyError as exc:  # e.g. instructions too long for the window: said, then closed
            conn.error(WireError(str(exc), code="session_failed"), "server_error")
            await conn.drain()
            await ws.close(1011, "session could not start")

    async def serve_forever(self, ready: asyncio.Event | None = None) -> None:
        from websockets.asyncio.server import serve

        try:
            listening = await serve(self.handler, self.opts.host, self.opts.port, process_request=self.process_request,
                                    select_subprotocol=self.select_subprotocol, max_size=HARD_MAX_BYTES,
                                    ping_interval=20, ping_timeout=20, logger=_LOG)
        except OSError as exc:
            raise ParleyError(f"cannot listen on {self.opts.host}:{self.opts.port} ({exc.strerror or exc}); stop "
                              "whatever holds that port or give another --port.") from None
        async with listening as server:
            self.port = server.sockets[0].getsockname()[1]
            if ready is not None:
                ready.set()
            await server.serve_forever()


class _QuietProbes(logging.Filter):
    """Browsers open sockets they never use (preconnects) and scanners send junk: a failed opening
    handshake is not worth a traceback in the operator's terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "opening handshake failed"


_LOG = logging.getLogger("parley.serve")
_LOG.addFilter(_QuietProbes())


def _response(connection, status: HTTPStatus, body: bytes, ctype: str):
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", ctype), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
                       ("X-Content-Type-Options", "nosniff")])
    return Response(status.value, status.phrase, headers, body)


async def warm(opts: ServeOptions) -> None:
    """Load every model once, before the first caller (and fail here, in one sentence, if one cannot)."""
    from parley.clock import RealClock
    from parley.session import Session

    async with Session(opts.cfg, arch=opts.arch, clock=RealClock(), name="warm-up"):
        pass
