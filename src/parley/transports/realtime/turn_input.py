"""What a client that decides turns itself (`turn_detection: null`) has given for the next reply:
the audio appended since its last `commit`, or a user message it created. `response.create` takes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.transports.realtime import wire
from parley.transports.realtime.wire import AudioIn, WireError


class TurnInput:
    def __init__(self) -> None:
        self._uncommitted: list[np.ndarray] = []  # audio since the last commit
        self.pending: tuple[str, Any, str] | None = None  # ("audio"|"text", value, user item id)

    def append(self, pcm: np.ndarray) -> None:
        self._uncommitted.append(pcm)

    def clear(self) -> None:
        self._uncommitted.clear()

    def commit(self) -> str:
        """The audio since the last commit becomes the next user item; its id."""
        audio = np.concatenate(self._uncommitted) if self._uncommitted else np.zeros(0, np.float32)
        if len(audio) < 0.1 * SAMPLE_RATE:
            raise WireError("Input audio buffer holds less than 100 ms of audio; nothing was committed.",
                            code="input_audio_buffer_commit_empty")
        self._uncommitted.clear()
        item = wire.new_id("item")
        self.pending = ("audio", audio, item)
        return item

    def message(self, item: Any, input_format: str) -> dict:
        """A client's `conversation.item.create` becomes the next user item; the item as created."""
        if not isinstance(item, dict) or item.get("type") != "message" or item.get("role") != "user":
            raise WireError("parley accepts user messages only: its history holds what the caller said and heard.",
                            code="unsupported", param="item")
        content = item.get("content") if isinstance(item.get("content"), list) else []
        texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "input_text"]
        audios = [c.get("audio") for c in content if isinstance(c, dict) and c.get("type") == "input_audio"]
        item_id = item.get("id") if isinstance(item.get("id"), str) and len(item["id"]) <= 64 else wire.new_id("item")
        if texts and all(isinstance(t, str) for t in texts):
            self.pending = ("text", " ".join(texts), item_id)
            return wire.user_item(item_id, text=" ".join(texts))
        if audios:
            decoder = AudioIn(input_format)
            self.pending = ("audio", np.concatenate([decoder.decode(a) for a in audios]), item_id)
            return wire.user_item(item_id, transcript=None)
        raise WireError("A user message needs input_text or input_audio content.", param="item.content")

    def forget(self, item_id: Any) -> bool:
        """Drop the pending item if it is `item_id` (a client's `conversation.item.delete`)."""
        if self.pending is not None and self.pending[2] == item_id:
            self.pending = None
            return True
        return False

    def take(self) -> tuple[str, Any, str]:
        """The pending input, for `response.create`."""
        if self.pending is None:
            raise WireError("Nothing to respond to: parley replies to a user turn (commit audio, or create a "
                            "user message, first).", code="no_user_input")
        pending, self.pending = self.pending, None
        return pending
