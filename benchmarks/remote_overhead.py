"""What the `realtime` client costs: the same architecture in process and behind `parley serve`.

The same scripted lines, one per conversation, alternate between the architecture run in this process
(loopback line, real clock) and `--arch realtime` pointed at a `parley serve --arch ARCH` subprocess
(the endpoint's own turn detection, `semantic_vad`, which `parley serve` maps onto the same engine
settings as in process). Latency in both is parley's own: the caller's true end of speech → the first
agent sample played, from each conversation's event log. Paired by line, realtime − in process, so
machine drift between lines cancels. One warm-up conversation of each first, not counted. Only one
side computes at a time (the server is idle while the in-process agent runs).

Usage: python benchmarks/remote_overhead.py [--arch hybrid|cascade] [--llm fast|quality] [--rounds 2]
                                           [--json FILE] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from latency import LINES, pct  # noqa: E402

from parley.bench.voices import speak_as_user  # noqa: E402
from parley.clock import RealClock  # noqa: E402
from parley.config import AgentConfig  # noqa: E402
from parley.runner import run_conversation  # noqa: E402
from parley.transports.loopback import UserLine  # noqa: E402


def first_audio_ms(arch: str, cfg: AgentConfig, line: UserLine, out: Path) -> float | None:
    res = asyncio.run(run_conversation(cfg, [line], clock=RealClock(), arch=arch, out_dir=out,
                                       reply_timeout_s=15.0, tail_s=0.5))
    lat = [r.latency_ms for r in res.records if r.latency_ms is not None]
    return lat[0] if lat else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="hybrid", choices=["hybrid", "cascade"])
    ap.add_argument("--llm", default="fast", choices=["fast", "quality"])
    ap.add_argument("--rounds", type=int, default=2, help="times through the lines")
    ap.add_argument("--json", default=None)
    ap.add_argument("--out", default="out/remote-overhead")
    args = ap.parse_args()
    out = Path(args.out)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "parley.cli", "serve", "--arch", args.arch, "--llm", args.llm,
                               "--port", str(port), "--sessions-dir", str(out / "server")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for text in server.stdout:
            if "ws://" in text:
                break
        else:
            raise SystemExit("parley serve did not start")
        local = AgentConfig()
        local.llm.model = args.llm
        remote = local.model_copy(deep=True)
        remote.realtime.url, remote.realtime.model = f"ws://127.0.0.1:{port}/v1/realtime", "parley"
        lines = [UserLine(t, speak_as_user(t)) for t in LINES]
        first_audio_ms(args.arch, local, lines[0], out / "warm-local")
        first_audio_ms("realtime", remote, lines[0], out / "warm-remote")
        pairs = []
        for r in range(args.rounds):
            for i, line in enumerate(lines):
                a = first_audio_ms(args.arch, local, line, out / f"local-{r}-{i}")
                b = first_audio_ms("realtime", remote, line, out / f"remote-{r}-{i}")
                if a is not None and b is not None:
                    pairs.append((a, b))
                    print(f"{line.text[:40]:40s} in process {a:6.0f} ms  realtime {b:6.0f} ms  Δ {b - a:+5.0f}")
    finally:
        server.terminate()
        server.wait(30)
    a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    d = b - a
    result = {"arch": args.arch, "llm": args.llm, "machine": f"{platform.processor() or platform.machine()}, "
              f"{__import__('os').cpu_count()} cores", "pairs": len(pairs),
              "in_process_ms": {"p50": round(pct(list(a), 50)), "p95": round(pct(list(a), 95))},
              "realtime_ms": {"p50": round(pct(list(b), 50)), "p95": round(pct(list(b), 95))},
              "paired_delta_ms": {"median": round(float(np.median(d))), "q25": round(float(np.percentile(d, 25))),
                                  "q75": round(float(np.percentile(d, 75))), "mean": round(float(d.mean()))}}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
