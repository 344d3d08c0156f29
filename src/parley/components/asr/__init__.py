from parley.components.asr.base import ASR

__all__ = ["ASR"]
