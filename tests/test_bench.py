"""The bench: scenario validation, the deterministic judge, the scorecard contract, the report.

The orchestration is checked on hand-made event logs (fast); `test_bench_smoke_suite_end_to_end`
runs the real cascade on the smoke suite.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parley.bench.judge import judge
from parley.bench.report import render
from parley.bench.scenario import ScenarioError, load_scenario
from parley.bench.scorecard import Conversation, build_scorecard, distance_bucket
from parley.events import AgentAudioStarted, AgentAudioStopped, AgentTurn, SessionStarted, SimUtterance
from parley.textnorm import mentions

TURN_TAKING_KEYS = {"pause_tor", "backchannel_tor", "smooth_tor", "smooth_latency_ms_p50", "interruption_tor",
                    "interruption_stop_ms_p50", "interruption_stop_ms_p95", "false_interruption_rate",
                    "agent_backchannels_per_min", "echo_self_interruptions", "n_cases", "monologue_tor",
                    "fdb_pause_tor", "fdb_smooth_tor", "fdb_smooth_latency_ms", "fdb_interruption_tor",
                    "fdb_interruption_latency_ms", "fdb_backchannel_tor", "fdb_backchannel_freq"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_invalid_scenario_names_file_line_and_field(tmp_path):
    p = _write(tmp_path, "bad.yaml", "id: bad\ntitle: t\nsuites: [memory]\nturns:\n  - say: hello there\n"
                                     "  - say: again\n    pause: {after_word: 1, ms: 20}\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert f"{p}:7:" in msg and "turns[2].pause.ms" in msg


def test_scenario_references_are_checked(tmp_path):
    p = _write(tmp_path, "bad.yaml", "id: bad\ntitle: t\nsuites: [memory]\nturns:\n  - say: hi\n"
                                     "  - say: what did I say\n    expect:\n      recall: {turn: 3, value: x}\n")
    with pytest.raises(ScenarioError, match="recalls turn 3"):
        load_scenario(p)


def test_bench_rejects_an_invalid_scenario_before_running_anything(tmp_path):
    p = _write(tmp_path, "bad.yaml", "id: bad\ntitle: t\nsuites: [nonsense]\nturns:\n  - say: hi\n")
    proc = subprocess.run([sys.executable, "-m", "parley.cli", "bench", "--suite", str(p), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"{p}:3: suites[1]" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_numbers_are_normalized_on_both_sides():
    assert mentions("4417", "It is four four one seven.")
    assert mentions("4417", "44-17")
    assert mentions("four four one seven", "order 4417")
    assert not mentions("4417", "4418")


def _events(replies):
    """User lines and agent replies on a time line: replies[i] = (text heard, start)."""
    ev = [SessionStarted(t=0.0, session="s")]
    t = 1.0
    for i, (heard, kind) in enumerate(replies):
        ev.append(SimUtterance(t=t + 1, session="s", index=i, text=f"line {i}", start=t, end=t + 1))
        if heard is not None:
            ev.append(AgentAudioStarted(t=t + 1.6, session="s", turn=i + 1))
            ev.append(AgentAudioStopped(t=t + 3.0, session="s", turn=i + 1))
            ev.append(AgentTurn(t=t + 3.0, session="s", turn=i + 1, user="", agent=heard))
        t += 4.0
    return ev


SCENARIO = """id: s
title: t
suites: [memory, adherence]
axis: adherence
procedure:
  - {id: ask_name, instruction: ask the name, check: '\\bname\\b'}
  - {id: give_status, instruction: give the status, check: shipped, requires: [ask_name]}
turns:
  - say: my order is four four one seven two
    expect: {step: give_status}
  - say: mhm
    backchannel_ms: 500
  - say: Maria
    expect: {step: ask_name}
  - say: what was my order
    expect:
      recall: {turn: 1, value: '44172'}
      must_not_mention: [sorry]
"""


def test_judge_checks_what_was_heard_and_procedure_gates(tmp_path):
    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO))
    # the agent gave the status before asking the name: a skipped gate
    ev = _events([("It shipped on Monday.", "smooth"), (None, "backchannel"), ("What is your name?", "smooth"),
                  ("Your order is four four one seven two.", "smooth")])
    checks = {(c.turn, c.kind): c for c in judge(sc, ev)}
    assert not checks[(1, "step")].passed  # reached, but before its gate
    assert checks[(3, "step")].passed
    recall = checks[(4, "recall")]
    assert recall.passed and recall.distance == 3 and distance_bucket(recall.distance) == "3"
    assert checks[(4, "must_not_mention")].passed


def test_scorecard_has_the_contract_keys_and_report_renders(tmp_path):
    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO))
    ev = _events([("What is your name?", "smooth"), (None, "backchannel"), ("Thanks. It shipped.", "smooth"),
                  ("I don't remember.", "smooth")])
    card = build_scorecard(["memory"], {"cascade": [Conversation(sc, ev)]}, {"moshi": "no server"})
    c = card["architectures"]["cascade"]
    assert card["suites"] == ["memory"]
    assert set(c["latency"]) >= {"p50_ms", "p95_ms", "content_p50_ms"} and c["latency"]["p50_ms"] == 600.0
    assert set(c["memory"]) == {"accuracy", "by_distance", "n"} and set(c["memory"]["by_distance"]) == {"1", "3", "10", "25"}
    assert c["memory"]["accuracy"] == 0.0 and c["memory"]["n"] == 1
    assert c["knowledge"]["n"] == 0 and c["knowledge"]["accuracy"] is None
    assert c["adherence"]["n"] == 3  # two steps + one must_not_mention on the adherence axis
    assert set(c["turn_taking"]) == TURN_TAKING_KEYS
    assert c["conversations"] == 1 and c["failures"] == 0
    assert c["recall_inventions"] == {"answers": 1, "invented": 0, "examples": []}
    assert card["architectures"]["moshi"] == {"skipped": "no server"}
    page = render(card, {"cascade": [Conversation(sc, ev)]})
    assert "id='scorecard'" in page and "I don&#x27;t remember." in page


def test_report_renders_in_headless_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is needed for this test; `make test` installs it (apt-get install chromium)"
    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO))
    ev = _events([("What is your name?", "smooth"), (None, "backchannel"), ("It shipped.", "smooth"),
                  ("Four four one seven two.", "smooth")])
    convs = {"cascade": [Conversation(sc, ev)], "cascade-openai": [Conversation(sc, ev)]}
    page = tmp_path / "report.html"
    page.write_text(render(build_scorecard(["memory"], convs, {}), convs))
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert '<table id="scorecard">' in dom, proc.stderr[-2000:]
    assert "<th>cascade</th><th>cascade-openai</th>" in dom
    assert 'id="latency-cdf"' in dom and dom.count('class="timeline"') == 2
    assert 'id="by-voice-cascade"' in dom and 'id="by-condition-cascade-openai"' in dom


def test_variants_run_each_scenario_per_voice_and_condition_and_the_card_breaks_down(tmp_path):
    from parley.bench.run import variants

    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO + "voice: espeak-us\ncondition: phone\n"))
    assert [(v.voice, v.condition, v.key) for v in variants([sc])] == [("espeak-us", "phone", "s")]
    runs = variants([sc], ["joe", "espeak-us-f"], ["clean", "noisy"])
    assert [v.key for v in runs] == ["s--joe--clean", "s--joe--noisy", "s--espeak-us-f--clean", "s--espeak-us-f--noisy"]
    good = _events([("What is your name?", "smooth"), (None, "backchannel"), ("It shipped.", "smooth"),
                    ("Four four one seven two.", "smooth")])
    bad = _events([("What is your name?", "smooth"), (None, "backchannel"), ("It shipped.", "smooth"),
                   ("I don't know.", "smooth")])
    convs = [Conversation(sc, good, voice="joe", condition="clean"), Conversation(sc, bad, voice="espeak-us-f", condition="clean")]
    card = build_scorecard(["memory"], {"cascade": convs}, {})["architectures"]["cascade"]
    assert set(card["by_voice"]) == {"joe", "espeak-us-f"} and set(card["by_condition"]) == {"clean"}
    assert card["by_voice"]["joe"]["memory"]["accuracy"] == 1.0 and card["by_voice"]["espeak-us-f"]["memory"]["accuracy"] == 0.0
    assert card["by_condition"]["clean"]["memory"]["accuracy"] == 0.5
    assert set(card["by_voice"]["joe"]["turn_taking"]) == TURN_TAKING_KEYS


def test_a_crashing_conversation_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    monkeypatch.delenv("PARLEY_MOSHI_URL", raising=False)
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "broken.md").write_bytes(b"\xff\xfe\x00not utf-8\xff")
    _write(tmp_path, "broken.yaml", "id: broken\ntitle: t\nsuites: [knowledge]\nknowledge: [kb/broken.md]\n"
                                    "turns:\n  - say: hi\n")
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    run = run_bench([str(tmp_path / "broken.yaml")], ["cascade", "moshi"], tmp_path / "out", base=AgentConfig())
    card = run.scorecard["architectures"]
    assert card["cascade"]["failures"] == 1 and card["cascade"]["conversations"] == 1
    result = json.loads((tmp_path / "out" / "cascade" / "broken" / "result.json").read_text())
    assert result["status"] == "failed" and "not UTF-8" in result["error"]
    assert "no moshi server configured" in card["moshi"]["skipped"]
    assert (tmp_path / "out" / "scorecard.json").exists() and (tmp_path / "out" / "report.html").exists()


@pytest.mark.slow
def test_bench_smoke_suite_end_to_end(tmp_path):
    out, fdb = tmp_path / "run", tmp_path / "fdb"
    cmd = [sys.executable, "-m", "parley.cli", "bench", "--suite", "smoke", "--arch", "cascade,cascade-openai",
           "--out", str(out), "--export-fdb", str(fdb)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**__import__("os").environ,
                                                                                   "PARLEY_LLM_URL": ""})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    card = json.loads((out / "scorecard.json").read_text())
    c = card["architectures"]["cascade"]
    assert c["conversations"] == 2 and c["failures"] == 0
    assert "no OpenAI-compatible endpoint" in card["architectures"]["cascade-openai"]["skipped"]
    assert c["memory"]["n"] == 1 and c["latency"]["p50_ms"] is not None
    assert c["turn_taking"]["interruption_stop_ms_p50"] is not None  # the barge-in stopped the agent
    for conv in ("smoke-order-recall", "smoke-barge-in"):
        for name in ("events.jsonl", "conversation.wav", "transcript.md"):
            assert (out / "cascade" / conv / name).exists()
    assert set(c["by_voice"]) == {"joe"} and set(c["by_condition"]) == {"clean", "echo"}
    assert c["turn_taking"]["fdb_smooth_tor"] is not None and c["turn_taking"]["fdb_interruption_tor"] is not None
    # Full-Duplex-Bench layout, one tree per architecture (smoke-barge-in: a smooth turn, an interruption)
    assert sorted(p.name for p in fdb.iterdir()) == ["cascade"]
    interrupt = fdb / "cascade" / "user_interruption" / "0"
    for name in ("input.wav", "output.wav", "output.json", "interrupt.json"):
        assert (interrupt / name).exists()
    assert json.loads((interrupt / "interrupt.json").read_text())[0]["interrupt"].startswith("Sorry, wait")
    smooth = fdb / "cascade" / "smooth_turn_taking" / "0"
    words = json.loads((smooth / "output.json").read_text())["chunks"]
    assert words and all(w["timestamp"][0] <= w["timestamp"][1] for w in words)
    # a second run reuses every finished conversation
    again = subprocess.run(cmd[:-2], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "2 finished conversation(s) reused" in again.stdout


def test_procedure_tracker_records_steps_and_flags_skipped_gates():
    from parley.config import ProcedureStep
    from parley.dialogue.procedure import ProcedureTracker

    t = ProcedureTracker([ProcedureStep(id="ask_name", instruction="Ask for the caller's name.", check=r"\bname\b"),
                          ProcedureStep(id="give_status", instruction="Give the order status.", check="shipped",
                                        requires=["ask_name"])])
    assert t.observe(1, "It shipped on Monday.") == [("give_status", False)]  # before its gate
    assert t.observe(2, "What is your name?") == [("ask_name", True)]
    assert t.done == {"give_status": 1, "ask_name": 2}


def test_the_guard_names_the_open_gate_before_a_gated_step():
    from parley.config import ProcedureStep
    from parley.dialogue.procedure import ProcedureTracker

    steps = [ProcedureStep(id="ask_name", instruction="Ask for the name.", check=r"\bname\b"),
             ProcedureStep(id="ask_order", instruction="Ask for the order number.", check="order number",
                           requires=["ask_name"]),
             ProcedureStep(id="give_status", instruction="Give the status.", check="shipped|in transit",
                           requires=["ask_order"])]
    t = ProcedureTracker(steps)
    step, gate = t.premature("Sure. Order 58316 is in transit.")
    assert (step.id, gate.id) == ("give_status", "ask_name")  # the earliest open step it transitively needs
    assert t.premature("Your name and order number, please?") is None  # gates done in order, in one reply
    # a clause that does step 1 and then jumps to step 3 is dropped whole: step 1 is still to be done
    said = "Thanks. Your name, please, as it shipped Monday."
    assert t.premature(said, "", len("Thanks. "))[1].id == "ask_name"
    assert t.premature(said)[1].id == "ask_order"  # the clause's own steps count when nothing is dropped
    t.observe(1, "May I have your name?")
    assert t.premature("What is the order number?") is None
    assert t.premature("It shipped Monday.")[1].id == "ask_order"


def _verify_steps():
    from parley.config import ProcedureStep

    return [ProcedureStep(id="ask_name", instruction="Ask for the caller's full name.", check=r"\bname\b"),
            ProcedureStep(id="ask_order", instruction="Ask for the order number.", check="order number",
                          requires=["ask_name"]),
            ProcedureStep(id="give_status", instruction="Give the status.", check="shipped|in transit",
                          requires=["ask_order"])]


def test_an_asking_step_is_done_when_the_caller_gives_the_value_first():
    """The guard never asks for what the caller just said; it still asks for what the caller did
    not give, and a step that does something other than ask is never done by the caller."""
    from parley.dialogue.procedure import ProcedureTracker

    t = ProcedureTracker(_verify_steps())
    assert t.given_by("Hi, this is Maria Lopez, my order number is 58316.") == ["ask_name", "ask_order"]
    assert t.given_by("I don't have my order number, my name is Maria Lopez.") == ["ask_name"]
    assert t.given_by("Where is my order? It shipped, right?") == []  # no asking step; "shipped" is not given
    assert t.given_by("It's five eight three one six.") == []  # a bare number answers only the step awaited
    t.observe(1, "Sure, may I have your full name?")
    assert t.given_by("It's five eight three one six.") == ["ask_order"]
    assert t.premature("Thanks, it is in transit.", "It's five eight three one six.") is None
    assert t.observe_caller(2, "It's five eight three one six.") == ["ask_order"]
    assert t.observe(2, "Order 58316 shipped Monday.") == [("give_status", True)]
    assert "every step is done" in t.note()
    # the number said before the name was asked: no asking for the number, still for the name
    t = ProcedureTracker(_verify_steps())
    assert t.observe_caller(1, "Where is order number 58316?") == ["ask_order"]
    assert t.premature("It is in transit.", "")[1].id == "ask_name"
    assert t.observe(1, "It is in transit.") == [("give_status", False)]


GIVEN = """id: g
title: t
suites: [adherence]
axis: adherence
procedure:
  - {id: ask_name, instruction: Ask for the caller's full name., check: '\\bname\\b'}
  - {id: ask_order, instruction: Ask for the order number., check: order number, requires: [ask_name]}
  - {id: give_status, instruction: Give the status., check: shipped, requires: [ask_order]}
turns:
  - say: Hi, where is my order?
    expect: {step: ask_name}
  - say: Maria Lopez, and my order number is five eight three one six.
    expect: {step: give_status}
"""


def test_the_judge_counts_a_value_the_caller_gave_before_it_was_asked(tmp_path):
    """The caller gives the order number unasked: the agent that gives the status without asking
    for it again did the step in order; one that skipped asking the name did not."""
    sc = load_scenario(_write(tmp_path, "g.yaml", GIVEN))
    ev = _events([("Sure, may I have your name?", "smooth"), ("Thanks Maria, it shipped Monday.", "smooth")])
    assert {c.turn: c.passed for c in judge(sc, ev) if c.kind == "step"} == {1: True, 2: True}
    ev = _events([("Happy to help. What is it about?", "smooth"), ("Thanks Maria, it shipped Monday.", "smooth")])
    assert {c.turn: c.passed for c in judge(sc, ev) if c.kind == "step"} == {1: False, 2: False}


def test_the_prompt_says_where_the_procedure_stands_where_it_changed():
    """The next step is told in the history before the caller's turn, and stays where it was said
    (the prompt's prefix is the same turn after turn, so the cached prefill stays valid); a new note
    follows only once the agent did a step; a prompt without a procedure gets none."""
    from parley.config import AgentConfig, ProcedureStep
    from parley.dialogue.conversation import Conversation
    from parley.events import EventLog

    steps = [ProcedureStep(id="ask_name", instruction="Ask for the caller's full name.", check=r"\bname\b"),
             ProcedureStep(id="ask_order", instruction="Ask for the order number.", check="order number",
                           requires=["ask_name"])]
    conv = Conversation(AgentConfig(procedure=steps), [], EventLog("t", clock_now=lambda: 0.0))
    first = conv.history.messages("Where is my order?", "<passage>hours</passage>")
    assert [m["role"] for m in first] == ["system", "system", "system", "user"]
    assert "no step done yet" in first[1]["content"] and "1: Ask for the caller" in first[1]["content"]
    conv.heard(1, "Where is my order?", "Sure. May I have your name?", False)
    second = conv.history.messages("Maria Lopez.")
    assert second[:2] == first[:2]  # the first note stays where it was said
    assert "step 1 done" in second[-2]["content"] and "2: Ask for the order number." in second[-2]["content"]
    conv.heard(2, "Maria Lopez.", "Thanks. Could you repeat that?", False)  # no step done: no new note
    third = conv.history.messages("Maria Lopez.")
    assert third[:len(second) - 1] == second[:-1] and third[-2]["role"] == "assistant"
    conv.heard(3, "Maria Lopez.", "Thanks. What is the order number?", False)
    assert "every step is done" in conv.history.messages("58316.")[-2]["content"]
    plain = Conversation(AgentConfig(), [], EventLog("t", clock_now=lambda: 0.0))
    assert [m["role"] for m in plain.history.messages("Hi.")] == ["system", "user"]


@pytest.mark.slow
def test_a_reply_that_would_skip_verification_is_cut_and_the_gate_is_asked(tmp_path):
    """adherence-skip-attempt on the real cascade: the caller demands a status before giving a name;
    whatever the model drafts, the caller hears the name asked first and no status."""
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    scenario = Path(__file__).parent.parent / "src/parley/bench/scenarios/adherence-skip-attempt.yaml"
    run_bench([str(scenario)], ["cascade"], tmp_path, base=AgentConfig())
    conv = tmp_path / "cascade" / "adherence-skip-attempt"
    events = [json.loads(line) for line in (conv / "events.jsonl").read_text().splitlines()]
    first = next(e for e in events if e["kind"] == "agent_turn")
    assert mentions(r"\bname\b", first["agent"]) and not mentions("shipped|transit|thursday", first["agent"]), first
    steps = [(e["step"], e["in_order"]) for e in events if e["kind"] == "procedure_step"]
    assert steps and all(ok for _, ok in steps) and steps[0][0] == "ask_name", steps


@pytest.mark.slow
def test_open_questions_get_short_spoken_answers(tmp_path):
    """adherence-persona-short: "tell me everything about your jackets" drafts 60+ words; no sentence
    starts past `max_reply_words` (40), so every reply heard stays within the scenario's 50."""
    from parley.bench.run import run_bench
    from parley.config import AgentConfig

    scenario = Path(__file__).parent.parent / "src/parley/bench/scenarios/adherence-persona-short.yaml"
    run_bench([str(scenario)], ["cascade"], tmp_path, base=AgentConfig())
    events = [json.loads(line) for line in
              (tmp_path / "cascade" / "adherence-persona-short" / "events.jsonl").read_text().splitlines()]
    replies = [e["agent"] for e in events if e["kind"] == "agent_turn"]
    assert len(replies) == 3 and all(0 < len(r.split()) <= 50 for r in replies), replies


def test_the_reply_gate_cuts_at_a_gate_or_before_a_sentence_past_the_cap():
    from parley.components.tts.clauses import Clause
    from parley.config import ProcedureStep
    from parley.dialogue.procedure import ProcedureTracker
    from parley.dialogue.reply_gate import ReplyGate

    steps = [ProcedureStep(id="ask_name", instruction="Ask the name.", check=r"\bname\b", say="Your name, please?"),
             ProcedureStep(id="give_status", instruction="Give the status.", check="shipped", requires=["ask_name"])]
    gate = ReplyGate(ProcedureTracker(steps), max_words=8)
    text = "Sure thing. It shipped Monday."
    v = gate.check(text, Clause("It shipped Monday.", 12, len(text)))
    assert not v.more and v.text == "Sure thing. Your name, please?" and v.guarded[1].id == "ask_name"
    assert v.text[v.clause.start:v.clause.end] == "Your name, please?"  # the span the playout's heard text uses
    text = "One two three four five. Six seven eight nine."
    v = gate.check(text, Clause("Six seven eight nine.", 25, len(text)))
    assert not v.more and v.clause is None and v.text == "One two three four five."  # 9 words: not started
    text = "One two three four five six seven eight. Nine."
    v = gate.check(text, Clause("six seven eight.", 24, 40))
    assert not v.more and v.clause.text == "six seven eight." and v.text == text[:40]  # the cap ends the sentence
    assert gate.check("One two.", Clause("One two.", 0, 8)).more


def test_scenario_voice_and_condition_are_validated(tmp_path):
    p = _write(tmp_path, "v.yaml", "id: v\ntitle: t\nsuites: [memory]\nvoice: robot\nturns:\n  - say: hi\n")
    with pytest.raises(ScenarioError, match=r"v.yaml:4: voice: unknown voice 'robot': use one of joe"):
        load_scenario(p)
    p = _write(tmp_path, "c.yaml", "id: c\ntitle: t\nsuites: [memory]\ncondition: underwater\nturns:\n  - say: hi\n")
    with pytest.raises(ScenarioError, match="c.yaml:4: condition"):
        load_scenario(p)
    p = _write(tmp_path, "e.yaml", "id: e\ntitle: t\nsuites: [memory]\necho: true\ncondition: phone\nturns:\n  - say: hi\n")
    with pytest.raises(ScenarioError, match="cannot be combined"):
        load_scenario(p)
    sc = load_scenario(_write(tmp_path, "ok.yaml", "id: ok\ntitle: t\nsuites: [turn-taking]\necho: true\nturns:\n"
                                                    "  - say: one two three four five six\n    monologue: true\n"
                                                    "    pauses: [{after_word: 2, ms: 500}, {after_word: 4, ms: 700}]\n"))
    assert sc.own_condition == "echo" and sc.own_voice == "joe" and sc.turns[0].kind == "monologue"


def test_talker_lines_and_acknowledgements_are_checked_for_claims(tmp_path):
    from parley.bench.scorecard import talker_claims
    from parley.events import Acknowledgement, AsrFinal, Opener

    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO))
    ev = [AsrFinal(t=1, session="s", turn=1, text="Where is order 44172?"),
          Acknowledgement(t=1, session="s", turn=1, text="Let's see."),
          Opener(t=1, session="s", turn=1, text="Order number 4 4 1 7 2, let me check.", source="talker"),
          AsrFinal(t=2, session="s", turn=2, text="Is it free?"),
          Opener(t=2, session="s", turn=2, text="Yes, it is free.", source="talker")]
    claims = talker_claims([Conversation(sc, ev)])["talker"]
    assert claims["lines"] == 3 and claims["unsupported"] == 1
    assert claims["examples"][0]["turn"] == 2 and "Yes" in claims["examples"][0]["claims"]


def test_a_recall_answer_stating_a_value_nobody_gave_is_counted_as_invented(tmp_path):
    from parley.bench.scorecard import invented_values
    from parley.events import AsrFinal

    sc = load_scenario(_write(tmp_path, "s.yaml", SCENARIO))
    replies = [("It shipped on Monday.", "smooth"), (None, "backchannel"), ("What is your name?", "smooth")]
    heard = [AsrFinal(t=1.5, session="s", turn=1, text="my order is four four one seven nine")]
    # the ASR's misheard value said back is a miss, not an invention; a number from nowhere is one
    misheard = Conversation(sc, _events(replies + [("Your order is 4 4 1 7 9.", "smooth")]) + heard)
    made_up = Conversation(sc, _events(replies + [("Your order is 9 3 8 1 7, shipped from Denver.", "smooth")]) + heard)
    assert invented_values([misheard])["invented"] == 0
    out = invented_values([made_up])
    assert out["invented"] == 1 and out["answers"] == 1
    assert set(out["examples"][0]["values"]) == {"3", "8", "Denver"}  # 9 and 1 the caller said
    spelled = [AsrFinal(t=1.5, session="s", turn=1, text="The account is under the A new N-P-U-Y-N."),
               AsrFinal(t=2.5, session="s", turn=2, text="The account is under the name UN, N-T-U-Y-N.")]
    recalled = Conversation(sc, _events(replies + [("The name I have is Ntuyn, N-T-U-Y-N.", "smooth")]) + spelled)
    assert invented_values([recalled])["invented"] == 0  # the letters the caller spelled, said as a name
