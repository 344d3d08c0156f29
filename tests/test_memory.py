"""Long-call memory on the real LLM: rolling summaries and the prefill-aside KV swap behind them."""

import asyncio
import json
from pathlib import Path

import pytest

from parley.cancel import CancelToken
from parley.clock import RealClock
from parley.components import registry
from parley.config import LLMConfig
from parley.dialogue.history import History
from parley.dialogue.summary import QUOTED_WORDS, RollingSummary, clean, keep_statements
from parley.events import EventLog, MemorySummary

SYSTEM = "You are a helpful phone assistant for an outdoor clothing shop. Answer in one short sentence."


class CancelAfter(CancelToken):
    """Cancelled once it has been checked `n` times: a reply arriving in the middle of idle work."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    @property
    def cancelled(self) -> bool:
        self.left -= 1
        return self.left < 0


async def _reply(llm, messages) -> str:
    return "".join([d async for d in llm.stream(messages, cancel=CancelToken())])


def test_prefill_aside_keeps_the_live_cache_until_the_folded_prompt_is_complete():
    llm = registry.chat_model(LLMConfig(model="fast", max_tokens=24, n_ctx=2048), RealClock())
    engine = llm.engine
    live = [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Hi, my name is Maria and I need new boots."},
            {"role": "assistant", "content": "Hello Maria, happy to help with boots."}]
    folded = [{"role": "system", "content": SYSTEM},
              {"role": "system", "content": "Summary of the earlier part of this call: the caller, Maria, "
                                            "is buying boots for a hike in Scotland."},
              {"role": "user", "content": "Do they come in purple?"},
              {"role": "assistant", "content": "Yes, they come in purple."}]
    calls = []

    async def go():
        await llm.warm(live)
        ids = engine._llm.input_ids[: engine._llm.n_tokens].copy()
        done = await llm.prefill_aside(folded, CancelAfter(2), lambda: calls.append("live"))
        assert not done and not calls and llm in engine.states.asides
        assert (engine._llm.input_ids[: engine._llm.n_tokens] == ids).all()  # the live cache is back
        answer = await _reply(llm, live + [{"role": "user", "content": "What is my name?"}])
        assert "Maria" in answer, answer
        done = await llm.prefill_aside(folded, CancelToken(), lambda: calls.append("live"))
        await asyncio.sleep(0)  # on_live is delivered on the event loop
        assert done and calls == ["live"] and llm not in engine.states.asides
        answer = await _reply(llm, folded + [{"role": "user", "content": "Where is my hike?"}])
        assert "Scotland" in answer, answer

    asyncio.run(go())


@pytest.mark.slow
def test_rolling_summary_folds_a_long_call_and_keeps_what_matters():
    clock = RealClock()
    llm = registry.chat_model(LLMConfig(model="quality", max_tokens=120, n_ctx=2048), clock)
    log = EventLog("t", clock_now=clock.now)
    h = History(SYSTEM, max_chars=2000)
    h.add("Hi, I'm looking for a birthday present for my sister. She's going hiking in Scotland next spring.",
          "Happy to help! What kind of gear does she need?")
    h.add("Her favorite color is purple, by the way.", "Noted, purple it is.")
    while h.fold_point() is None:
        h.add("Do you sell warm socks?", "Yes, we sell merino hiking socks in several sizes.")
    memory = RollingSummary(h, llm, clock, log)

    async def go():
        await llm.warm(h.messages())
        memory.reply_heard()
        await memory._task

    asyncio.run(go())
    (ev,) = [e for e in log.events if isinstance(e, MemorySummary)]
    assert ev.folded_turns >= 2 and h.start == ev.folded_turns
    assert "Scotland" in ev.text, ev.text
    prompt = h.messages("Where is my sister going hiking?")
    assert "Scotland" in prompt[1]["content"] and "What kind of gear does she need?" not in str(prompt)


class Summariser:
    """Writes a fixed summary word by word from where `prefix` left off; the first call is cut off
    after `cut` words by a reply needing the model (`on_cut`)."""
    name = "summariser"

    def __init__(self, text: str, cut: int) -> None:
        self.words, self.cut, self.prefixes, self.on_cut = text.split(" "), cut, [], None

    async def stream(self, messages, *, cancel, background=False, prefix=""):
        self.prefixes.append(prefix)
        done = len(prefix.split(" ")) if prefix else 0
        for i, word in enumerate(self.words[done:], done):
            if i == self.cut and len(self.prefixes) == 1:
                self.on_cut()
            if cancel.cancelled:
                return
            await asyncio.sleep(0)
            yield (" " if i else "") + word

    async def warm(self, messages) -> None:
        pass

    async def prefill_aside(self, messages, cancel, on_live) -> bool:
        on_live()
        return True


def test_a_summary_cut_off_by_a_reply_is_continued_not_restarted():
    """Written from scratch in each idle period, a summary longer than the idle periods never landed."""
    clock = RealClock()
    log = EventLog("t", clock_now=clock.now)
    h = History(SYSTEM, max_chars=2000)
    while h.fold_point() is None:
        h.add("Do you sell warm socks for hiking in Scotland?", "Yes, we sell merino hiking socks in several sizes.")
    text = "The caller is buying a present for a sister hiking in Scotland next spring."
    llm = Summariser(text, cut=4)
    memory = RollingSummary(h, llm, clock, log)
    llm.on_cut = lambda: memory.yield_model(now=True)

    async def go():
        memory.reply_heard()
        await memory._task
        assert not [e for e in log.events if isinstance(e, MemorySummary)]
        memory.reply_heard()  # the next idle period
        await memory._task

    asyncio.run(go())
    assert llm.prefixes == ["", "The caller is buying"]
    (ev,) = [e for e in log.events if isinstance(e, MemorySummary)]
    assert ev.text.startswith(text) and ev.text.count("Scotland") == 1, ev.text


def test_a_statement_the_summary_lost_is_quoted_after_it_and_a_question_never_is():
    turns = ["Hi, I'm looking for a present for my sister. She's going hiking in Scotland next spring.",
             "Her favorite color is purple, by the way.", "Do you sell hiking socks?", "Thanks, that's great.",
             "What colors does the rain jacket come in?", "desal children's clothes."]
    lost = keep_statements("The caller wants a present for their sister, who goes hiking in Scotland in spring.", turns)
    assert lost.endswith('The caller said: "Her favorite color is purple, by the way."'), lost
    kept = "The caller wants a present for their sister, hiking in Scotland next spring; her favorite color is purple."
    assert keep_statements(kept, turns) == kept  # covered by the summary: nothing quoted
    many = ["My dog Rex sleeps indoors.", "Grandma knits woollen scarves.", "Tuesday evenings suit pickup.",
            "Blue trainers fit nicely.", "Parcels go next door.", "Cotton irritates eczema badly.",
            "Boxing Day returns worry everyone.", "Courier vans block driveways."]
    quoted = keep_statements("", many)
    assert quoted.startswith('The caller said: "My dog Rex') and len(quoted.split()) - 3 <= QUOTED_WORDS < 4 * 8


def test_summary_text_is_one_short_paragraph():
    assert clean("Summary:  The caller,\n Maria, wants boots.") == "The caller, Maria, wants boots."
    assert len(clean("word " * 200).split()) == 70


@pytest.mark.slow
def test_a_spoken_call_outgrows_its_window_and_the_summary_answers(tmp_path):
    """memory-summary-d30: a 2048-token window, 32 spoken turns; "Scotland" is no fact the verbatim
    store keeps, so at turn 31 only the rolling summary can supply it."""
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    scenario = Path(__file__).parent.parent / "src/parley/bench/scenarios/memory-summary-d30.yaml"
    run_bench([str(scenario)], ["cascade"], tmp_path, base=AgentConfig())
    conv = tmp_path / "cascade" / "memory-summary-d30"
    events = [json.loads(line) for line in (conv / "events.jsonl").read_text().splitlines()]
    folds = [e for e in events if e["kind"] == "memory_summary"]
    assert folds and folds[0]["folded_turns"] >= 2 and "Scotland" in folds[0]["text"], folds
    recall = json.loads((conv / "judge.json").read_text())[0]
    assert recall["expected"] == "Scotland" and recall["passed"], recall
