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
