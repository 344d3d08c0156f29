"""G.711 μ-law and A-law (ITU-T G.711): the 8-bit companding of telephone lines.

Used at the edges: the bench's `phone` condition pushes the caller's audio through a μ-law line,
and telephony clients send `g711_ulaw` / `g711_alaw`. Float audio in [-1, 1] ↔ uint8 codes; the
segment tables are the standard's (14-bit magnitude for μ-law with bias 0x84, 13-bit for A-law).
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635


def _segment(mag: np.ndarray, top: int) -> np.ndarray:
    """Index of the highest set bit above bit 7, i.e. the G.711 segment (0..7)."""
    seg = np.zeros(mag.shape, dtype=np.int32)
    for s in range(1, 8):
        seg[mag >= (1 << (s + top))] = s
    return seg


def ulaw_encode(pcm: np.ndarray) -> np.ndarray:
    x = np.clip(np.round(np.asarray(pcm, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int32) >> 2
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), _CLIP >> 2) + (_BIAS >> 2)  # 14-bit magnitude, as CPython's audioop
    seg = _segment(mag, 5)
    mantissa = (mag >> (seg + 1)) & 0x0F
    return (~(sign | (seg << 4) | mantissa) & 0xFF).astype(np.uint8)


def ulaw_decode(codes: np.ndarray) -> np.ndarray:
    u = ~np.asarray(codes, dtype=np.int32) & 0xFF
    seg = (u >> 4) & 0x07
    mag = (((u & 0x0F) << 3) + _BIAS) << seg
    x = np.where(u & 0x80, _BIAS - mag, mag - _BIAS)
    return (x / 32768.0).astype(np.float32)


def alaw_encode(pcm: np.ndarray) -> np.ndarray:
    x = np.clip(np.round(np.asarray(pcm, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int32) >> 3
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.where(x >= 0, x, -x - 1)
    mag = np.minimum(mag, 0x0FFF)
    seg = _segment(mag, 4)
    mantissa = np.where(seg == 0, mag >> 1, mag >> seg) & 0x0F
    return ((sign | (seg << 4) | mantissa) ^ 0x55).astype(np.uint8)


def alaw_decode(codes: np.ndarray) -> np.ndarray:
    a = np.asarray(codes, dtype=np.int32) ^ 0x55
    seg = (a >> 4) & 0x07
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << (seg - 1)))
    x = np.where(a & 0x80, t, -t)
    return (x / 32768.0).astype(np.float32)
