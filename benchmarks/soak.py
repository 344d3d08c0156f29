"""Memory over many conversations in one bench worker: RSS after each, and the growth per conversation.

Runs the bench's own job (`bench.run.run_job`: scenario → simulated caller → agent → artefacts) N
times in this process, cycling through a suite's scenarios, on the virtual clock, and reads VmRSS
from /proc after each. The issue-12 target: ≤ 2.5 GB and < 20 MB growth per conversation.

Usage: python benchmarks/soak.py [--suite smoke,memory] [-n 100] [--arch cascade] [--voice joe]
                                 [--condition clean] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from parley.architectures.registry import configure
from parley.bench.run import Job, run_job, select_scenarios
from parley.config import AgentConfig


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="smoke,memory")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--arch", default="cascade")
    ap.add_argument("--voice", default="joe", help="the simulated caller's voice (bench.voices)")
    ap.add_argument("--condition", default="clean", help="the line (bench.conditions)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    scenarios = select_scenarios(args.suite.split(","))
    cfg, why = configure(args.arch, AgentConfig())
    if cfg is None:
        raise SystemExit(why)
    out = Path(tempfile.mkdtemp(prefix="parley-soak-"))
    rows = []
    t0 = time.perf_counter()
    for i in range(args.n):
        sc = scenarios[i % len(scenarios)]
        r = run_job(Job(args.arch, str(sc.path), str(out / f"{i:03d}-{sc.id}"), "virtual", cfg.model_dump(mode="json"),
                        args.voice, args.condition))
        gc.collect()
        rows.append({"i": i + 1, "scenario": sc.id, "status": r["status"], "rss_mb": round(rss_mb(), 1)})
        print(f"{i + 1:4d} {sc.id:40s} {r['status']:6s} RSS {rows[-1]['rss_mb']:8.1f} MB", flush=True)
    rss = np.array([r["rss_mb"] for r in rows])
    half = len(rss) // 2  # growth measured after the first half: model loading and caches filling are done
    slope = float(np.polyfit(np.arange(half, len(rss)), rss[half:], 1)[0]) if len(rss) - half >= 2 else float("nan")
    result = {"machine": platform.processor() or platform.machine(), "conversations": len(rows),
              "peak_rss_mb": float(rss.max()), "first_rss_mb": float(rss[0]), "last_rss_mb": float(rss[-1]),
              "growth_mb_per_conversation_second_half": round(slope, 2), "wall_s": round(time.perf_counter() - t0),
              "failed": sum(r["status"] != "ok" for r in rows), "rows": rows}
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
