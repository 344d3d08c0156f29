"""The architecture registry: every entry point gets its agent by name."""

import pytest

from parley.architectures import registry
from parley.config import CascadeConfig
from parley.errors import ParleyError


def test_every_listed_architecture_is_configured_or_says_why_not(monkeypatch):
    monkeypatch.delenv(registry.LLM_URL_ENV, raising=False)
    base = CascadeConfig()
    assert registry.configure("cascade", base) == (base, None)
    cfg, why = registry.configure("cascade-openai", base)
    assert cfg is None and registry.LLM_URL_ENV in why
    for name in ("hybrid", "moshi", "realtime"):
        cfg, why = registry.configure(name, base)
        assert cfg is None and name in why


def test_cascade_openai_is_the_cascade_with_an_endpoint(monkeypatch):
    monkeypatch.setenv(registry.LLM_URL_ENV, "http://127.0.0.1:9/v1")
    monkeypatch.setattr(registry, "_probe_endpoint", lambda url: None)
    cfg, why = registry.configure("cascade-openai", CascadeConfig())
    assert why is None and (cfg.llm.backend, cfg.llm.url) == ("openai", "http://127.0.0.1:9/v1")
    assert registry.architecture("cascade-openai").agent_class == registry.architecture("cascade").agent_class


def test_an_unknown_or_missing_architecture_is_one_clear_error():
    with pytest.raises(ParleyError, match="unknown architecture 'casade': use one of cascade"):
        registry.configure("casade", CascadeConfig())
    with pytest.raises(ParleyError, match="hybrid architecture is not available"):
        registry.build("hybrid", CascadeConfig(), clock=None, log=None)
