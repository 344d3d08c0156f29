"""The architecture registry: every entry point gets its agent by name."""

import pytest

from parley.architectures import registry
from parley.config import AgentConfig
from parley.errors import ParleyError


def test_every_listed_architecture_is_configured_or_says_why_not(monkeypatch):
    for env in (registry.LLM_URL_ENV, "PARLEY_MOSHI_URL", "PARLEY_REALTIME_URL"):
        monkeypatch.delenv(env, raising=False)
    base = AgentConfig()
    assert registry.configure("cascade", base) == (base, None)
    cfg, why = registry.configure("cascade-openai", base)
    assert cfg is None and registry.LLM_URL_ENV in why
    assert registry.configure("hybrid", base) == (base, None)
    for name, needs in (("moshi", "no moshi server"), ("personaplex", "needs a voice prompt"),
                        ("realtime", "no realtime endpoint")):
        cfg, why = registry.configure(name, base)
        assert cfg is None and needs in why


def test_cascade_openai_is_the_cascade_with_an_endpoint(monkeypatch):
    monkeypatch.setenv(registry.LLM_URL_ENV, "http://127.0.0.1:9/v1")
    monkeypatch.setattr(registry, "_probe_endpoint", lambda url: None)
    cfg, why = registry.configure("cascade-openai", AgentConfig())
    assert why is None and (cfg.llm.backend, cfg.llm.url) == ("openai", "http://127.0.0.1:9/v1")
    assert registry.architecture("cascade-openai").agent_class == registry.architecture("cascade").agent_class


def test_an_unknown_or_missing_architecture_is_one_clear_error():
    with pytest.raises(ParleyError, match="unknown architecture 'casade': use one of cascade"):
        registry.configure("casade", AgentConfig())
    with pytest.raises(ParleyError, match="moshi url '' is not a ws:// or wss:// URL"):
        registry.build("moshi", AgentConfig(), clock=None, log=None)


def test_turn_taking_is_one_section_and_old_top_level_keys_still_load(tmp_path):
    from parley.config import load_config

    old = tmp_path / "old.toml"
    old.write_text('barge_in_confirm_ms = 450\nmax_reply_words = 30\n[endpoint]\neagerness = "high"\n')
    cfg = load_config(old)
    assert (cfg.turn_taking.barge_in_confirm_ms, cfg.turn_taking.endpoint.eagerness, cfg.max_reply_words) == (450, "high", 30)
    new = tmp_path / "new.toml"
    new.write_text('[turn_taking]\nagent_backchannels = false\n[turn_taking.vad]\nthreshold = 0.6\n')
    cfg = load_config(new)
    assert not cfg.turn_taking.agent_backchannels and cfg.turn_taking.vad.threshold == 0.6
    bad = tmp_path / "bad.toml"
    bad.write_text('[turn_taking]\nbarge_in_confirm = 450\n')
    with pytest.raises(ParleyError, match="turn_taking.barge_in_confirm"):
        load_config(bad)
