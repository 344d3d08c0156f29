"""`parley serve`: the agent behind the OpenAI Realtime protocol and a browser page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from parley.errors import ParleyError

console = Console()


def serve(
    arch: str = typer.Option("cascade", "--arch", help="Architecture behind the socket: cascade or hybrid."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; any non-loopback address needs --token."),
    port: int = typer.Option(8000, "--port", help="TCP port (0: any free port, printed at start)."),
    token: Optional[str] = typer.Option(None, "--token", envvar="PARLEY_TOKEN", show_envvar=True,
                                        help="Clients must send it (Authorization: Bearer T); required off loopback."),
    max_sessions: int = typer.Option(4, "--max-sessions", help="Concurrent sessions; one more gets an error event and is closed."),
    sessions_dir: Path = typer.Option(Path("out/sessions"), "--sessions-dir", help="Each session's artefacts go to a folder here."),
    kb: Optional[Path] = typer.Option(None, "--kb", help="Knowledge base folder (`parley kb add`) every session retrieves from."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality or fast."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config: persona, procedure, limits, turn-taking."),
) -> None:
    """Serve the agent over the OpenAI Realtime protocol (ws://HOST:PORT/v1/realtime) with a talk page at /."""
    from parley.cli import _arch, _config, _out_dir
    from parley.transports.realtime.server import RealtimeServer, ServeOptions, warm

    if arch not in ("cascade", "hybrid"):
        from parley.errors import ParleyError

        raise ParleyError(f"parley serve runs the cascade or the hybrid, not {arch!r}.")
    cfg = _arch(arch, _config(config, llm, None, None))
    if kb is not None:
        cfg.knowledge.path = str(kb)
    opts = ServeOptions(cfg=cfg, arch=arch, host=host, port=port, token=token or None,
                        max_sessions=max_sessions, sessions_dir=_out_dir(sessions_dir))
    server = RealtimeServer(opts)  # refuses an unsafe address before any model loads
    _port_free(host, port)  # and a port in use, before a minute of loading models

    async def main() -> None:
        console.print(f"loading the {arch} models…")
        await warm(opts)
        ready = asyncio.Event()
        task = asyncio.ensure_future(server.serve_forever(ready))
        await asyncio.wait([task, asyncio.ensure_future(ready.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
        url = f"{host if ':' not in host else f'[{host}]'}:{server.port}"
        console.print(f"parley serve ({arch}): ws://{url}/v1/realtime · talk page http://{url}/ · "
                      f"sessions in {sessions_dir} · Ctrl-C to stop", soft_wrap=True)
        await task

    asyncio.run(main())


def _port_free(host: str, port: int) -> None:
    import socket

    if port == 0:
        return
    try:
        for family, kind, proto, _name, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            with socket.socket(family, kind, proto) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
                s.bind(addr)
    except OSError as exc:
        raise ParleyError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); stop whatever holds that port "
                          "or give another --port.") from None
