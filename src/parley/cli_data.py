"""`parley kb` and `parley sessions`: the commands over what parley keeps on disk — a knowledge
base, and the sessions it wrote. `cli.py` adds them to the main command."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from parley.config import AgentConfig
from parley.errors import ParleyError

kb_app = typer.Typer(no_args_is_help=True, help="The knowledge base: add documents, search them.")
sessions_app = typer.Typer(no_args_is_help=True, help="Sessions on disk: list, show, repair after a kill, export.")
KB_DIR = Path(os.environ.get("PARLEY_KB") or ".parley/kb")
console = Console()


@kb_app.command("add")
def kb_add(
    path: Path = typer.Argument(..., help="A Markdown, text, HTML or PDF file, or a folder of them."),
    kb: Path = typer.Option(KB_DIR, "--kb", help="Knowledge-base folder (default: $PARLEY_KB or .parley/kb)."),
    screen: bool = typer.Option(True, "--screen/--no-screen", help="Leave out paragraphs the chat model reads as orders to the assistant (prompt injection)."),
) -> None:
    """Index documents: new and changed files are (re)chunked, screened and embedded, removed ones dropped."""
    import time

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from parley.dialogue.knowledge import KnowledgeBase
    from parley.dialogue.screen import screener

    t0 = time.perf_counter()
    base = KnowledgeBase(kb)  # a damaged index is reported before any model loads
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("indexing", total=None)
        stats = base.add(path, screen=screener(AgentConfig().llm) if screen else None,
                         progress=lambda done, total, f: bar.update(task, completed=done, total=total,
                                                                    description=escape(f.name)))
    dt = time.perf_counter() - t0
    console.print(f"{kb}: {stats['added']} added, {stats['updated']} updated, {stats['unchanged']} unchanged, "
                  f"{stats['removed']} removed; {stats['chunks'] or 'no new'} chunks in the index ({dt:.1f} s)")
    if stats["quarantined"]:
        console.print(f"[yellow]{stats['quarantined']} paragraph(s) left out[/]: they read as orders to the "
                      f"assistant (listed under \"quarantined\" in {kb}/manifest.json)")
    if stats["withheld"]:
        console.print(f"{stats['withheld']} code(s), number(s) or link(s) in passages the screener doubts will not be "
                      f"said unless the caller says them (\"withheld\" in {kb}/manifest.json)")



@kb_app.command("search")
def kb_search(
    query: str = typer.Argument(..., help="What to look for."),
    kb: Path = typer.Option(KB_DIR, "--kb", help="Knowledge-base folder (default: $PARLEY_KB or .parley/kb)."),
    k: int = typer.Option(3, "-k", help="How many chunks to return."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Hybrid search (BM25 + MiniLM embeddings, rank-fused) over the knowledge base."""
    import json

    from parley.dialogue.knowledge import KnowledgeBase

    base = KnowledgeBase(kb)
    if not base.chunks:
        raise ParleyError(f"the knowledge base {kb} is empty; add documents with `parley kb add PATH --kb {kb}`.")
    hits = base.search(query, k=k)
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
        return
    for i, h in enumerate(hits, 1):
        console.print(f"[bold]{i}. {escape(h.chunk.title)}[/] ({escape(h.chunk.source)}, score {h.score:.4f})")
        console.print(escape(h.chunk.text), soft_wrap=True)


@sessions_app.command("list")
def sessions_list(
    folder: Path = typer.Argument(Path("out"), help="Where sessions were written (searched at any depth)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every session under FOLDER: architecture, turns, length, and whether it ended cleanly."""
    import json

    from parley.sessions import find

    found = find(folder)
    if as_json:
        print(json.dumps([s.to_dict() for s in found], indent=2))
        return
    table = Table(title=f"Sessions under {folder}")
    for col in ("session", "architecture", "turns", "seconds", "state"):
        table.add_column(col, justify="right" if col in ("turns", "seconds") else "left")
    for s in found:
        state = "[green]complete[/]" if s.state == "complete" else f"[yellow]{s.state}[/]" \
            if s.state == "repaired" else f"[red]{s.state}[/]"
        table.add_row(escape(str(s.folder)), s.architecture, str(s.turns), f"{s.seconds:g}", state)
    console.print(table)
    if any(s.state == "interrupted" for s in found):
        console.print("interrupted sessions lack transcript, summary or recording: `parley sessions repair FOLDER`")


@sessions_app.command("show")
def sessions_show(folder: Path = typer.Argument(..., help="A session folder (holding events.jsonl).")) -> None:
    """The session's turns: what the caller said, what the agent heard and said, and how fast."""
    from parley.sessions import records

    for r in records(folder):
        console.print(f"[bold]user:[/] {escape(r.user)}")
        if r.heard_user and r.heard_user.strip().lower() != r.user.strip().lower():
            console.print(f"  [dim]heard: {escape(r.heard_user)}[/]")
        lat = f" ({r.latency_ms:.0f} ms)" if r.latency_ms is not None else ""
        console.print(f"[bold]agent{lat}:[/] {escape(r.agent)}" + (" [interrupted]" if r.interrupted else ""))


@sessions_app.command("repair")
def sessions_repair(folder: Path = typer.Argument(..., help="A session folder, or a folder of sessions.")) -> None:
    """Rebuild transcript.md, summary.json and conversation.wav from events.jsonl and audio.journal
    (after a crash or kill -9)."""
    from parley.sessions import find, repair

    todo = [s.folder for s in find(folder) if s.state == "interrupted"]
    for f in todo:
        console.print(f"{escape(str(f))}: wrote {', '.join(repair(f))}")
    if not todo:
        console.print(f"nothing to repair under {escape(str(folder))}")


@sessions_app.command("export")
def sessions_export(
    folder: Path = typer.Argument(..., help="A session folder."),
    to: Path = typer.Option(Path("."), "--to", help="A .zip file, or a folder to write SESSION.zip in."),
) -> None:
    """One zip with the session's artefacts (repaired first if it was interrupted)."""
    from parley.sessions import export

    console.print(f"wrote {export(folder, to)}")
