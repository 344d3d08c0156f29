"""Expected failures print one sentence, exit non-zero, and show no traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest

from parley.audio.wavio import write_wav


def parley(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "parley.cli", *args], capture_output=True, text=True, timeout=timeout)


def assert_clean_failure(proc, *needles):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    text = " ".join(proc.stderr.split())
    assert text.startswith("error:"), proc.stderr
    for n in needles:
        assert n in text


@pytest.mark.parametrize("content", [b"", b"not audio, just text" * 20])
def test_corrupt_or_empty_wav_is_one_clear_error(tmp_path, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    assert_clean_failure(parley("talk", "--input", str(bad), "--llm", "fast", "--out", str(tmp_path)), str(bad))


def test_unreachable_llm_endpoint_is_one_clear_error(tmp_path):
    proc = parley("demo", "--llm-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path))
    assert_clean_failure(proc, "Could not reach the LLM endpoint at http://127.0.0.1:9/v1")


def test_talk_without_audio_device_is_one_clear_error():
    assert_clean_failure(parley("talk", "--llm", "fast"), "parley demo")


def test_every_command_has_help():
    for cmd in (["--help"], ["demo", "--help"], ["talk", "--help"], ["models", "--help"], ["models", "prepare", "--help"]):
        proc = parley(*cmd)
        assert proc.returncode == 0 and "Usage" in proc.stdout


def test_talk_converts_a_stereo_44k_file_and_replies(tmp_path, user_speech):
    from parley.audio.resample import resample

    speech = resample(user_speech("Hello, can you hear me?"), 16000, 44100)
    pad = np.zeros(22050, dtype=np.float32)
    mono = np.concatenate([pad, speech, pad])
    write_wav(tmp_path / "in.wav", np.stack([mono, mono], axis=1), rate=44100)
    proc = parley("talk", "--input", str(tmp_path / "in.wav"), "--llm", "fast", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert len(summary["turns"]) == 1 and summary["turns"][0]["agent"]


def test_the_readme_config_example_is_a_valid_config():
    import tomllib
    from pathlib import Path

    from parley.config import AgentConfig

    text = (Path(__file__).parent.parent / "README.md").read_text()
    block = text.split("```toml", 1)[1].split("```", 1)[0]
    cfg = AgentConfig.model_validate(tomllib.loads(block))
    assert cfg.procedure[1].requires == ["ask_name"] and cfg.procedure[0].say
