"""Does parley's `fdb_*` agree with Full-Duplex-Bench's own scoring? Run the official v1 evaluation
scripts on a parley export and compare, task by task.

You need a checkout of https://github.com/DanielLin94144/Full-Duplex-Bench (its `v1_v1.5/evaluation/`)
and a Python that has what those scripts import: `torch`, `silero-vad`, `scipy`, `tqdm`,
`python-dotenv`, `openai`, and `torchaudio` or `soundfile` (only `torchaudio.load` is used; with
`soundfile` a stand-in is put first on the path). The interruption script asks GPT-4-turbo for a
relevance rating before it records a latency; here it gets a fixed stand-in answer, so TOR and
latency are the official code's and the rating means nothing. parley ships none of FDB's code.

Usage:
  parley duplex-check --export-fdb out/fdb            # or: parley bench … --export-fdb out/fdb
  python benchmarks/fdb_agreement.py out/fdb/cascade --fdb-repo ~/Full-Duplex-Bench --python ~/fdb-venv/bin/python
Prints both figures per task and the differences (targets: ≤ 0.02 in TOR, ≤ 20 ms in latency).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

from parley.bench.fdb_score import score_tree

RUNNER = r'''
import contextlib, io, os, sys, types
shim, evaluation, root = sys.argv[1:4]
try:
    import torchaudio  # noqa: F401
except ImportError:
    sys.path.insert(0, shim)
sys.path.insert(0, evaluation)
os.chdir(evaluation)  # the backchannel script opens ./icc_gt_distribution.json
class _Completions:
    def create(self, **kw):
        msg = types.SimpleNamespace(content="Analysis: n/a.\nI would rate the AI's response as 3")
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=msg)])
client = types.SimpleNamespace(chat=types.SimpleNamespace(completions=_Completions()))
from eval_pause_handling import eval_pause_handling
from eval_smooth_turn_taking import eval_smooth_turn_taking
from eval_user_interruption import eval_user_interruption
from eval_backchannel import eval_backchannel
for task, fn, extra in [("pause_handling", eval_pause_handling, ()), ("smooth_turn_taking", eval_smooth_turn_taking, ()),
                        ("user_interruption", eval_user_interruption, (client,)), ("backchannel", eval_backchannel, ())]:
    d = os.path.join(root, task)
    if not (os.path.isdir(d) and os.listdir(d)):
        continue
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        try:
            fn(d, *extra)
        except ZeroDivisionError:  # no TOR = 1 sample: the script divides by an empty latency list
            pass
    out = buf.getvalue()
    print("@@", task, out[out.find("[Result]"):].replace("\n", " | "))
'''

SHIM = '''import soundfile as sf, torch
def load(path):
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    return torch.from_numpy(x.T.copy()), sr
'''


def official(tree: Path, repo: Path, python: str) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "torchaudio").mkdir()
        (Path(tmp) / "torchaudio" / "__init__.py").write_text(SHIM)
        proc = subprocess.run([python, "-c", RUNNER, tmp, str((repo / "v1_v1.5" / "evaluation").resolve()), str(tree.resolve())],
                              capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"the official scripts failed:\n{proc.stderr[-3000:]}")
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("@@ "):
            _, task, text = line.split(" ", 2)
            found[task] = {k.strip().lower(): float(v) for k, v in
                           re.findall(r"(Average take turn|Average latency|TOR - Mean|Frequency - Mean):\s*([-\d.]+)", text)}
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path, help="one architecture's export: DIR/<arch>")
    ap.add_argument("--fdb-repo", type=Path, required=True)
    ap.add_argument("--python", default="python3", help="an interpreter with the official scripts' dependencies")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ours = score_tree(args.tree)
    theirs = official(args.tree, args.fdb_repo, args.python)
    pairs = [("pause_handling", "average take turn", "fdb_pause_tor", 1),
             ("smooth_turn_taking", "average take turn", "fdb_smooth_tor", 1),
             ("smooth_turn_taking", "average latency", "fdb_smooth_latency_ms", 1000),
             ("user_interruption", "average take turn", "fdb_interruption_tor", 1),
             ("user_interruption", "average latency", "fdb_interruption_latency_ms", 1000),
             ("backchannel", "tor - mean", "fdb_backchannel_tor", 1),
             ("backchannel", "frequency - mean", "fdb_backchannel_freq", 1)]
    rows = []
    for task, their_key, our_key, scale in pairs:
        t = theirs.get(task, {}).get(their_key)
        o = ours.get(our_key)
        t = None if t is None else round(t * scale, 4)
        diff = None if t is None or o is None else round(abs(t - o), 4)
        rows.append({"metric": our_key, "parley": o, "official": t, "difference": diff})
        print(f"{our_key:30s} parley {o!s:>10}  official {t!s:>10}  difference {diff!s:>8}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
