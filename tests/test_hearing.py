"""Hearing what callers say, on real synthesized audio: entities stored exactly, corrections that
replace, persona limits and internal text at the speech boundary (issue 10)."""

import asyncio

import numpy as np
import pytest

from parley.bench.conditions import active_rms, line_filter
from parley.bench.user import say_value
from parley.bench.voices import speak_as_user
from parley.clock import RealClock
from parley.components import registry
from parley.config import AgentConfig
from parley.runner import run_conversation
from parley.transports.loopback import UserLine


class ScriptedLLM:
    """Streams a fixed draft whatever it is asked: the orchestration around the LLM is under test."""
    name = "scripted"

    def __init__(self, draft: list[str]) -> None:
        self.draft = draft
        self.prompts: list[list[dict]] = []

    async def stream(self, messages, *, cancel, background=False, prefix=""):
        self.prompts.append(messages)
        for delta in self.draft:
            if cancel.cancelled:
                return
            await asyncio.sleep(0)
            yield delta

    async def warm(self, messages) -> None:
        pass

    async def prefill_aside(self, messages, cancel, on_live) -> bool:
        return False


class RecordingTTS:
    """Piper, remembering every text it was given."""

    def __init__(self) -> None:
        self.piper = registry.piper(1.0)
        self.texts: list[str] = []

    def synthesize(self, text: str) -> np.ndarray:
        self.texts.append(text)
        return self.piper.synthesize(text)


def _line(text: str, voice: str = "joe", condition: str = "clean", **kw) -> UserLine:
    pcm = speak_as_user(text, voice)
    if condition != "clean":
        pcm = line_filter(condition, active_rms(pcm))(pcm)
    return UserLine(text, pcm, **kw)


def _answering(text: str, value: str, voice: str, condition: str) -> UserLine:
    return _line(text, voice, condition, readback=value,
                 answers=(_line("Yes, that's right.", voice, condition),
                          _line(f"No, it is {say_value(value)}.", voice, condition),
                          _line(f"No, it is {say_value(value, spell=True)}.", voice, condition)))


def test_internal_text_never_reaches_the_tts_and_is_not_heard():
    tts = RecordingTTS()
    llm = ScriptedLLM(["I'm sorry, [interr", "upted by the user] your parcel <|im_", "end|> left today. ",
                       "User", ": and what about"])
    res = asyncio.run(run_conversation(AgentConfig(), [_line("Where is my parcel?")], clock=RealClock(),
                                       agent_kwargs={"llm": llm, "tts": tts}))
    spoken = " ".join(tts.texts[3:])  # after the warm-up and the pre-synthesized backchannels
    assert spoken and all(m not in spoken for m in ("[", "]", "<", ">", "interrupted", "User", "what about"))
    assert [r.agent for r in res.records] == ["I'm sorry, your parcel left today."]


def test_a_reply_that_would_give_medical_advice_is_replaced_by_the_fallback():
    cfg = AgentConfig(persona="You are Kim, the agent of a pharmacy delivery service. You must never give "
                                "medical advice; refer health questions to a pharmacist.")
    llm = ScriptedLLM(["Sure, for a headache ", "you can take two 400 mg ", "tablets every six hours."])
    res = asyncio.run(run_conversation(cfg, [_line("How many ibuprofen can I take for my headache?")],
                                       clock=RealClock(), agent_kwargs={"llm": llm}))
    [breach] = res.log.of("limit_breached")
    heard = res.records[0].agent
    assert breach.limit == "medical" and "400" not in heard and "pharmacist" in heard


def test_a_rule_the_persona_states_is_enforced():
    """No built-in knows this rule: its object (an arrival time) is a kind of value, so a clause
    stating one is replaced by a line made from the rule."""
    cfg = AgentConfig(persona="You are Ines at Brookfield Tables. You help with orders and care tips. Never estimate "
                              "when an order will arrive: the courier texts the customer a two-hour slot.")
    llm = ScriptedLLM(["Good question. ", "It should be with you ", "by Thursday afternoon."])
    res = asyncio.run(run_conversation(cfg, [_line("When will my oak table arrive?")], clock=RealClock(),
                                       agent_kwargs={"llm": llm}))
    [breach] = res.log.of("limit_breached")
    heard = res.records[0].agent
    assert breach.limit == "persona_dates" and "Thursday" not in heard
    assert "courier texts you a two-hour slot" in heard


def test_a_number_the_caller_gave_is_said_and_an_invented_one_is_not():
    llm = ScriptedLLM(["Sure, about order 4 4 1 7 2, ", "we will call you back on ", "555 867 5309 today."])
    res = asyncio.run(run_conversation(AgentConfig(), [_line("My order is four four one seven two, can you call me?")],
                                       clock=RealClock(), agent_kwargs={"llm": llm}))
    [breach] = res.log.of("limit_breached")
    heard = res.records[0].agent
    assert breach.limit == "ungrounded_number" and "5309" not in heard and "867" not in heard
    assert "4 4 1 7 2" in heard and "don't have that number" in heard


@pytest.mark.slow
@pytest.mark.parametrize("condition", ["clean", "phone"])
def test_a_spelled_surname_and_an_email_are_stored_exactly(condition):
    """The caller answers the agent's read-back as people do: 'yes' when right, the value again
    when wrong (an e-mail's name spelled the second time); the fact store ends with the exact
    value. Piper's voice only: Whisper tiny hears no spelled letters or e-mail in the eSpeak voices
    (docs/benchmarks.md), which no read-back can repair."""
    lines = [_answering("My last name is Brown, that is B R O W N.", "BROWN", "joe", condition),
             _answering("My email address is john dot smith at gmail dot com.", "john.smith@gmail.com", "joe", condition)]
    res = asyncio.run(run_conversation(AgentConfig(), lines, clock=RealClock()))
    stored = {e.slot: e.value for e in res.log.of("fact_stored")}
    assert stored.get("last name") == "BROWN" and stored.get("email") == "john.smith@gmail.com", stored
    assert {e.action for e in res.log.of("read_back")} >= {"confirm"}


@pytest.mark.slow
def test_a_barged_in_correction_replaces_the_stored_date():
    lines = [_line("I would like to book a fitting appointment for Tuesday the fourteenth, please."),
             _line("No, sorry, not Tuesday. Thursday the sixteenth.", after_agent_starts_s=1.2)]
    res = asyncio.run(run_conversation(AgentConfig(), lines, clock=RealClock()))
    dates = [(e.value, e.replaced) for e in res.log.of("fact_stored") if e.slot == "date"]
    assert dates[-1] == ("Thursday 16th", ["Tuesday 14th"]), dates


def test_a_turn_the_asr_probably_misheard_is_asked_for_again_and_answered_when_repeated():
    """Whisper's own confidence decides: a clear line is answered; a garbled one (eSpeak's Klatt voice
    on a phone line) gets "could you say it again?", the caller says it again more slowly, and that
    is answered — the agent never asks twice in a row."""
    from parley.dialogue.readback import UNCLEAR_LINE

    def line(text, voice, condition="clean", slower=False):
        pcm = speak_as_user(text, voice, slower=slower)
        return line_filter(condition, active_rms(pcm))(pcm) if condition != "clean" else pcm

    garbled = "Does the warranty cover water damage?"
    lines = [UserLine("Hello, I have a question about my boots.", line("Hello, I have a question about my boots.", "joe")),
             UserLine(garbled, line(garbled, "espeak-us-klatt", "phone"),
                      again=lambda: UserLine(garbled, line(garbled, "espeak-us-klatt", "phone", slower=True)))]
    llm = ScriptedLLM(["Yes, water damage is covered for a year."])
    res = asyncio.run(run_conversation(AgentConfig(), lines, agent_kwargs={"llm": llm}))
    asks = [e for e in res.log.of("read_back") if e.action == "unclear"]
    assert len(asks) == 1 and asks[0].turn > 1  # the clear first line was answered, not asked again
    said_again = [e for e in res.log.of("sim_utterance") if e.answer]
    assert len(said_again) == 1 and said_again[0].text == garbled
    replies = [r.agent for r in res.records]
    assert replies[0] == "Yes, water damage is covered for a year."
    assert UNCLEAR_LINE in replies and replies[-1] == "Yes, water damage is covered for a year."
    assert replies.index(UNCLEAR_LINE) == len(replies) - 2  # asked once, then the repeat was answered


class ReadingLLM(ScriptedLLM):
    """Also reads the caller's words, as the embedded model does: words about `odd` are improbable."""

    def __init__(self, draft: list[str], odd: str) -> None:
        super().__init__(draft)
        self.odd = odd
        self.read_words: list[str] = []

    async def read(self, messages, words, plausibility=True):
        from parley.components.llm.base import Reading

        self.read_words.append(words)
        return Reading(0.9, (-8.0 if self.odd in words else -2.0) if plausibility else None)


@pytest.mark.parametrize("arch", ["cascade", "hybrid"])
def test_words_the_chat_model_finds_improbable_are_asked_for_again(arch):
    """Whisper is sure of these words, but the chat model finds them improbable after the
    conversation so far (`[asr] implausible_below`; here weighed on every turn, `read_words_below`
    0): the agent asks for them again rather than answering them, once; the caller's repeat is
    answered. A question is read too, though its finality never matters to the end of turn."""
    from parley.dialogue.readback import UNCLEAR_LINE

    odd = "Do you believe we are on a path of danger?"
    lines = [_line("Hello, I have a question about my boots."),
             _line(odd, again=lambda: _line(odd))]
    llm = ReadingLLM(["Yes, we can help with that."], odd="danger")
    cfg = AgentConfig()
    cfg.asr.read_words_below = 0.0
    res = asyncio.run(run_conversation(cfg, lines, arch=arch, agent_kwargs={"llm": llm}))
    asks = [e for e in res.log.of("read_back") if e.action == "unclear"]
    assert len(asks) == 1 and asks[0].turn > 1  # the plausible first line was answered
    assert any("danger" in w for w in llm.read_words)
    replies = [r.agent for r in res.records]
    assert UNCLEAR_LINE in replies[-2] and replies[-1].endswith("Yes, we can help with that.")
    cfg.asr.implausible_below = None  # off: answered at once
    res = asyncio.run(run_conversation(cfg, lines, arch=arch, agent_kwargs={"llm": ReadingLLM(["Yes."], odd="danger")}))
    assert not [e for e in res.log.of("read_back") if e.action == "unclear"]
