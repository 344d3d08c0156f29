"""Sessions sharing one process's models (`parley serve`): the LLM's calls by urgency, one KV state
per session, and a long reply giving the model up at a sentence end to a caller who waits."""

from __future__ import annotations

import asyncio
import threading
import time

from parley.cancel import CancelToken
from parley.clock import RealClock
from parley.components import registry
from parley.components.llm.llama import LlamaChatModel
from parley.config import LLMConfig
from parley.cpu import IDLE, LATER, NORMAL, URGENT, PriorityLane


def test_a_priority_lane_runs_urgent_calls_first_then_in_arrival_order():
    lane, ran, gate = PriorityLane("test"), [], threading.Event()

    def job(name, priority):
        def run():
            ran.append(name)
        run.priority = priority
        return run

    lane.submit(gate.wait)  # holds the worker while the others queue
    futures = [lane.submit(job(n, p)) for n, p in (("idle", IDLE), ("later", LATER), ("a", URGENT),
                                                     ("normal", NORMAL), ("b", URGENT))]
    gate.set()
    for f in futures:
        f.result(5)
    lane.shutdown()
    assert ran == ["a", "b", "normal", "later", "idle"]


SYSTEM = "You are a shop assistant on the phone. Answer in one or two short sentences."


def test_a_lane_does_not_keep_its_last_call_alive():
    """A session's model and arguments go when the session does: the worker must not hold the last
    call while it waits for the next (a bench worker grew ~150 MB a conversation when it did)."""
    import gc
    import weakref

    class Audio:
        pass

    lane, audio = PriorityLane("test"), Audio()
    gone = weakref.ref(audio)
    assert lane.submit(lambda a: 1, audio).result(timeout=5) == 1
    del audio
    gc.collect()
    assert gone() is None
    lane.shutdown()


def test_sessions_keep_their_own_history_and_a_long_answer_yields_to_a_waiting_caller():
    clock = RealClock()
    engine = registry.llama_engine("fast", 2048, 2)
    maria, tom = (LlamaChatModel(engine, clock, max_tokens=80, temperature=0.0) for _ in range(2))
    history = {
        maria: [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Hi, my name is Maria and I ordered blue boots."},
                {"role": "assistant", "content": "Thanks Maria, I see your order for blue boots."}],
        tom: [{"role": "system", "content": SYSTEM},
              {"role": "user", "content": "Hello, this is Tom, I bought a red scarf."},
              {"role": "assistant", "content": "Hi Tom, thanks for buying the red scarf."}],
    }
    long_question = {"role": "user", "content": "Please describe in detail, in five sentences, how I can return my order."}
    name_question = {"role": "user", "content": "What is my name?"}

    async def say(llm, question, stamps):
        text = ""
        async for delta in llm.stream(history[llm] + [question], cancel=CancelToken()):
            if not text:
                stamps.append(time.monotonic())
            text += delta
        stamps.append(time.monotonic())
        return text

    async def go():
        for llm in (maria, tom):
            await llm.warm(history[llm])
        long_stamps, short_stamps = [], []
        long_task = asyncio.ensure_future(say(maria, long_question, long_stamps))
        while not long_stamps:  # Maria's long answer is under way
            await asyncio.sleep(0.01)
        name = await say(tom, name_question, short_stamps)
        answer = await long_task
        return name, answer, long_stamps, short_stamps

    name, answer, long_stamps, short_stamps = asyncio.run(go())
    assert "Tom" in name and "Maria" not in name  # his own KV state and history, not hers
    assert len(answer.split()) > 20 and "Tom" not in answer
    assert short_stamps[-1] < long_stamps[-1]  # Tom's answer did not wait for the end of Maria's


def test_the_end_of_turn_does_not_queue_for_the_finality_behind_other_callers():
    from parley.duplex.end_of_turn import read_words
    from parley.events import EventLog

    class Model:
        contended = False
        calls = 0

        async def read(self, messages, words, plausibility=False):
            self.calls += 1
            return 0.9

    llm, log = Model(), EventLog("t", clock_now=lambda: 0.0)
    words = "I would like to change the delivery address for my order"
    assert asyncio.run(read_words(llm, [], words, log)) == 0.9
    llm.contended = True  # another session's first words wait for the model
    assert asyncio.run(read_words(llm, [], words, log)) is None and llm.calls == 1


def test_the_chat_model_reads_unfinished_and_improbable_words():
    """One prefill gives both readings of the caller's words (`LlamaEngine.read`): a trailing "and"
    is no finished utterance, and Whisper's fluent nonsense is less probable than a caller's
    question; without `plausibility` only the finality is computed. The reply after it reuses the
    cache the reading left."""
    engine = registry.llama_engine("fast", 2048, 2)

    def read(words, plausibility=True):
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": words}]
        return engine.executor.submit(engine.read, messages, words, None, plausibility).result()

    unfinished, clear = read("I ordered two shirts and"), read("Can I return the boots I bought last week?")
    nonsense = read("The animation is under-lit with Mabinela NBQMISB hoo.")
    assert unfinished.p_final < 0.02 < clear.p_final
    assert nonsense.plausibility < clear.plausibility - 1.0
    assert read("Can I return the boots I bought last week?", plausibility=False).plausibility is None
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Can I return the boots I bought last week?"}]
    reply = "".join(d for d in engine.executor.submit(lambda: list(engine.generate(messages, max_tokens=12, temperature=0.0))).result()
                    if isinstance(d, str))
    assert reply.strip()
