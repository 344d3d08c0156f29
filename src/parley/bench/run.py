"""`parley bench`: scenarios × architectures → conversations on disk → scorecard and report.

Layout of a run directory (the contract):
    DIR/<arch>/<conversation>/{events.jsonl, conversation.wav, transcript.md, result.json, fdb/}
    DIR/scorecard.json, DIR/report.html
A conversation is a scenario said in one voice on one line: `<scenario>` in the scenario's own voice
and condition, or `<scenario>--<voice>--<condition>` when `--voices` / `--conditions` choose them.
A conversation with a `result.json` that says "ok" is finished and is not run again, so an
interrupted run resumes where it stopped. Conversations run in worker processes when `jobs` > 1
(each loads the models once); a crash is recorded in that conversation's `result.json` and the run
goes on. The scorecard is recomputed from every conversation's event log at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from parley.bench.conditions import ECHO_DB, active_rms, line_filter
from parley.bench.scenario import Scenario, ScenarioError, load_scenario
from parley.bench.scorecard import Conversation, build_scorecard
from parley.architectures.registry import clock_for, configure
from parley.config import AgentConfig
from parley.errors import ParleyError, describe
from parley.events import read_events

SCENARIO_DIR = Path(__file__).parent / "scenarios"
BUILTIN_SUITES = ("smoke", "memory", "knowledge", "adherence", "turn-taking", "latency", "hearing", "full")


# --- what to run ---------------------------------------------------------------------------------

def select_scenarios(suites: list[str]) -> list[Scenario]:
    """Built-in suite names, or paths to scenario files / folders. Every file is validated first."""
    builtin: list[Scenario] = []  # read once, whatever number of built-in suites is asked for
    chosen: dict[str, Scenario] = {}
    for suite in suites:
        if suite in BUILTIN_SUITES:
            builtin = builtin or [load_scenario(p) for p in sorted(SCENARIO_DIR.glob("*.yaml"))]
            for sc in builtin:
                if suite == "full" or suite in sc.suites:
                    chosen.setdefault(sc.id, sc)
            continue
        path = Path(suite)
        if not path.exists():
            raise ScenarioError(f"unknown suite {suite!r}: use one of {', '.join(BUILTIN_SUITES)}, "
                                "or a path to a scenario file or folder.")
        for p in sorted(path.rglob("*.yaml")) if path.is_dir() else [path]:
            sc = load_scenario(p)
            chosen.setdefault(sc.id, sc)
    if not chosen:
        raise ScenarioError(f"no scenarios in suite(s) {', '.join(suites)}.")
    return list(chosen.values())


def scenario_config(cfg: AgentConfig, scenario: Scenario, workdir: Path | None = None) -> AgentConfig:
    """The agent's configuration for this scenario: persona, procedure and knowledge documents in its
    system prompt — or, with `retrieval: true`, a knowledge base built in `workdir/kb` and searched
    per turn; `context_tokens` sets the LLM's window."""
    cfg = cfg.model_copy(deep=True)
    cfg.persona = scenario.persona or cfg.persona
    cfg.procedure = list(scenario.procedure)
    cfg.limits = list(scenario.limits)
    if scenario.context_tokens:
        cfg.llm.n_ctx = scenario.context_tokens
    paths = scenario.knowledge_paths()
    if scenario.retrieval and paths:
        from parley.dialogue.knowledge import KnowledgeBase
        from parley.dialogue.screen import screener

        kb = KnowledgeBase((workdir or Path.cwd()) / "kb")
        screen = screener(cfg.llm) if cfg.knowledge.screen else None
        for p in paths:
            kb.add(p, screen=screen)
        cfg.knowledge.path = str(kb.folder)
    else:
        cfg.knowledge.documents = [str(p) for p in paths]
    return cfg


@dataclass(frozen=True)
class Variant:
    """A scenario said in one voice, on one line."""
    scenario: Scenario
    voice: str
    condition: str
    key: str  # its folder name under DIR/<arch>/


def variants(scenarios: list[Scenario], voices: list[str] | None = None,
             conditions: list[str] | None = None) -> list[Variant]:
    """Each scenario once per chosen voice and condition (its own when none are chosen)."""
    if voices is None and conditions is None:
        return [Variant(sc, sc.own_voice, sc.own_condition, sc.id) for sc in scenarios]
    return [Variant(sc, v, c, f"{sc.id}--{v}--{c}") for sc in scenarios
            for v in (voices or [sc.own_voice]) for c in (conditions or [sc.own_condition])]


# --- one conversation (runs in a worker process) -------------------------------------------------

@dataclass
class Job:
    arch: str
    scenario_path: str
    out_dir: str
    clock: str
    config: dict
    voice: str = "joe"
    condition: str = "clean"
    fingerprint: str = ""  # what produced the conversation: a resumed run reuses only an identical one


def fingerprint(arch: str, config: dict, scenario: Scenario, voice: str, condition: str, clock: str) -> str:
    """A digest of everything a finished conversation depends on: the agent's configuration, the
    scenario file and its documents, the caller's voice and line, the clock, parley's version and
    the LLM's weights."""
    import hashlib

    from parley import __version__
    from parley.components.weights import MODELS

    weights = MODELS[config["llm"]["model"]].sha256 if config["llm"]["model"] in MODELS else config["llm"]["model"]
    files = [scenario.path, *scenario.knowledge_paths()]
    parts = [arch, json.dumps(config, sort_keys=True), *(hashlib.sha256(f.read_bytes()).hexdigest() for f in files),
             voice, condition, clock, __version__, weights]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def run_job(job: Job) -> dict:
    import numpy as np

    from parley.architectures.registry import architecture
    from parley.bench.fdb import conversation_samples
    from parley.bench.user import user_lines
    from parley.clock import RealClock, VirtualClock
    from parley.runner import run_conversation

    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w0 = time.perf_counter()
    result = {"architecture": job.arch, "scenario": Path(job.scenario_path).stem, "voice": job.voice,
              "condition": job.condition, "status": "ok", "error": None, "fingerprint": job.fingerprint}
    try:
        scenario = load_scenario(Path(job.scenario_path))
        result["scenario"] = scenario.id
        cfg = scenario_config(AgentConfig.model_validate(job.config), scenario, out)
        clock = VirtualClock() if job.clock == "virtual" else RealClock()  # `run_clock` chose it
        lines = user_lines(scenario, job.voice)
        speech = active_rms(np.concatenate([line.pcm for line in lines]))
        res = asyncio.run(run_conversation(
            cfg, lines, clock=clock, out_dir=out, session=out.name, arch=job.arch,
            agent_kwargs={} if architecture(job.arch).remote else {"tts": _fresh_agent_voice(cfg)}, line=line_filter(job.condition, speech),
            echo_db=ECHO_DB if job.condition == "echo" else None, reply_timeout_s=20.0, tail_s=1.5))
        result["conversation_s"] = round(res.log.events[-1].t, 3) if res.log.events else 0.0
        conversation_samples(out, res.log.events, [t.kind for t in scenario.turns])
    except ParleyError as exc:
        result.update(status="failed", error=str(exc))
    except Exception as exc:  # recorded, and the run goes on
        result.update(status="failed", error=describe(exc))
        (out / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
    result["wall_s"] = round(time.perf_counter() - w0, 3)
    (out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _fresh_agent_voice(cfg: AgentConfig):
    """A new Piper session for this conversation's agent, created after `onnxruntime.set_seed`: VITS
    samples prosody noise inside its ONNX graph, seeded when a session is created, so the same
    replies sound the same in every run, in any order or worker. Bypasses the registry's cache (a
    cached session's noise would carry on from the previous conversation); the user's voice is
    noiseless and stays cached."""
    import onnxruntime as ort

    from parley.components import registry

    ort.set_seed(0)
    return registry.piper.__wrapped__(cfg.tts.length_scale, threads=cfg.tts.threads)


def _finished(conv_dir: Path, fingerprint: str) -> bool:
    """Finished, by the same configuration, scenario, voice, line and models as this run asks for."""
    try:
        result = json.loads((conv_dir / "result.json").read_text())
        return result["status"] == "ok" and result.get("fingerprint") == fingerprint
    except (OSError, ValueError, KeyError):
        return False


# --- the run ---------------------------------------------------------------------------------------

@dataclass
class BenchRun:
    scorecard: dict
    results: dict[str, list[Conversation]]
    ran: int
    reused: int
    wall_s: float
    conversation_s: float  # simulated (or real) conversation time of the conversations run now


def run_bench(suites: list[str], archs: list[str], out: Path, *, base: AgentConfig, clock: str = "virtual",
              jobs: int = 1, voices: list[str] | None = None, conditions: list[str] | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[dict], None] | None = None) -> BenchRun:
    from parley.bench.voices import check_engine

    scenarios = select_scenarios(suites)  # validated before anything runs
    runs = variants(scenarios, voices, conditions)
    for v in sorted({r.voice for r in runs}):
        check_engine(v)
    if jobs > 1:  # share the cores: oversubscribed llama.cpp threads spin and stall each other
        base = base.model_copy(deep=True)
        base.llm.threads = base.asr.threads = base.tts.threads = max(1, (os.cpu_count() or 2) // jobs)
    configs, skipped = {}, {}
    for arch in archs:
        cfg, reason = configure(arch, base)
        if cfg is None:
            skipped[arch] = reason
        else:
            configs[arch] = cfg
    jobs_all = []
    for arch, cfg in configs.items():
        dump = cfg.model_dump(mode="json")
        arch_clock = clock_for(arch, clock)
        for r in runs:
            fp = fingerprint(arch, dump, r.scenario, r.voice, r.condition, arch_clock)
            jobs_all.append(Job(arch, str(r.scenario.path), str(out / arch / r.key), arch_clock, dump, r.voice,
                                r.condition, fp))
    todo = [j for j in jobs_all if not _finished(Path(j.out_dir), j.fingerprint)]
    reused = len(configs) * len(runs) - len(todo)
    if on_start:
        on_start(len(todo))
    w0 = time.perf_counter()
    results = []
    if jobs <= 1 or len(todo) <= 1:
        for job in todo:
            results.append(run_job(job))
            if on_done:
                on_done(results[-1])
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            for fut in as_completed([pool.submit(run_job, job) for job in todo]):
                results.append(fut.result())
                if on_done:
                    on_done(results[-1])
    wall = time.perf_counter() - w0
    convs = load_conversations(out, runs, list(configs))
    card = score(out, suites, convs, skipped)
    return BenchRun(card, convs, len(todo), reused, wall, sum(r.get("conversation_s", 0.0) for r in results))


def load_conversations(out: Path, runs: list[Variant], archs: list[str]) -> dict[str, list[Conversation]]:
    """Every conversation of the run, judged from its event log on disk, with its FDB samples (cut
    here if the conversation ran before they existed)."""
    from parley.bench.fdb import conversation_samples

    results: dict[str, list[Conversation]] = {}
    for arch in archs:
        convs = []
        for r in runs:
            sc, d = r.scenario, out / arch / r.key
            try:
                error = json.loads((d / "result.json").read_text()).get("error")
            except (OSError, ValueError):
                error = "the conversation did not finish"
            try:
                events = read_events(d / "events.jsonl")
            except (OSError, ValueError):
                events = []
            samples = conversation_samples(d, events, [t.kind for t in sc.turns]) if events else {}
            conv = Conversation(sc, events, error, voice=r.voice, condition=r.condition, samples=samples, key=r.key)
            if d.exists():
                (d / "judge.json").write_text(json.dumps([c.to_dict() for c in conv.checks], indent=2),
                                              encoding="utf-8")
            convs.append(conv)
        results[arch] = convs
    return results


def score(out: Path, suites: list[str], results: dict[str, list[Conversation]], skipped: dict[str, str]) -> dict:
    """scorecard.json and report.html from the judged conversations."""
    from parley.bench.report import write_report

    card = build_scorecard(suites, results, skipped)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scorecard.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    write_report(out, card, results)
    return card
