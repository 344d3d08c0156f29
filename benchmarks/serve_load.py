"""Many callers on one `parley serve`: latency and memory with N = 1, 2, 4, 8 concurrent clients.

First the same lines run in this process over the loopback line on the real clock (the in-process
baseline, `benchmarks/latency.py`'s measure). Then a `parley serve` subprocess, and for each N, N
clients speaking the Realtime protocol at once, each like a microphone: 20 ms blocks sent as they
are "captured" (silence between turns), one scripted line per turn, the next line once the reply
has played whole and a second has passed. Client starts are staggered by `--stagger` seconds
(default 0.5: their turns come nearly in step, the worst case for the server).

  latency   the last block of the caller's speech sent → the first `response.output_audio.delta`
            with audio received (client wall clock; the loopback measures the same span: true end of
            speech → first agent sample played)
  answer    from the server's event logs: the VAD's end of speech → the first sample of the answer
            itself (a hybrid's opener excluded)
  rss       the server's resident memory (VmRSS), sampled every 0.5 s: peak per N and the growth
            per extra session
  cpu/turn  the server's CPU time (user + system, all its threads) over the phase, per caller turn:
            the core-seconds one turn costs, which bounds how many callers two cores can answer
  idle      before the phases, `--idle` callers connected and sending silence only, for 10 s: the
            share of one core each costs while nobody speaks (listening, echo guard, resampling)

Nothing else may run meanwhile (two CPU-bound processes on two cores distort everything).

Usage: python benchmarks/serve_load.py [--n 1,2,4,8] [--turns 6] [--arch cascade|hybrid] [--llm fast|quality]
                                       [--stagger S] [--idle K] [--no-loopback] [--json FILE] [--out DIR]
                                       [--config FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from latency import LINES, pct  # noqa: E402

from parley.audio.resample import resample  # noqa: E402
from parley.bench.voices import speak_as_user  # noqa: E402

BLOCK_S = 0.02
RATE = 24000


def pcm16(pcm: np.ndarray) -> bytes:
    return (np.clip(resample(pcm, 16000, RATE), -1, 1) * 32767).astype("<i2").tobytes()


class Caller:
    """One client: a microphone that sends speech when there is a line to say, silence otherwise."""

    def __init__(self, url: str, lines: list[bytes]) -> None:
        self.url, self.lines = url, lines
        self.latencies: list[float] = []
        self.errors: list[str] = []

    async def run(self, delay: float, silent_s: float = 0.0) -> None:
        """Speak the lines, or with `silent_s` only send silence for that long."""
        from websockets.asyncio.client import connect

        await asyncio.sleep(delay)
        block = int(RATE * BLOCK_S) * 2
        silence = base64.b64encode(bytes(block)).decode()
        async with connect(self.url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
            while json.loads(await ws.recv())["type"] != "session.updated":
                pass
            queue: list[str] = []
            spoke_at: list[float] = []  # when the current line's last block was sent
            done = asyncio.Event()

            async def microphone() -> None:
                due = time.monotonic()
                while True:
                    due += BLOCK_S
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    chunk = queue.pop(0) if queue else silence
                    await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
                    if chunk is not silence and not queue:
                        spoke_at.append(time.monotonic())

            async def listen() -> None:
                first = None
                async for raw in ws:
                    ev = json.loads(raw)
                    kind = ev["type"]
                    if kind == "response.output_audio.delta" and first is None and ev["delta"] and spoke_at:
                        first = time.monotonic()
                        self.latencies.append((first - spoke_at[-1]) * 1000)
                    elif kind == "response.done" and ev["response"].get("metadata") is None:
                        first = None
                        done.set()
                    elif kind == "error":
                        self.errors.append(ev["error"]["code"])

            mic, ear = asyncio.ensure_future(microphone()), asyncio.ensure_future(listen())
            try:
                await asyncio.sleep(silent_s)
                for audio in [] if silent_s else self.lines:
                    done.clear()
                    queue.extend(base64.b64encode(audio[i:i + block]).decode() for i in range(0, len(audio), block))
                    await asyncio.wait_for(done.wait(), 60)
                    await asyncio.sleep(1.0)
            finally:
                mic.cancel()
                ear.cancel()
                await asyncio.gather(mic, ear, return_exceptions=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """The process's CPU time so far, user + system, all threads (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle_cost(url: str, pid: int, k: int, seconds: float = 10.0) -> float:
    """The share of one core that each of `k` connected, silent callers costs the server."""
    callers = [Caller(url, []) for _ in range(k)]
    task = asyncio.gather(*(c.run(0.0, silent_s=seconds + 2.0) for c in callers))
    await asyncio.sleep(2.0)  # sessions set up
    start, t0 = cpu_s(pid), time.monotonic()
    await asyncio.sleep(seconds)
    share = (cpu_s(pid) - start) / (time.monotonic() - t0) / k
    await task
    return share


async def phase(url: str, pid: int, n: int, lines: list[bytes], turns: int, stagger: float) -> dict:
    callers = [Caller(url, [lines[(i * 3 + k) % len(lines)] for k in range(turns)]) for i in range(n)]
    peak = rss_mb(pid)
    cpu0 = cpu_s(pid)
    task = asyncio.gather(*(c.run(stagger * i) for i, c in enumerate(callers)))
    while not task.done():
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mb(pid))
    await task
    lat = [x for c in callers for x in c.latencies]
    return {"n": n, "turns": len(lat), "p50_ms": round(pct(lat, 50)), "p95_ms": round(pct(lat, 95)),
            "max_ms": round(max(lat)) if lat else None, "rss_peak_mb": round(peak),
            "cpu_s_per_turn": round((cpu_s(pid) - cpu0) / max(1, len(lat)), 2),
            "errors": sorted({e for c in callers for e in c.errors}),
            "per_turn_ms": [round(x) for x in callers[0].latencies]}


def loopback(args, texts: list[str]) -> dict:
    from parley.config import AgentConfig
    from parley.runner import run_conversation
    from parley.transports.loopback import UserLine

    cfg = AgentConfig()
    cfg.llm.model = args.llm
    res = asyncio.run(run_conversation(cfg, [UserLine(t, speak_as_user(t)) for t in texts], arch=args.arch,
                                       out_dir=Path(args.out) / "loopback"))
    lat = [r.latency_ms for r in res.records if r.latency_ms is not None]
    return {"turns": len(lat), "p50_ms": round(pct(lat, 50)), "p95_ms": round(pct(lat, 95)),
            "per_turn_ms": [round(x) for x in lat]}


def _turn_times(events, with_turns: bool = False) -> list:
    """(the VAD's end of the caller's speech, the agent's first sample) for each answered turn."""
    from parley.events import AgentAudioStarted, TurnEndPredicted, UserSpeechStopped

    stops, ends, out = [], {}, {}
    for e in events:
        if isinstance(e, UserSpeechStopped):
            stops.append(e.t)
        elif isinstance(e, TurnEndPredicted) and stops:
            ends[e.turn] = stops[-1]
        elif isinstance(e, AgentAudioStarted) and e.turn in ends:
            out.setdefault(e.turn, (ends[e.turn], e.t))
    return [(k, out[k]) if with_turns else out[k] for k in sorted(out)]


def content_ms(session_dirs) -> list[float]:
    """Server side, per turn: the VAD's end of speech → the first sample of the answer itself (a
    hybrid's opener excluded; for the cascade the same as its first audio)."""
    from parley.events import AgentContentStarted, read_events

    out = []
    for d in session_dirs:
        events = read_events(d / "events.jsonl")
        content = {e.turn: e.t for e in events if isinstance(e, AgentContentStarted)}
        out += [((content.get(turn, audio)) - vad) * 1000 for turn, (vad, audio) in _turn_times(events, True)]
    return out


def transport_overhead(loopback_dir: Path, session_dir: Path, client_ms: list[float]) -> list[float]:
    """Per turn, what the socket adds: the client's latency minus the server's own (VAD end of speech
    → first sample, from its event log) minus the VAD's lag behind the true end of speech (measured
    on the same line in the loopback run). Model compute cancels out, so run-to-run variance of the
    stages (±100 ms here) does not drown the transport's few milliseconds."""
    from parley.events import SimUtterance, read_events

    lb = read_events(loopback_dir / "events.jsonl")
    true_ends = [e.end for e in lb if isinstance(e, SimUtterance) and not e.answer]
    lag = [(vad - true) * 1000 for (vad, _), true in zip(_turn_times(lb), true_ends)]
    server = [(audio - vad) * 1000 for vad, audio in _turn_times(read_events(session_dir / "events.jsonl"))]
    return [c - s - g for c, s, g in zip(client_ms, server, lag)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="1,2,4,8", help="concurrent clients per phase, comma-separated")
    ap.add_argument("--turns", type=int, default=6, help="turns each client speaks")
    ap.add_argument("--arch", default="cascade", choices=["cascade", "hybrid"])
    ap.add_argument("--llm", default="fast", choices=["fast", "quality"])
    ap.add_argument("--stagger", type=float, default=0.5,
                    help="seconds between client starts (0.5: turns nearly in step, the worst case)")
    ap.add_argument("--idle", type=int, default=4, help="silent callers for the idle cost (0: skip it)")
    ap.add_argument("--no-loopback", action="store_true", help="skip the in-process baseline")
    ap.add_argument("--json", default=None)
    ap.add_argument("--out", default="out/serve-load", help="the server's sessions (and the loopback's) go here")
    ap.add_argument("--config", default=None, help="a `parley serve --config` file for the server (not the loopback)")
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    texts = LINES[: max(args.turns, 8)]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    print(f"machine: {machine}; arch={args.arch}, llm={args.llm}")
    out: dict = {"machine": machine, "arch": args.arch, "llm": args.llm, "turns_per_client": args.turns,
                 "stagger_s": args.stagger}
    if not args.no_loopback:
        out["loopback"] = loopback(args, texts[: args.turns])
        print(f"loopback (in process): p50 {out['loopback']['p50_ms']} ms, p95 {out['loopback']['p95_ms']} ms")
    lines = [pcm16(speak_as_user(t)) for t in texts]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "parley.cli", "serve", "--arch", args.arch, "--llm", args.llm,
                               "--port", str(port), "--max-sessions", str(max(ns)), "--sessions-dir",
                               args.out, *(["--config", args.config] if args.config else [])],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:
            if "ws://" in line:
                break
        else:
            raise SystemExit("parley serve did not start")
        url = f"ws://127.0.0.1:{port}/v1/realtime"
        out["idle_rss_mb"] = round(rss_mb(server.pid))
        out["phases"] = []
        print(f"server idle RSS {out['idle_rss_mb']} MB")
        if args.idle:
            out["idle_core_share_per_session"] = round(asyncio.run(idle_cost(url, server.pid, args.idle)), 3)
            print(f"{args.idle} silent callers: each costs {100 * out['idle_core_share_per_session']:.1f} % of a core")
        print(f"{'N':>3}{'turns':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'RSS MB':>9}{'cpu/turn s':>11}"
              f"{'answer p50/p95 (server)':>26}  errors")
        for n in ns:
            before = set(Path(args.out).iterdir())
            r = asyncio.run(phase(url, server.pid, n, lines, args.turns, args.stagger))
            new = sorted(set(Path(args.out).iterdir()) - before)
            if n == 1:
                (first_session,) = new
            answer = content_ms(new)
            r["content_server_p50_ms"], r["content_server_p95_ms"] = round(pct(answer, 50)), round(pct(answer, 95))
            out["phases"].append(r)
            print(f"{n:>3}{r['turns']:>7}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['max_ms']:>9}{r['rss_peak_mb']:>9}"
                  f"{r['cpu_s_per_turn']:>11}{r['content_server_p50_ms']:>15} / {r['content_server_p95_ms']:<8}  {','.join(r['errors']) or '-'}")
        first = out["phases"][0]
        for r in out["phases"][1:]:
            per = (r["rss_peak_mb"] - first["rss_peak_mb"]) / max(1, r["n"] - first["n"])
            print(f"RSS growth per extra session up to N={r['n']}: {per:.0f} MB")
        if "loopback" in out and first["n"] == 1:  # the same lines, turn by turn
            pairs = list(zip(first["per_turn_ms"], out["loopback"]["per_turn_ms"]))
            diff = [a - b for a, b in pairs]
            out["socket_minus_loopback_ms"] = {"median": round(pct(diff, 50)), "p25": round(pct(diff, 25)),
                                               "p75": round(pct(diff, 75)), "pairs": len(pairs)}
            print(f"socket − loopback at N=1, paired by line: median {pct(diff, 50):+.0f} ms "
                  f"(IQR {pct(diff, 25):+.0f} … {pct(diff, 75):+.0f}, {len(pairs)} turns)")
            over = transport_overhead(Path(args.out) / "loopback", first_session, first["per_turn_ms"])
            out["transport_overhead_ms"] = {"median": round(pct(over, 50)), "p25": round(pct(over, 25)),
                                            "p75": round(pct(over, 75)), "turns": len(over)}
            print(f"what the socket itself adds (client latency − server's own − VAD lag): median "
                  f"{pct(over, 50):+.0f} ms (IQR {pct(over, 25):+.0f} … {pct(over, 75):+.0f})")
    finally:
        server.terminate()
        server.wait(30)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
