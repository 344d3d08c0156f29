"""Run the parley CLI with one model stuck for good once the session has started.

    python benchmarks/stalled_cli.py asr|tts|turn talk --input caller.wav --out DIR …

The reliability suite's stall cases (`benchmarks/reliability.py`): after the agent has warmed up,
every call to the named model blocks forever, as a wedged native library would. The fault is
injected here, outside parley, so the CLI under test is the one users run.
"""

from __future__ import annotations

import sys
import threading

STUCK = threading.Event()  # never set: a stuck call waits on it for good
ARMED = threading.Event()  # set once the agent has started (warm-ups and pre-synthesized lines done)


def _stall(cls, method: str) -> None:
    real = getattr(cls, method)

    def stuck(self, *args, **kwargs):
        if ARMED.is_set():
            STUCK.wait()
        return real(self, *args, **kwargs)

    setattr(cls, method, stuck)


def main() -> None:
    part, args = sys.argv[1], sys.argv[2:]
    from parley.duplex.engine import DuplexEngine

    if part == "asr":
        from parley.components.asr.whisper import WhisperASR
        _stall(WhisperASR, "_transcribe")  # every pass: partials (`transcribe`) and finals (`transcribe_final`)
    elif part == "tts":
        from parley.components.tts.piper import PiperTTS
        _stall(PiperTTS, "synthesize")
    elif part == "turn":
        from parley.components.turn.smart_turn import SmartTurn
        _stall(SmartTurn, "predict")
    else:
        raise SystemExit(f"unknown part {part!r}: asr, tts or turn")
    start = DuplexEngine.start

    async def started(self):
        await start(self)
        ARMED.set()

    DuplexEngine.start = started
    from parley.cli import main as cli

    sys.argv = ["parley", *args]
    cli()


if __name__ == "__main__":
    main()
