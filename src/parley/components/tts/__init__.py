from parley.components.tts.base import TTS, SpeechChunk

__all__ = ["TTS", "SpeechChunk"]
