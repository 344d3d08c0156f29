import wave

import numpy as np
import pytest

from parley.audio.recorder import ConversationRecorder
from parley.audio.wavio import read_wav, write_wav
from parley.errors import AudioFileError


def test_stereo_44k_wav_is_converted_to_16k_mono(tmp_path):
    t = np.arange(44100) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    write_wav(tmp_path / "s.wav", np.stack([tone, tone], axis=1), rate=44100)
    pcm = read_wav(tmp_path / "s.wav")
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert abs(len(pcm) - 16000) <= 2
    spectrum = np.abs(np.fft.rfft(pcm))
    assert abs(np.argmax(spectrum) * 16000 / len(pcm) - 440) < 5


@pytest.mark.parametrize("content", [b"", b"this is not a wav file at all" * 10, b"RIFF\x24\x00\x00\x00WAVEfmt "])
def test_bad_wav_gives_one_clear_sentence(tmp_path, content):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    with pytest.raises(AudioFileError) as exc:
        read_wav(p)
    msg = str(exc.value)
    assert str(p) in msg and "\n" not in msg


def test_truncated_wav_is_rejected(tmp_path):
    p = tmp_path / "t.wav"
    write_wav(p, np.zeros(16000, dtype=np.float32))
    data = p.read_bytes()
    p.write_bytes(data[:30])  # header cut mid-way
    with pytest.raises(AudioFileError):
        read_wav(p)


def test_recorder_aligns_user_and_agent_on_one_time_axis(tmp_path):
    rec = ConversationRecorder(origin=10.0)
    rec.add_user(10.0, np.ones(160, dtype=np.float32) * 0.5)
    rec.add_agent(10.5, np.ones(160, dtype=np.float32) * 0.25)
    st = rec.stereo()
    assert st.shape == (8000 + 160, 2)
    assert st[0, 0] == pytest.approx(0.5) and st[0, 1] == 0
    assert st[8000, 1] == pytest.approx(0.25) and st[8000, 0] == 0
    rec.save(tmp_path / "c.wav")
    with wave.open(str(tmp_path / "c.wav")) as w:
        assert w.getnchannels() == 2 and w.getframerate() == 16000


def test_stream_resampler_output_does_not_depend_on_chunking():
    """A live edge cuts audio into arbitrary chunks; the polyphase filter carries its history across
    them, so the samples out are the same whatever the chunk sizes, and a tone keeps its level."""
    from parley.audio.resample import StreamResampler

    t = np.arange(24000) / 24000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    whole = StreamResampler(24000, 16000)(tone)
    r, parts, i = StreamResampler(24000, 16000), [], 0
    for size in [480, 7, 1000, 333] * 200:
        if i >= len(tone):
            break
        parts.append(r(tone[i:i + size]))
        i += size
    assert len(whole) == 16000
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)
    assert abs(np.sqrt(2) * np.std(whole[1000:]) - 0.5) < 0.01


def test_echo_canceller_skips_silent_stretches_exactly():
    """Frames with nothing played within the filter's span skip the filter's work. That must leave it
    exactly where the full computation would (here forced by a reference of 1e-30 instead of zeros):
    the microphone passes through while nothing plays, and each reply's echo after a pause, long or
    short, is cancelled as before."""
    from parley.duplex.echo import EchoCanceller

    rng = np.random.default_rng(0)
    n = 512
    speech = rng.standard_normal(n * 40).astype(np.float32) * 0.3
    gap = lambda blocks: np.zeros(n * blocks, np.float32)  # noqa: E731
    ref = np.concatenate([gap(3), speech, gap(2), speech, gap(40), speech])
    mic = 0.2 * np.concatenate([np.zeros(40, np.float32), ref[:-40]])  # a 2.5 ms echo path, -14 dB
    mic = mic + rng.standard_normal(len(ref)).astype(np.float32) * 0.001
    outs = []
    for floor in (0.0, 1e-30):
        aec = EchoCanceller()
        played = np.where(ref == 0, np.float32(floor), ref)
        outs.append(np.concatenate([aec.process(mic[i:i + n], played[i:i + n]) for i in range(0, len(ref), n)]))
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-6)
    idle = slice(len(ref) - len(speech) - n * 30, len(ref) - len(speech))
    np.testing.assert_allclose(outs[0][idle], mic[idle], atol=1e-6)
    last = slice(len(ref) - len(speech) // 2, None)
    assert np.std(outs[0][last]) < 0.1 * np.std(mic[last])  # the echo is cancelled by 20 dB or more
