"""parley: full-duplex spoken conversations, and a bench that scores more than latency."""

__version__ = "0.1.0"
