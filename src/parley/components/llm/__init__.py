from parley.components.llm.base import ChatModel, Message

__all__ = ["ChatModel", "Message"]
