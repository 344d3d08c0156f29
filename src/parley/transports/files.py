"""File transport: a WAV file as the user's side of a conversation.

The file is converted to 16 kHz mono at the edge and played into the agent over the loopback
channel as a single user turn stream (pauses in the file are the user's pauses); the agent's audio
and the user's are written to a stereo WAV on one time axis.
"""

from __future__ import annotations

from pathlib import Path

from parley.audio.wavio import read_wav
from parley.transports.loopback import UserLine


def lines_from_wav(path: str | Path) -> list[UserLine]:
    pcm = read_wav(path)
    return [UserLine(text=f"<{Path(path).name}>", pcm=pcm, gap_s=0.0)]
