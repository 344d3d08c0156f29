"""Stereo conversation recording on one shared time axis: left = user, right = agent.

With a journal path (every session that writes artefacts) audio goes to disk as it is heard and
played, one record per chunk, and nothing is kept in memory: an hour-long call costs no RAM, and a
process killed with -9 leaves a journal that `render_journal` (and `parley sessions repair`) turns
into the WAV. Without one (tests, benchmarks) chunks are kept in memory.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.audio.wavio import write_wav

_RECORD = struct.Struct("<cdI")  # channel (b"u" user, b"a" agent, b"o" origin), clock time, samples
_CHANNEL = {b"u": 0, b"a": 1}


class ConversationRecorder:
    """Collects what the user said and what the agent played, sample-aligned by clock time."""

    def __init__(self, rate: int = SAMPLE_RATE, origin: float = 0.0, journal: Path | None = None) -> None:
        self.rate = rate
        self._origin = origin  # clock time of the recording's first sample
        self._user: list[tuple[float, np.ndarray]] = []
        self._agent: list[tuple[float, np.ndarray]] = []
        self.journal = journal
        self._fh: BinaryIO | None = None
        self._written = False
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(journal, "wb")
            self._record(b"o", origin, np.zeros(0, np.int16))

    @property
    def origin(self) -> float:
        return self._origin

    @origin.setter
    def origin(self, t: float) -> None:
        self._origin = t
        if self._fh is not None:
            self._record(b"o", t, np.zeros(0, np.int16))

    def _record(self, channel: bytes, t: float, pcm16: np.ndarray) -> None:
        self._fh.write(_RECORD.pack(channel, t, len(pcm16)) + pcm16.astype("<i2").tobytes())
        self._fh.flush()

    def add_user(self, t: float, pcm: np.ndarray) -> None:
        self._add(b"u", self._user, t, pcm)

    def add_agent(self, t: float, pcm: np.ndarray) -> None:
        self._add(b"a", self._agent, t, pcm)

    def _add(self, channel: bytes, parts: list, t: float, pcm: np.ndarray) -> None:
        self._written = True
        if self._fh is not None:
            self._record(channel, t, (np.clip(pcm, -1.0, 1.0) * 32767.0).astype(np.int16))
        else:
            parts.append((t, pcm))

    def _render(self, parts: list[tuple[float, np.ndarray]], n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.float32)
        for t, pcm in parts:
            i = int(round((t - self.origin) * self.rate))
            j = min(n, i + len(pcm))
            if j > i >= 0:
                out[i:j] += pcm[: j - i]
        return out

    def _length(self) -> int:
        ends = [int(round((t - self.origin) * self.rate)) + len(p) for t, p in self._user + self._agent]
        return max(ends, default=0)

    @property
    def empty(self) -> bool:
        return not self._written

    def stereo(self) -> np.ndarray:
        """The in-memory recording (a recorder without a journal)."""
        n = self._length()
        return np.stack([self._render(self._user, n), self._render(self._agent, n)], axis=1)

    def save(self, path: str | Path) -> None:
        if self._fh is None:
            write_wav(path, self.stereo(), self.rate)
            return
        self.close()
        render_journal(self.journal, Path(path), self.rate)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_journal(journal: Path) -> Iterator[tuple[bytes, float, np.ndarray]]:
    """(channel, clock time, int16 samples) records; a record cut short by a kill ends the stream."""
    with open(journal, "rb") as fh:
        while head := fh.read(_RECORD.size):
            if len(head) < _RECORD.size:
                return
            channel, t, n = _RECORD.unpack(head)
            body = fh.read(2 * n)
            if len(body) < 2 * n or channel not in (b"u", b"a", b"o"):
                return
            yield channel, t, np.frombuffer(body, dtype="<i2")


def render_journal(journal: Path, wav: Path, rate: int = SAMPLE_RATE) -> bool:
    """Write the stereo 16-bit WAV a journal describes, mixing on a memory-mapped file (RAM stays
    flat however long the call). False when the journal holds no audio."""
    origin, n = 0.0, 0
    for channel, t, pcm in read_journal(journal):
        if channel == b"o":
            origin = t
        else:
            n = max(n, int(round((t - origin) * rate)) + len(pcm))
    if n == 0:
        return False
    wav.parent.mkdir(parents=True, exist_ok=True)
    with open(wav, "wb") as fh:
        fh.write(_wav_header(n, 2, rate))
        fh.truncate(44 + 4 * n)
    data = np.memmap(wav, dtype="<i2", mode="r+", offset=44, shape=(n, 2))
    origin = 0.0
    for channel, t, pcm in read_journal(journal):
        if channel == b"o":
            origin = t
            continue
        i = int(round((t - origin) * rate))
        j = min(n, i + len(pcm))
        if j > i >= 0:
            col = _CHANNEL[channel]
            mixed = data[i:j, col].astype(np.int32) + pcm[: j - i]
            data[i:j, col] = np.clip(mixed, -32768, 32767)
    data.flush()
    del data
    return True


def _wav_header(frames: int, channels: int, rate: int) -> bytes:
    size = frames * channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16) +
            b"data" + struct.pack("<I", size))
