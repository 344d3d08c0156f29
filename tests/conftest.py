"""Shared fixtures: real models, loaded once per test session (the fast LLM, per the project's rule)."""

from __future__ import annotations

import numpy as np
import pytest

from parley.config import AgentConfig


@pytest.fixture(scope="session")
def user_speech():
    """Synthesize a user line in the simulated user's voice (cached per text)."""
    from parley.bench.voices import speak_as_user

    cache: dict[str, np.ndarray] = {}

    def speak(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = speak_as_user(text)
        return cache[text]

    return speak


@pytest.fixture()
def fast_cfg() -> AgentConfig:
    cfg = AgentConfig()
    cfg.llm.model = "fast"
    cfg.llm.max_tokens = 60
    return cfg
