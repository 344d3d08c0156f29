from parley.components.turn.base import TurnDetector

__all__ = ["TurnDetector"]
