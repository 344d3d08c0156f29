"""Caller voices and acoustic conditions: different speakers, still intelligible, real phone lines."""

import json
import subprocess
import sys
from itertools import combinations

import numpy as np
import pytest

from parley.audio.frame import FRAME_SAMPLES
from parley.audio.pitch import median_f0
from parley.bench.conditions import NoisyRoom, PhoneLine, active_rms, parse_conditions
from parley.bench.voices import VOICES, parse_voices, speak_as_user, speak_in_pieces
from parley.components import registry
from parley.errors import ParleyError

SR = 16000
LINE = "What time do you open on Saturday? My order number is four seven one nine two."


def spectral_centroid(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float((spec * f).sum() / spec.sum())


def test_voices_are_several_clearly_different_speakers_and_stay_intelligible():
    assert len(VOICES) >= 4 and len({v.engine for v in VOICES.values()}) >= 2
    audio = {name: speak_as_user(LINE, name) for name in VOICES}
    f0 = {name: median_f0(x) for name, x in audio.items()}
    centroid = {name: spectral_centroid(x) for name, x in audio.items()}
    assert max(f0.values()) > 165, f0
    for a, b in combinations(VOICES, 2):  # every pair differs in pitch or in spectral balance
        pitch = abs(f0[a] - f0[b]) / min(f0[a], f0[b])
        tone = abs(centroid[a] - centroid[b]) / min(centroid[a], centroid[b])
        assert pitch > 0.08 or tone > 0.10, (a, b, f0, centroid)
    asr = registry.whisper()
    for name, x in audio.items():
        heard = asr.transcribe(x).lower()
        assert "saturday" in heard, (name, heard)


@pytest.mark.parametrize("name", ["joe", "espeak-us-f"])
def test_a_paused_line_is_said_whole_and_cut_between_the_words(name):
    """Each engine says the line once (so the words before the pause do not end on a sentence's
    fall) and the cut falls between "and" and "only", in Piper (its phoneme durations) and eSpeak
    NG (an SSML break)."""
    first, second = speak_in_pieces(["I ordered two shirts and", "only one of them arrived."], name)
    whole = speak_as_user("I ordered two shirts and only one of them arrived.", name)
    assert 0.8 < (len(first) + len(second)) / len(whole) < 1.1
    asr = registry.whisper()
    heard_first, heard_second = asr.transcribe(first).lower(), asr.transcribe(second).lower()
    assert heard_first.rstrip(".").split()[-1] == "and" and "only" not in heard_first, heard_first
    assert heard_second.split()[0] == "only" and "and" not in heard_second, heard_second


def test_a_voice_is_deterministic_and_cached_on_disk(tmp_path, monkeypatch):
    from parley.bench import voices

    monkeypatch.setenv("PARLEY_CACHE", str(tmp_path))
    voices._speak_cached.cache_clear()
    first = speak_as_user("Is the blue jacket waterproof?", "espeak-us")
    assert len(list((tmp_path / "voices" / "espeak-us").glob("*.npy"))) == 1
    voices._speak_cached.cache_clear()
    again = speak_as_user("Is the blue jacket waterproof?", "espeak-us")
    assert np.array_equal(first, again)
    voices._speak_cached.cache_clear()


def _through(line, x):
    n = len(x) // FRAME_SAMPLES * FRAME_SAMPLES
    return np.concatenate([line(x[i:i + FRAME_SAMPLES]) for i in range(0, n, FRAME_SAMPLES)])


def _band_share(x, lo, hi):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return spec[(f >= lo) & (f < hi)].sum() / spec.sum()


def test_phone_condition_is_a_narrowband_8khz_ulaw_line_and_still_intelligible():
    clean = speak_as_user(LINE, "espeak-us-f")  # eSpeak has energy far above 4 kHz
    phone = _through(PhoneLine(), clean)
    assert phone.dtype == np.float32 and len(phone) == len(clean) // FRAME_SAMPLES * FRAME_SAMPLES  # 16 kHz in, 16 kHz out
    assert _band_share(clean, 4000, 8000) > 1e-3
    assert _band_share(phone, 4000, 8000) < 1e-4   # nothing left above the 8 kHz line's Nyquist
    assert _band_share(phone, 0, 200) < 1e-3       # and the line's low cut
    assert "saturday" in registry.whisper().transcribe(phone).lower()


def test_noisy_condition_adds_steady_noise_at_15_db_snr_even_in_silence():
    speech = speak_as_user(LINE)
    x = np.concatenate([np.zeros(SR, np.float32), speech])
    room = NoisyRoom(active_rms(speech), seed=3)
    y = _through(room, x)
    noise = y - x[:len(y)]
    snr = 20 * np.log10(active_rms(speech) / np.sqrt(np.mean(noise ** 2)))
    assert 14.0 < snr < 16.0
    assert np.sqrt(np.mean(y[:SR // 2] ** 2)) > 1e-3  # the silence before speech is noisy too
    assert np.array_equal(y, _through(NoisyRoom(active_rms(speech), seed=3), x))  # deterministic


def test_voice_and_condition_names_are_checked():
    assert parse_voices("all") == list(VOICES) and parse_conditions("phone,noisy") == ["phone", "noisy"]
    with pytest.raises(ParleyError, match="use one of joe"):
        parse_voices("joe,nobody")
    with pytest.raises(ParleyError, match="clean, phone, noisy, echo"):
        parse_conditions("underwater")


def test_cli_refuses_unknown_voice_before_loading_models_and_lists_voices(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "bench", "--voices", "robot", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "unknown voice 'robot'" in proc.stderr and "joe" in proc.stderr
    assert not (tmp_path / "o").exists()
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "bench", "--conditions", "moon", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "unknown condition 'moon'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "voices", "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert [v["name"] for v in listed] == list(VOICES)
    assert all(set(v) == {"name", "engine", "f0_hz"} and isinstance(v["f0_hz"], float) for v in listed)


def test_the_agent_hears_the_callers_line_and_the_recording_keeps_the_voice():
    """A phone caller on the loopback: every frame the agent gets is 16 kHz and narrowband, pauses
    are recorded as ground truth, and conversation.wav's user channel is the voice as said."""
    import asyncio

    from parley.clock import VirtualClock
    from parley.events import EventLog
    from parley.transports.loopback import LoopbackChannel, UserLine

    class Listener:  # a do-nothing agent that keeps what it hears
        name, busy = "listener", False

        def __init__(self):
            self.heard = []

        def push_audio(self, frame):
            self.heard.append(frame)

        def pull_audio(self, n, t):
            return np.zeros(n, np.float32)

    voice = speak_as_user(LINE, "espeak-us-f")
    line = UserLine("x", np.concatenate([voice, np.zeros(8000, np.float32), voice]), pauses=((len(voice) / SR, len(voice) / SR + 0.5),))
    agent, clock = Listener(), VirtualClock()
    log = EventLog("s", clock_now=clock.now)

    async def go():
        await clock.start()
        ch = LoopbackChannel(agent, clock, log, [line], line=PhoneLine(), tail_s=0.2)
        await ch.run()
        await clock.stop()
        return ch

    ch = asyncio.run(go())
    assert all(f.sample_rate == SR and len(f.pcm) == FRAME_SAMPLES for f in agent.heard)
    heard = np.concatenate([f.pcm for f in agent.heard])
    assert _band_share(heard, 4000, 8000) < 1e-4
    sim = next(e for e in log.events if e.kind == "sim_utterance")
    start = next(e for e in log.events if e.kind == "recording_started").t
    assert sim.pauses == [[round(sim.start + len(voice) / SR, 4), round(sim.start + len(voice) / SR + 0.5, 4)]]
    user = ch.recorder.stereo()[:, 0]
    i = int(round((sim.start - start) * SR))
    assert np.allclose(user[i:i + len(voice)], voice, atol=1e-6)  # the clean voice, not the phone line


def test_a_barge_in_is_timed_from_the_agents_reply_not_from_its_backchannel():
    import asyncio

    from parley.clock import VirtualClock
    from parley.events import AgentAudioStarted, EventLog
    from parley.transports.loopback import LoopbackChannel, UserLine

    class Talker:  # says "mhm" at 1.0 s and starts a reply at 3.0 s
        name = "talker"

        def __init__(self, log):
            self.log, self.said = log, set()

        @property
        def busy(self):
            return False

        def push_audio(self, frame):
            pass

        def pull_audio(self, n, t):
            for at, turn in ((1.0, 0), (3.0, 1)):
                if t >= at and turn not in self.said:
                    self.said.add(turn)
                    self.log.emit(AgentAudioStarted, t=t, turn=turn)
            return np.zeros(n, np.float32)

    clock = VirtualClock()
    log = EventLog("s", clock_now=clock.now)
    word = speak_as_user("Wait.")

    async def go():
        await clock.start()
        await LoopbackChannel(Talker(log), clock, log, [UserLine("Hi.", word), UserLine("Wait.", word, after_agent_starts_s=0.5)],
                              tail_s=0.2, reply_timeout_s=6.0).run()
        await clock.stop()

    asyncio.run(go())
    barge = [e for e in log.events if e.kind == "sim_utterance"][1]
    assert 3.5 <= barge.start - log.events[0].t < 3.6
