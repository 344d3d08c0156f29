"""Run moshi's own server (`moshi.server`, unchanged) on the CPU with the tiny checkpoint.

    python tools/moshi_tiny/serve.py CHECKPOINT_DIR [--port 8998] [--host 127.0.0.1]

moshi 0.2.13's warm-up calls `torch.cuda.synchronize()` unconditionally; on a CPU-only torch that
raises, so it is made a no-op here before the server module runs as `__main__`. Nothing is fetched
from a hub: every file is given on the command line and HF_HUB_OFFLINE is set.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path


def main() -> None:
    ckpt = Path(sys.argv[1])
    rest = sys.argv[2:]
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    torch.cuda.synchronize = lambda *a, **k: None
    torch.set_num_threads(1)  # the tiny model needs little; leave the other core to the caller's side
    sys.argv = ["moshi.server", "--device", "cpu", "--static", "none", "--hf-repo", "none/none",
                "--config-path", str(ckpt / "config.json"), "--moshi-weight", str(ckpt / "model.safetensors"),
                "--mimi-weight", str(ckpt / "mimi.safetensors"), "--tokenizer", str(ckpt / "tokenizer.model"),
                *rest]
    runpy.run_module("moshi.server", run_name="__main__")


if __name__ == "__main__":
    main()
