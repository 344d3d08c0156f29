"""Property-based fuzzing with a fixed budget (issue 12): the WAV reader and the scenario loader
either return a valid result or raise their one-sentence error, whatever bytes they are given."""

from __future__ import annotations

import io
import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.audio.wavio import read_wav, write_wav
from parley.bench.scenario import ScenarioError, load_scenario
from parley.errors import AudioFileError

BUDGET = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_wav() -> bytes:
    buf = io.BytesIO()
    import wave

    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(1600) / 7) * 8000).astype("<i2").tobytes())
    return buf.getvalue()


VALID = _valid_wav()


@BUDGET
@given(st.one_of(
    st.binary(max_size=4096),
    st.tuples(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=16)).map(
        lambda m: VALID[:m[0]] + m[1] + VALID[m[0] + len(m[1]):]),  # a valid file with bytes overwritten
    st.integers(0, len(VALID)).map(lambda n: VALID[:n]),  # a valid file cut short
    st.sampled_from([1, 3, 6, 8]).map(  # a header claiming odd formats
        lambda fmt: VALID[:20] + struct.pack("<H", fmt) + VALID[22:]),
))
def test_the_wav_reader_returns_audio_or_one_clear_error(tmp_path, data):
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    try:
        pcm = read_wav(path)
    except AudioFileError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert pcm.dtype == np.float32 and pcm.ndim == 1 and np.isfinite(pcm).all()


SCENARIO = """id: fuzz
title: A fuzzed scenario
suites: [memory]
turns:
  - say: My order number is 4 4 1 7 2.
  - say: What was my order number?
    expect:
      recall: {turn: 1, value: "44172"}
"""


@BUDGET
@given(st.one_of(
    st.text(max_size=600),
    st.tuples(st.integers(0, len(SCENARIO)), st.text(min_size=1, max_size=12)).map(
        lambda m: SCENARIO[:m[0]] + m[1] + SCENARIO[m[0]:]),  # text inserted anywhere
    st.tuples(st.integers(0, len(SCENARIO)), st.integers(1, 20)).map(
        lambda m: SCENARIO[:m[0]] + SCENARIO[m[0] + m[1]:]),  # text deleted anywhere
))
def test_the_scenario_loader_returns_a_scenario_or_one_clear_error(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert str(exc).startswith(str(path))
        return
    assert scenario.turns


def test_the_fuzzers_valid_seeds_are_valid(tmp_path):
    (tmp_path / "ok.wav").write_bytes(VALID)
    assert len(read_wav(tmp_path / "ok.wav")) == 1600
    (tmp_path / "s.yaml").write_text(SCENARIO)
    assert load_scenario(tmp_path / "s.yaml").id == "fuzz"
    write_wav(tmp_path / "w.wav", np.zeros(10, np.float32))
