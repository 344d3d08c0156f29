"""The duplex engine's overlap policy with fake components (no models), on a virtual clock:
an onset over the agent pauses it at once; a backchannel-sized overlap resumes it; a long one stops
it and the responder hears only what was played."""

import asyncio

import numpy as np

from parley.audio.frame import SAMPLE_RATE
from parley.clock import VirtualClock
from parley.components.llm.base import Reading
from parley.config import AgentConfig
from parley.cpu import CpuGate
from parley.duplex.engine import DuplexEngine
from parley.duplex.end_of_turn import WAITS_MS
from parley.duplex.fakes import EnergyVAD, ScriptedASR, ScriptedResponder, ToneTTS
from parley.duplex.voice import Voice
from parley.events import EventLog
from parley.transports.loopback import LoopbackChannel, UserLine

REPLY = "Returns are free within thirty days of delivery, and the refund reaches your card in five days."


def _speech(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(int(seconds * 1000))
    return (0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)


def _words(seconds: float, prompt: str | None) -> str:
    if prompt is not None:  # transcribed as an overlap
        return "Mhm." if seconds < 1.0 else "Wait, what about exchanges?"
    return "Tell me about returns." if seconds > 1.5 else "Wait, what about exchanges?"


def _plain_config() -> AgentConfig:
    """A fixed silence ends the turn (no turn model), no echo guard, no agent backchannels."""
    cfg = AgentConfig()
    cfg.turn_taking.endpoint.predict = False
    cfg.turn_taking.echo_guard = False
    cfg.turn_taking.agent_backchannels = False
    return cfg


def _converse(cfg: AgentConfig, responder, asr, lines: list[UserLine]) -> EventLog:
    """`lines` said to the engine over the loopback on the virtual clock; the event log."""
    async def go():
        clock = VirtualClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        engine = DuplexEngine(cfg, clock, log, responder, vad=EnergyVAD(), asr=ScriptedASR(asr),
                              voice=Voice(ToneTTS(), clock, log, CpuGate()))
        await engine.start()
        try:
            await LoopbackChannel(engine, clock, log, lines, reply_timeout_s=20).run()
        finally:
            await engine.close()
            await clock.stop()
        return log

    return asyncio.run(go())


def _run(overlap_s: float):
    responder = ScriptedResponder(REPLY)
    lines = [UserLine("Tell me about returns.", _speech(2.0)),
             UserLine("overlap", _speech(overlap_s), after_agent_starts_s=1.0)]
    return _converse(_plain_config(), responder, _words, lines), responder


def _onset_over_agent(log):
    started = log.of("agent_audio_started")[0].t
    return [e.t for e in log.of("user_speech_started") if e.t > started][0]


def test_a_backchannel_sized_overlap_pauses_the_agent_and_resumes_it():
    log, responder = _run(0.5)
    onset = _onset_over_agent(log)
    paused, resumed = log.of("agent_audio_paused"), log.of("agent_audio_resumed")
    assert paused and 0 <= paused[0].t - onset < 0.1  # quiet within a few frames of the onset
    assert resumed and resumed[0].t > paused[0].t
    assert [e.text for e in log.of("backchannel") if e.source == "user"] == ["Mhm."]
    assert not [e for e in log.of("agent_audio_stopped") if e.reason == "barge_in"]
    assert responder.heard_log == [(1, REPLY, False)]  # the whole reply was heard, once, no new turn


def test_a_long_overlap_is_a_barge_in_and_history_keeps_only_what_was_heard():
    log, responder = _run(1.5)
    onset = _onset_over_agent(log)
    assert 0 <= log.of("agent_audio_paused")[0].t - onset < 0.1
    stops = [e for e in log.of("agent_audio_stopped") if e.reason == "barge_in"]
    assert len(stops) == 1 and 0.5 <= stops[0].t - onset <= 0.7  # confirmed at 600 ms, before any ASR
    assert not log.of("agent_audio_resumed")
    turn, heard, interrupted = responder.heard_log[0]
    assert interrupted and heard and REPLY.startswith(heard) and len(heard) < len(REPLY)
    assert [t for t, _, _ in responder.heard_log] == [1, 2]  # the barge-in was answered as a turn


def test_partials_reach_the_responder_while_the_user_speaks():
    log, responder = _run(0.5)
    assert responder.partials and responder.partials == [e.text for e in log.of("asr_partial")]


def _reply_with_opener(answer_ready: bool):
    from parley.components.tts.base import SpeechChunk
    from parley.duplex.playout import Playout, Reply

    tts, text = ToneTTS(), "Let me check. We open at nine."
    reply = Reply(turn=1, text=text, committed=True, opener_chunks=1)
    reply.chunks.append(SpeechChunk(tts.synthesize("Let me check."), "Let me check.", 0, 13))
    if answer_ready:
        reply.chunks.append(SpeechChunk(tts.synthesize("We open at nine."), "We open at nine.", 14, len(text)))
    reply.done = answer_ready
    log, heard = EventLog("s", clock_now=lambda: 0.0), []
    playout = Playout(log, lambda r, h, interrupted: heard.append(h))
    playout.play(reply)
    return reply, playout, log, heard


def test_the_opener_is_skipped_when_the_answer_is_ready_and_heard_text_follows_what_played():
    reply, playout, log, heard = _reply_with_opener(answer_ready=True)
    n = len(reply.chunks[1].pcm)
    first = playout.pull(n, 0.0)
    assert np.array_equal(first, reply.chunks[1].pcm)  # the answer at once, no opener
    playout.pull(512, n / SAMPLE_RATE)
    assert heard == ["We open at nine."]


def test_an_answer_arriving_during_the_opener_follows_it_and_marks_the_content():
    from parley.components.tts.base import SpeechChunk

    reply, playout, log, heard = _reply_with_opener(answer_ready=False)
    n0 = len(reply.chunks[0].pcm)
    playout.pull(1000, 0.0)  # the opener starts: the answer is not ready
    reply.chunks.append(SpeechChunk(ToneTTS().synthesize("We open at nine."), "We open at nine.", 14, len(reply.text)))
    reply.done = True
    playout.pull(n0 - 1000 + 512, 1000 / SAMPLE_RATE)
    content = log.of("agent_content_started")
    assert len(content) == 1 and abs(content[0].t - n0 / SAMPLE_RATE) < 1e-6
    playout.stop("barge_in", 2.0)
    assert heard and heard[0].startswith("Let me check.") and heard[0] != reply.text


def test_a_holding_opener_after_an_acknowledgement_is_skipped_even_before_the_answer_is_ready():
    from parley.components.tts.base import SpeechChunk
    from parley.duplex.playout import Playout, Reply

    tts, text = ToneTTS(), "Let me check. We open at nine."
    reply = Reply(turn=1, text=text, committed=True, opener_chunks=1, opener_holds=True, acknowledged="Let's see.")
    reply.chunks.append(SpeechChunk(tts.synthesize("Let me check."), "Let me check.", 0, 13))
    log, heard = EventLog("s", clock_now=lambda: 0.0), []
    playout = Playout(log, lambda r, h, interrupted: heard.append(h))
    playout.play(reply)
    assert not playout.pull(512, 0.0).any()  # silence: "let me check" after "let's see" would say it twice
    answer = tts.synthesize("We open at nine.")
    reply.chunks.append(SpeechChunk(answer, "We open at nine.", 14, len(text)))
    reply.done = True
    assert np.array_equal(playout.pull(len(answer), 0.032), answer)
    playout.pull(512, 1.0)
    assert heard == ["We open at nine."]


class _RecordingLLM:
    """Records the last message of every prompt prefilled ahead (each prefill takes 10 ms)."""
    name = "recording"

    def __init__(self):
        self.warmed = []

    async def warm(self, messages):
        self.warmed.append(messages[-1]["content"])
        await asyncio.sleep(0.01)


def test_the_thinker_prefills_the_callers_partial_words_one_prefill_at_a_time():
    from parley.architectures.hybrid import ThinkerTalker


    async def go():
        from parley.clock import RealClock

        clock = RealClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        llm = _RecordingLLM()
        cfg = AgentConfig()
        cfg.hybrid.opener = False
        thinker = ThinkerTalker(cfg, clock, log, llm=llm, voice=Voice(ToneTTS(), clock, log, CpuGate()), documents=[])
        await thinker.partial("I would like to")
        await thinker.partial("I would like to change")  # arrives while the first prefill runs: skipped
        await asyncio.sleep(0.05)
        await thinker.partial("I would like to change my address")
        await asyncio.sleep(0.05)
        await thinker.close()
        await clock.stop()
        return llm.warmed

    warmed = asyncio.run(go())
    assert warmed == ["I would like to", "I would like to change my address"]


def test_the_reply_as_heard_and_the_procedures_next_step_are_prefilled_while_the_caller_answers():
    """Each reply, as heard, is prefilled at once (the LLM is idle while the caller talks), so the
    next reply pays only for the caller's words; a reply that did a step moves the procedure on, and
    its new note is in that prefill."""
    from parley.architectures.cascade import CascadeResponder
    from parley.config import ProcedureStep
    from parley.duplex.playout import Reply


    async def go():
        from parley.clock import RealClock

        clock = RealClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        llm = _RecordingLLM()
        cfg = AgentConfig(procedure=[ProcedureStep(id="ask_name", instruction="Ask the name.", check=r"\bname\b"),
                                     ProcedureStep(id="ask_order", instruction="Ask the order number.",
                                                   check="order number", requires=["ask_name"])])
        responder = CascadeResponder(cfg, clock, log, llm=llm, voice=Voice(ToneTTS(), clock, log, CpuGate()),
                                     documents=[])
        reply = Reply(turn=1, user_text="Where is my order?")
        responder.heard(reply, "Sure. Could you repeat that?", False)
        await asyncio.sleep(0.02)
        responder.heard(Reply(turn=2, user_text="Where is my order?"), "May I have your name?", False)
        await asyncio.sleep(0.02)
        await responder.close()
        await clock.stop()
        return llm.warmed

    warmed = asyncio.run(go())
    assert len(warmed) == 2 and "Could you repeat that?" in warmed[0] and "The next step is 2" not in warmed[0]
    assert "The next step is 2: Ask the order number." in warmed[1]


def test_a_long_turn_is_transcribed_in_segments_with_a_bounded_buffer():
    """A 70 s turn without a pause long enough to end it: the ASR never decodes much more than
    COMMIT_S at once, the head segments are committed as `asr_segment`, and the final transcript
    holds every segment's words in order."""
    from parley.components.asr.stream import COMMIT_S

    decoded: list[float] = []

    def words(seconds: float, prompt: str | None) -> str:
        decoded.append(seconds)
        return f"[{len(decoded)}]"

    # speech with a short gap every 5 s (breaths, under the end-of-turn silence)
    parts = []
    for _ in range(14):
        parts += [_speech(4.8), np.zeros(int(0.2 * SAMPLE_RATE), np.float32)]
    log = _converse(_plain_config(), ScriptedResponder("Okay."), words, [UserLine("long", np.concatenate(parts))])
    segments = log.of("asr_segment")
    assert len(segments) >= 2
    assert max(decoded[1:]) <= COMMIT_S + 3.5  # warm-up aside, no decode of the whole 70 s
    final = log.of("asr_final")[-1].text
    assert final.startswith(" ".join(s.text for s in segments))


def _run_slow(delay_s: float, fail: bool = False):
    """One turn whose answer takes `delay_s` of (virtual) compute, or fails."""
    cfg = _plain_config()

    class Slow(ScriptedResponder):
        clock = None

        async def respond(self, reply):
            await self.clock.sleep(delay_s)
            if fail:
                from parley.errors import EndpointError
                raise EndpointError("The LLM endpoint answered HTTP 500.")
            await super().respond(reply)

    async def go():
        clock = VirtualClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        responder = Slow(REPLY)
        responder.clock = clock
        engine = DuplexEngine(cfg, clock, log, responder, vad=EnergyVAD(), asr=ScriptedASR(_words),
                              voice=Voice(ToneTTS(), clock, log, CpuGate()))
        await engine.start()
        try:
            await LoopbackChannel(engine, clock, log, [UserLine("Tell me about returns.", _speech(2.0))],
                                  reply_timeout_s=30).run()
        finally:
            await engine.close()
            await clock.stop()
        return log, responder

    return asyncio.run(go())


def test_a_slow_answer_is_preceded_by_a_holding_line_that_history_does_not_keep():
    from parley.duplex.fillers import HOLD_LINE

    log, responder = _run_slow(5.0)
    [hold] = [e for e in log.of("opener") if e.source == "hold"]
    taken = log.of("turn_end_predicted")[0].t
    assert hold.text == HOLD_LINE and 2.4 <= hold.t - taken <= 2.7
    assert log.of("agent_audio_started")[0].t < log.of("agent_content_started")[0].t
    assert responder.heard_log == [(1, REPLY, False)]  # the holding line is not part of what was said
    log, _ = _run_slow(0.5)
    assert not log.of("opener")  # a prompt answer needs no holding line


def test_a_failed_answer_says_the_fallback_line_instead_of_silence():
    from parley.duplex.fillers import FALLBACK_LINE

    log, responder = _run_slow(0.2, fail=True)
    assert log.of("error")[0].message.startswith("The LLM endpoint answered HTTP 500")
    assert responder.heard_log == [(1, FALLBACK_LINE, False)]


def _run_stalled(part: str, turns: int = 2):
    """`turns` user turns while the ASR or the TTS never returns from its first call after start-up."""
    import threading

    cfg = _plain_config()
    cfg.asr.timeout_s = 0.5
    release = threading.Event()  # set at the end so the stuck worker thread can finish

    class Stuck:
        armed = False

        def __init__(self, inner):
            self.inner = inner

        def transcribe(self, pcm, prompt=None):
            if self.armed:
                release.wait(30)
            return self.inner.transcribe(pcm, prompt)

        def synthesize(self, text):
            if self.armed:
                release.wait(30)
            return self.inner.synthesize(text)

    class Speaking(ScriptedResponder):
        voice = None

        async def respond(self, reply):  # through the engine's Voice, as every real responder does
            from parley.components.tts.clauses import Clause
            reply.text, reply.stage = self.text, "tts"
            await self.voice.speak(reply, Clause(self.text, 0, len(self.text)))

    async def go():
        clock = VirtualClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        asr, tts = Stuck(ScriptedASR(_words)), Stuck(ToneTTS())
        voice = Voice(tts, clock, log, CpuGate(), timeout_s=0.5)
        responder = Speaking(REPLY)
        responder.voice = voice
        engine = DuplexEngine(cfg, clock, log, responder, vad=EnergyVAD(), asr=asr, voice=voice)
        await engine.start()  # warm-up and the fallback line are synthesized before the fault
        (asr if part == "asr" else tts).armed = True
        lines = [UserLine(f"Tell me about returns {i}.", _speech(2.0)) for i in range(turns)]
        try:
            await LoopbackChannel(engine, clock, log, lines, reply_timeout_s=30).run()
        finally:
            release.set()
            await engine.close()
            await clock.stop()
        return log, responder

    return asyncio.run(go())


def test_a_stalled_recogniser_or_synthesizer_gets_the_fallback_line_and_the_session_goes_on():
    from parley.duplex.fillers import FALLBACK_LINE

    for part, what in (("asr", "speech recogniser"), ("tts", "speech synthesizer")):
        log, responder = _run_stalled(part)
        errors = log.of("error")
        assert len(errors) == 2 and all(e.component == part and f"The {what} has not answered" in e.message for e in errors)
        # every turn is answered with the fallback line, none with silence
        said = [e for e in log.of("agent_audio_stopped")]
        assert len(log.of("turn_end_predicted")) == 2 and len(said) == 2
        if part == "tts":  # the words were heard, so history keeps the turn with what was said
            assert [h for _, h, _ in responder.heard_log] == [FALLBACK_LINE, FALLBACK_LINE]


def test_calls_behind_a_stuck_model_call_fail_at_once_and_the_model_works_again_when_it_returns():
    import threading

    import pytest

    from parley.clock import RealClock
    from parley.components.watchdog import ComponentStalled, answered
    from parley.cpu import IDLE, PriorityLane

    lane, clock, release = PriorityLane("stuck"), RealClock(), threading.Event()

    async def go():
        with pytest.raises(ComponentStalled, match="has not answered in 0.2 s"):
            await answered(clock.compute(lane, release.wait, 30), lane, 0.2, "model")
        ran = []
        with pytest.raises(ComponentStalled, match="raise \\[x\\] timeout_s"):
            await answered(clock.compute(lane, ran.append, 1), lane, 0.2, "model", "[x] timeout_s")
        assert lane.waiting(IDLE) == 0 and not ran  # refused before it was queued behind the stuck call
        release.set()
        await asyncio.sleep(0.1)
        assert await answered(clock.compute(lane, lambda: "back"), lane, 0.2, "model") == "back"

    asyncio.run(go())
    lane.shutdown()


class _SlowASR(ScriptedASR):
    """Whisper takes longer than Smart Turn (~200 against ~80 ms): the audio's verdict comes first."""

    def transcribe(self, pcm, prompt=None):
        import time
        time.sleep(0.1)
        return super().transcribe(pcm, prompt)


class _UnsureASR(_SlowASR):
    """Whisper unsure of what it heard: every final pass below the `[asr] unclear_below` bar, and
    done after the talker's "Mhm." (0.25 s) has been said."""

    def transcribe_final(self, pcm, prompt=None, beam_size=5):
        import time
        time.sleep(0.3)
        return self.transcribe(pcm, prompt), -1.2


class _RereadASR(_SlowASR):
    """Whisper doubting every final reading, and a second model taking 0.5 s to decode it again."""

    def doubts(self, text, confidence):
        return True

    def second_opinion(self, pcm, prompt, beam_size, text, confidence):
        import time
        time.sleep(0.5)
        return text, -0.2


def _run_acknowledged(p_done: float, audio: np.ndarray, ack: str = "Mhm.", words=_words,
                      finality_after_s: float | None = None, asr=_SlowASR, backchannels: bool = False):
    """One user line through an engine whose responder acknowledges pauses with `ack` (0.25 s a word);
    `words(seconds, prompt)` is what the ASR hears; with `finality_after_s` the responder judges the
    words finished (P 0.6) that long after it starts on the reply."""
    from parley.duplex.fakes import FixedTurn

    cfg = AgentConfig()
    cfg.turn_taking.echo_guard = False
    cfg.turn_taking.agent_backchannels = backchannels
    cfg.turn_taking.endpoint.finality = finality_after_s is not None

    class Responder(ScriptedResponder):
        async def respond(self, reply):
            if finality_after_s is not None:
                await clock.sleep(finality_after_s)
                reply.reading.set_result(Reading(0.6, None))
            await super().respond(reply)

    async def go():
        nonlocal clock
        clock = VirtualClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        voice = Voice(ToneTTS(), clock, log, CpuGate())
        await voice.prepare((ack,))
        responder = Responder(REPLY, acknowledgement=ack, log=log)
        engine = DuplexEngine(cfg, clock, log, responder, vad=EnergyVAD(), asr=asr(words), voice=voice,
                              turn=FixedTurn(p_done))
        await engine.start()
        try:
            await LoopbackChannel(engine, clock, log, [UserLine("Tell me about returns.", audio)],
                                  reply_timeout_s=20).run()
        finally:
            await engine.close()
            await clock.stop()
        return log, responder

    clock = None
    return asyncio.run(go())


def test_a_finished_sounding_pause_is_acknowledged_at_once_and_the_reply_follows_it():
    from parley.transcript import turns

    log, responder = _run_acknowledged(0.9, _speech(2.0))
    end = log.of("sim_utterance")[0].end
    [ack] = log.of("acknowledgement")
    reply_start = [e.t for e in log.of("agent_audio_started") if e.turn == 1][0]
    assert ack.turn == 1 and ack.text == "Mhm."
    assert ack.t - end < 0.3  # before the 400 ms a finished turn waits, and before the words are known
    assert reply_start >= ack.t + 0.25 - 0.04  # the reply never cuts its acknowledgement off (one 0.25 s word)
    [record] = turns(log.events)
    assert record.latency_ms == round((ack.t - end) * 1000, 1)  # the first audio is the acknowledgement
    assert record.content_ms == round((reply_start - end) * 1000, 1)
    assert responder.heard_log == [(1, REPLY, False)]  # history: the reply, not the "mhm"


def test_a_turn_ended_while_a_second_opinion_decodes_its_words_is_acknowledged_meanwhile():
    """A question ends the turn at the shortest wait whatever Smart Turn heard (here: doubtful), so
    no early acknowledgement; the talker's line waits for the words, which a second model is still
    decoding: the acknowledgement fills the silence instead."""
    log, _ = _run_acknowledged(0.1, _speech(2.0), words=lambda s, p: "Can I return it?", asr=_RereadASR)
    end = log.of("sim_utterance")[0].end
    [ack] = log.of("acknowledgement")
    [final] = log.of("asr_final")
    assert ack.turn == 1 and ack.t < final.t and ack.t - end < 0.6
    log, _ = _run_acknowledged(0.1, _speech(2.0), words=lambda s, p: "Can I return it?")
    assert not log.of("acknowledgement")  # read once, the words come in time for the talker's own line


def _turn_and_asr_calls(ack: str | None) -> list[str]:
    """The order in which the end-of-turn model and the ASR were called for one line, with a
    responder that acknowledges pauses with `ack` (or does not)."""
    import time

    from parley.duplex.fakes import FixedTurn

    calls: list[str] = []

    class Turn(FixedTurn):
        def predict(self, pcm):
            calls.append("turn")
            time.sleep(0.05)
            calls.append("turn done")
            return super().predict(pcm)

    class ASR(ScriptedASR):
        def transcribe(self, pcm, prompt=None):
            calls.append("asr")
            return super().transcribe(pcm, prompt)

    cfg = AgentConfig()
    cfg.turn_taking.echo_guard = cfg.turn_taking.agent_backchannels = cfg.turn_taking.endpoint.finality = False
    cfg.asr.partial_interval_s = 60  # only the final pass

    async def go():
        clock = VirtualClock()
        await clock.start()
        log = EventLog("s", clock_now=clock.now)
        voice = Voice(ToneTTS(), clock, log, CpuGate())
        await voice.prepare((ack,) if ack else ())
        engine = DuplexEngine(cfg, clock, log, ScriptedResponder(REPLY, acknowledgement=ack), vad=EnergyVAD(),
                              asr=ASR(_words), voice=voice, turn=Turn(0.9))
        await engine.start()
        try:
            await LoopbackChannel(engine, clock, log, [UserLine("Tell me about returns.", _speech(2.0))],
                                  reply_timeout_s=20).run()
        finally:
            await engine.close()
            await clock.stop()
        return log

    log = asyncio.run(go())
    assert [e.text for e in log.of("asr_final")] == ["Tell me about returns."]
    return calls[-3:]  # (the warm-ups come before)


def test_a_talker_hears_the_end_of_turn_models_verdict_before_the_final_transcription_starts():
    """Smart Turn's short call has the cores to itself; Whisper's long final pass starts after it."""
    assert _turn_and_asr_calls("Mhm.") == ["turn", "turn done", "asr"]


def test_without_a_talker_the_final_transcription_does_not_wait_for_the_end_of_turn_model():
    calls = _turn_and_asr_calls(None)
    assert calls.index("asr") < calls.index("turn done")


def test_a_caller_who_goes_on_after_an_acknowledgement_keeps_the_floor_and_one_turn():
    pause = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    log, responder = _run_acknowledged(0.6, np.concatenate([_speech(1.2), pause, _speech(1.2)]))
    acks = log.of("acknowledgement")
    assert acks and acks[0].turn == 1  # the mid-utterance pause sounded finished: acknowledged, like a backchannel
    assert [e.reason for e in log.of("speculation_cancelled")] == ["speech resumed"]
    assert [e.turn for e in log.of("agent_turn")] == [2]  # no reply in the pause; one turn for the whole line
    assert not [e for e in log.of("agent_audio_started") if e.turn == 1]
    assert [h for _, h, _ in responder.heard_log] == [REPLY]


def test_an_acknowledgement_still_playing_when_the_caller_goes_on_yields_at_once():
    pause = np.zeros(int(0.35 * SAMPLE_RATE), np.float32)  # over before the 1 s acknowledgement is
    log, _ = _run_acknowledged(0.9, np.concatenate([_speech(1.2), pause, _speech(1.2)]), ack="Mhm, I see, okay.")
    ack = log.of("acknowledgement")[0]
    resumed = [e.t for e in log.of("speculation_cancelled") if e.reason == "speech resumed"][0]
    [stop] = [e for e in log.of("agent_audio_stopped") if e.turn == 0 and e.t > ack.t][:1]
    assert stop.reason == "yield" and 0 <= stop.t - resumed < 0.05  # not talked over the caller


def test_a_pause_the_words_call_finished_but_smart_turn_doubts_is_acknowledged_on_the_words():
    log, _ = _run_acknowledged(0.3, _speech(2.0))  # doubtful: the turn waits 1.2 s
    end = log.of("sim_utterance")[0].end
    [ack] = log.of("acknowledgement")
    [verdict] = log.of("turn_prediction")
    assert verdict.cue == "smart turn: doubtful" and ack.t >= verdict.t  # said on the verdict, not the audio
    assert ack.t - end < 0.4
    reply_start = [e.t for e in log.of("agent_audio_started") if e.turn == 1][0]
    assert reply_start - end >= 1.2  # the floor is still held as long as the doubt says


def test_a_doubtful_pause_is_acknowledged_on_the_words_before_their_finality_is_known():
    log, _ = _run_acknowledged(0.3, _speech(2.0), finality_after_s=0.5)
    end = log.of("sim_utterance")[0].end
    [ack] = log.of("acknowledgement")
    [verdict] = log.of("turn_prediction")
    assert verdict.p_final == 0.6 and verdict.t - end > 0.5  # the verdict waited for the chat model
    assert ack.t < verdict.t and ack.t - end < 0.4  # the acknowledgement did not


def test_a_pause_smart_turn_calls_unfinished_but_the_words_read_finished_is_acknowledged_on_the_words():
    log, _ = _run_acknowledged(0.05, _speech(2.0))  # "not done" after "Tell me about returns."
    end = log.of("sim_utterance")[0].end
    [ack] = log.of("acknowledgement")
    [verdict] = log.of("turn_prediction")
    assert verdict.cue == "smart turn: not done" and ack.t >= verdict.t and ack.t - end < 0.4
    reply_start = [e.t for e in log.of("agent_audio_started") if e.turn == 1][0]
    assert reply_start - end >= 2.0  # "mhm" is what a listener says either way; the floor stays held


def test_words_whisper_is_unsure_of_hold_the_floor_and_the_pause_is_acknowledged_once():
    """A pause that sounds finished after words Whisper doubts (it would ask for them again): the
    caller may be mid-sentence on a bad line, so the floor is held as for unfinished words; the
    talker's "Mhm." on the audio's verdict is the pause's one token — no backchannel after it."""
    log, _ = _run_acknowledged(0.9, _speech(3.0), asr=_UnsureASR, backchannels=True)
    end = log.of("sim_utterance")[0].end
    [verdict] = log.of("turn_prediction")
    assert verdict.cue == "words unclear" and verdict.wait_ms == WAITS_MS["medium"][3]
    assert len(log.of("acknowledgement")) == 1 and not log.of("backchannel")
    reply_start = [e.t for e in log.of("agent_audio_started") if e.turn == 1][0]
    assert reply_start - end >= 2.0


def test_a_pause_a_word_cue_holds_is_not_acknowledged():
    log, _ = _run_acknowledged(0.05, _speech(2.0), words=lambda seconds, prompt: "I ordered two shirts and")
    assert log.of("turn_prediction")[0].cue == "trailing 'and'"
    assert not log.of("acknowledgement")


def test_acknowledgements_where_the_floor_is_held_keep_the_backchannel_rate():
    """Where Smart Turn holds the floor, the talker's "Mhm." is a backchannel: a caller who pauses
    often hears it at most once per `backchannel_min_interval_s`, like the agent's own backchannels."""
    from parley.duplex.backchannel import AgentBackchannels
    from parley.duplex.playout import Reply

    class Playout:
        active = False

        def __init__(self):
            self.played = []

        def play(self, reply):
            self.played.append(reply.text)

    class Clips:
        def clip(self, text):
            return np.zeros(SAMPLE_RATE // 2, np.float32)

    responder, playout, bc = ScriptedResponder(REPLY, acknowledgement="Mhm."), Playout(), AgentBackchannels(6.0)
    for now in (10.0, 13.0, 17.0):  # three held pauses: the second comes too soon after the first
        bc.acknowledge(playout, Reply(turn=1, text=""), responder, Clips(), now, holding=True)
    bc.acknowledge(playout, Reply(turn=2, text=""), responder, Clips(), 18.0)  # a finished-sounding pause: no rate
    assert playout.played == ["Mhm.", "Mhm.", "Mhm."]
    assert not bc.due(20.0) and bc.due(23.0)  # the last held one (at 17 s) set the rate's clock


def test_words_the_whole_pass_drops_after_a_pause_are_heard_in_the_tail():
    """Whisper ends a transcript at a long pause inside the turn ("my order number is … four four
    one seven two" → "My order number is."). The pass made at the pause is the head; the whole
    turn's pass adds nothing to it, so the audio after the pause is transcribed alone and joined."""
    passes: list[float] = []

    def asr(seconds: float, prompt: str | None) -> str:
        passes.append(round(seconds, 2))
        return "44172." if 2.0 < seconds < 3.0 else "My order number is."  # the tail alone: 2.0-3.0 s

    cfg = _plain_config()
    cfg.turn_taking.endpoint.end_of_turn_ms = 1500  # the 1.2 s pause is held
    line = np.concatenate([_speech(1.5), np.zeros(int(1.2 * SAMPLE_RATE), np.float32), _speech(1.2)])
    log = _converse(cfg, ScriptedResponder("Thanks."), asr, [UserLine("paused", line)])
    finals = [e.text for e in log.of("asr_final")]
    assert finals[0] == "My order number is."  # at the pause
    assert finals[-1] == "My order number is 44172.", (finals, passes)


def test_a_whole_pass_that_has_the_words_after_the_pause_is_kept_as_it_is():
    from parley.components.asr.stream import StreamingTranscriber

    tails: list[float] = []
    st = StreamingTranscriber(ScriptedASR(lambda s, p: tails.append(s) or "four four one seven two."), VirtualClock())
    audio, head = np.zeros(4 * SAMPLE_RATE, np.float32), (2 * SAMPLE_RATE, "My order number is")
    assert st._with_tail(audio, "My order number is 44172.", head) == "My order number is 44172."
    assert st._with_tail(audio, "Hi, my order number is 441172.", head) == "Hi, my order number is 441172."
    assert tails == []  # the whole pass added digits: no second pass
    assert st._with_tail(audio, "My order number is.", head) == "My order number is four four one seven two."
    assert st._with_tail(audio, "My order number is four four one seven two", head).endswith("seven two")
    assert tails == [2.0]  # the tail alone, for the one pass that added nothing


def test_the_end_of_turn_is_judged_on_the_first_reading_while_a_second_opinion_runs():
    """A doubtful final pass gets a second opinion (Whisper base, ~0.3 s); what acts on the words at
    the end of turn is told the first reading before it, the reply gets the second."""
    from parley.components.asr.stream import StreamingTranscriber

    class TwoReadings(ScriptedASR):
        def transcribe_final(self, pcm, prompt=None, beam_size=5):
            return "My organ humbled is 47.", -0.9

        def doubts(self, text, confidence):
            return confidence is not None and confidence < -0.5

        def second_opinion(self, pcm, prompt, beam_size, text, confidence):
            return "My order number is 47192.", -0.4

    async def go():
        clock = VirtualClock()
        await clock.start()
        try:
            told = []
            st = StreamingTranscriber(TwoReadings(lambda s, p: ""), clock)
            tr = await st.transcribe(np.zeros(2 * SAMPLE_RATE, np.float32), first=lambda t, c: told.append((t, c)))
            return told, tr
        finally:
            await clock.stop()

    told, tr = asyncio.run(go())
    assert told == [("My organ humbled is 47.", -0.9)]
    assert (tr.text, tr.confidence) == ("My order number is 47192.", -0.4)
