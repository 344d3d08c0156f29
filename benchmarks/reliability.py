"""The reliability suite: bad inputs, injected faults and kills, replayed through the real CLI.

Every case runs `parley …` in a subprocess, as a user would, and is counted as:
  crash       exit status other than 0, 1 and 130, or a signal
  hang        still running after its time limit
  traceback   a Python traceback printed for an expected error
  lost_turn   a fault case whose transcript does not hold the caller's words
  unreadable  a killed session that `parley sessions repair` cannot turn into transcript + WAV
Bad inputs need no models; faults, stalls and kills run the real speech models (the LLM behind a
local OpenAI-style server that refuses, hangs, errors or sends garbage; the ASR, TTS or end-of-turn
model stuck for good after start-up, `benchmarks/stalled_cli.py`). Memory over many conversations is
`benchmarks/soak.py`.

Usage: python benchmarks/reliability.py [--no-models] [--kills N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COUNTERS = ("crash", "hang", "traceback", "lost_turn", "unreadable")


def parley(args: list[str], timeout: float, env: dict | None = None) -> tuple[int | None, str]:
    try:
        p = subprocess.run([sys.executable, "-m", "parley.cli", *args], capture_output=True, text=True,
                           timeout=timeout, env={**os.environ, **(env or {})})
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return None, ""


def judge(name: str, rc: int | None, output: str, expect_rc: tuple[int, ...]) -> dict:
    problems = []
    if rc is None:
        problems.append("hang")
    elif rc not in (0, 1, 130):
        problems.append("crash")
    if "Traceback" in output:
        problems.append("traceback")
    ok = not problems and rc in expect_rc
    return {"case": name, "rc": rc, "problems": problems, "ok": ok, "said": output.strip().splitlines()[-1:] if output else []}


def bad_inputs(tmp: Path) -> list[dict]:
    from parley.audio.wavio import write_wav
    from scipy.io import wavfile

    (tmp / "empty.wav").write_bytes(b"")
    (tmp / "junk.wav").write_bytes(b"not audio " * 50)
    nan = np.zeros(16000, np.float32)
    nan[10] = np.inf
    wavfile.write(tmp / "nan.wav", 16000, nan)
    write_wav(tmp / "ok.wav", np.sin(np.arange(32000) / 9).astype(np.float32))
    (tmp / "cut.wav").write_bytes((tmp / "ok.wav").read_bytes()[:30000])
    (tmp / "file.txt").write_text("x")
    (tmp / "neg.toml").write_text("[llm]\nn_ctx = -5\n")
    (tmp / "big.toml").write_text('persona = "' + "x" * 1_200_000 + '"\n')
    (tmp / "http.toml").write_text('[llm]\nbackend = "openai"\nurl = "http://10.9.9.9:8000/v1"\napi_key = "sk-x"\n')
    sc = tmp / "scenarios"
    sc.mkdir()
    head = "id: {id}\ntitle: t\nsuites: [smoke]\n"
    (sc / "bomb.yaml").write_text('a: &a ["x","x","x","x","x","x","x","x","x"]\n'
                                  + "".join(f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n"
                                            for p, n in zip("abcdefg", "bcdefgh")))
    (sc / "traversal.yaml").write_text(head.format(id="trav") + 'knowledge: ["../../../../etc/passwd"]\n'
                                       "turns:\n  - say: hello there\n")
    (sc / "regex.yaml").write_text(head.format(id="rx") + "turns:\n  - say: hello there\n"
                                   '    expect: {must_mention: ["(a|aa)+$"]}\n')
    kb = tmp / "kb"
    kb.mkdir()
    for name in ("manifest.json", "chunks.jsonl"):
        (kb / name).write_text("{broken")
    docs = tmp / "docs"
    docs.mkdir()
    (docs / "loop").symlink_to(docs)
    (docs / "a.md").write_text("Shipping takes four days.\n")
    cases = [
        ("empty wav", ["talk", "--input", str(tmp / "empty.wav"), "--out", str(tmp / "o1")], (1,)),
        ("junk wav", ["talk", "--input", str(tmp / "junk.wav"), "--out", str(tmp / "o2")], (1,)),
        ("inf samples", ["talk", "--input", str(tmp / "nan.wav"), "--out", str(tmp / "o3")], (1,)),
        ("truncated wav", ["talk", "--input", str(tmp / "cut.wav"), "--out", str(tmp / "o4")], (1,)),
        ("--out is a file", ["demo", "--out", str(tmp / "file.txt")], (1,)),
        ("--minutes nan", ["budget", "--minutes", "nan"], (1,)),
        ("n_ctx = -5", ["budget", "--config", str(tmp / "neg.toml")], (1,)),
        ("1.2 MB config", ["budget", "--config", str(tmp / "big.toml")], (1,)),
        ("key over plain http", ["demo", "--config", str(tmp / "http.toml"), "--out", str(tmp / "o5")], (1,)),
        ("YAML alias bomb", ["bench", "--suite", str(sc / "bomb.yaml"), "--out", str(tmp / "b1")], (1,)),
        ("path traversal", ["bench", "--suite", str(sc / "traversal.yaml"), "--out", str(tmp / "b2")], (1,)),
        ("catastrophic regex", ["bench", "--suite", str(sc / "regex.yaml"), "--out", str(tmp / "b3")], (1,)),
        ("damaged KB", ["kb", "search", "shipping", "--kb", str(kb)], (1,)),
        ("symlink loop in kb add", ["kb", "add", str(docs), "--kb", str(tmp / "kb2"), "--no-screen"], (0,)),
    ]
    out = []
    for name, args, expect in cases:
        rc, text = parley(args, timeout=180)
        out.append(judge(name, rc, text, expect))
        print(f"{'ok ' if out[-1]['ok'] else 'BAD'} {name:24s} rc={rc} {out[-1]['problems']} {out[-1]['said']}", flush=True)
    return out


def faults(tmp: Path, wav: Path) -> list[dict]:
    from parley.components.llm.fake_endpoint import FakeEndpoint, serve

    FakeEndpoint.hang_s = 20.0  # past the 5 s read timeout below
    (tmp / "timeout.toml").write_text("[llm]\ntimeout_s = 5\n")
    with serve() as url:
        return [_fault(tmp, wav, url, model, expect, FakeEndpoint) for model, expect in
                (("garbage", (1,)), ("error", (1,)), ("hang", (1,)), ("flaky", (0,)), ("refused", (1,)))]


def _fault(tmp: Path, wav: Path, url: str, model: str, expect: tuple, endpoint) -> dict:
    """One `parley talk` against the endpoint serving `model`'s fault."""
    endpoint.flaky_left = 1
    target = "http://127.0.0.1:9/v1" if model == "refused" else url
    folder = tmp / f"fault-{model}"
    rc, text = parley(["talk", "--input", str(wav), "--llm-url", target, "--llm-model", model, "--out", str(folder),
                       "--config", str(tmp / "timeout.toml")], timeout=300)
    r = judge(f"endpoint {model}", rc, text, expect)
    transcript = folder / "transcript.md"
    if model != "refused" and not (transcript.exists() and "open tomorrow" in transcript.read_text().lower()):
        r["problems"].append("lost_turn")
        r["ok"] = False
    print(f"{'ok ' if r['ok'] else 'BAD'} {r['case']:24s} rc={rc} {r['problems']} {r['said']}", flush=True)
    return r


def stalls(tmp: Path, wav: Path) -> list[dict]:
    """`parley talk` with the ASR, the TTS or the end-of-turn model stuck for good after start-up
    (`benchmarks/stalled_cli.py`): the call must end, say why, and keep what it can."""
    (tmp / "stall.toml").write_text("[asr]\ntimeout_s = 3\n[tts]\ntimeout_s = 3\n")
    out = []
    for part, expect in (("asr", (1,)), ("tts", (1,)), ("turn", (1,))):
        folder = tmp / f"stall-{part}"
        try:
            p = subprocess.run([sys.executable, str(Path(__file__).with_name("stalled_cli.py")), part, "talk",
                                "--input", str(wav), "--llm", "fast", "--out", str(folder),
                                "--config", str(tmp / "stall.toml")], capture_output=True, text=True, timeout=300)
            rc, text = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            rc, text = None, ""
        r = judge(f"stalled {part}", rc, text, expect)
        transcript = folder / "transcript.md"
        heard = transcript.exists() and "open tomorrow" in transcript.read_text().lower()
        # a stuck recogniser hears no words, but the caller's audio is kept; otherwise the words are kept
        if not (folder / "conversation.wav").exists() or (part != "asr" and not heard):
            r["problems"].append("lost_turn")
            r["ok"] = False
        print(f"{'ok ' if r['ok'] else 'BAD'} {r['case']:24s} rc={rc} {r['problems']} {r['said']}", flush=True)
        out.append(r)
    return out


def kills(tmp: Path, wav: Path, n: int) -> list[dict]:
    from parley.sessions import find, repair

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        folder = tmp / f"kill-{i}"
        proc = subprocess.Popen([sys.executable, "-m", "parley.cli", "talk", "--input", str(wav), "--llm", "fast",
                                 "--out", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (folder / "events.jsonl").exists() and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(float(rng.uniform(2.0, 20.0)))  # anywhere from model loading to mid-reply
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        problems = []
        try:
            repair(folder)
            if find(folder)[0].state not in ("complete", "repaired"):
                problems.append("unreadable")
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            problems.append("unreadable")
            print(f"    {exc.__class__.__name__}: {exc}")
        out.append({"case": f"kill -9 #{i + 1}", "rc": -9, "problems": problems, "ok": not problems})
        print(f"{'ok ' if not problems else 'BAD'} kill -9 #{i + 1} {problems}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-models", action="store_true", help="bad inputs only (no faults, no kills)")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="parley-reliability-"))
    rows = bad_inputs(tmp)
    if not args.no_models:
        from parley.audio.wavio import write_wav
        from parley.bench.voices import speak_as_user

        wav = tmp / "caller.wav"
        write_wav(wav, np.concatenate([speak_as_user("What time do you open tomorrow?"), np.zeros(32000, np.float32),
                                       speak_as_user("And do you have parking?"), np.zeros(48000, np.float32)]))
        rows += faults(tmp, wav)
        rows += stalls(tmp, wav)
        rows += kills(tmp, wav, args.kills)
    counts = {c: sum(c in r["problems"] for r in rows) for c in COUNTERS}
    summary = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "cases": len(rows),
               "as_expected": sum(r["ok"] for r in rows), **counts}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**summary, "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
