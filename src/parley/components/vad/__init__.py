from parley.components.vad.base import VAD

__all__ = ["VAD"]
