"""Audio at parley's edges and inside: 16 kHz mono float32 frames, resampling, WAV I/O, recording."""

from parley.audio.frame import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioFrame

__all__ = ["AudioFrame", "SAMPLE_RATE", "FRAME_SAMPLES", "FRAME_SECONDS"]
