"""Read-back: critical values repeated from the fact store, and the simulated caller's answer to it."""

from parley.dialogue.history import History
from parley.dialogue.readback import DEFAULT, ReadBack
from parley.transports.loopback import reads_back


def test_a_spelled_name_is_read_back_as_a_question_once_heard():
    h, rb = History("sys"), ReadBack(DEFAULT)
    said = "Hi, my last name is Elmer, that is A-L-V-A-R-E-Z."
    plan = rb.plan(1, h.heard_facts(said), said, None)
    assert (plan.action, plan.line) == ("confirm", "That's A-L-V-A-R-E-Z, is that right?")
    assert rb.plan(1, h.heard_facts(said), said, None) is not None  # a cancelled speculation reads it again
    rb.heard(1)
    assert rb.plan(2, h.heard_facts(said), said, None) is None  # heard once: not again


def test_a_turn_that_also_asks_gets_the_read_back_as_a_statement_before_the_answer():
    h, rb = History("sys"), ReadBack(DEFAULT)
    said = "My email is j dot okafor at gmail dot com, can you send the receipt there?"
    plan = rb.plan(1, h.heard_facts(said), said, None)
    assert (plan.action, plan.line) == ("state", "That's j dot okafor at gmail dot com.")


def test_a_value_that_never_arrived_whole_is_asked_for_again_not_guessed():
    rb = ReadBack(DEFAULT)
    plan = rb.plan(1, [], "My email is j.", "e-mail in progress")
    assert plan.action == "ask_again" and "e-mail" in plan.line
    assert ReadBack([]).plan(1, History("s").heard_facts("It's A L V A R E Z."), "It's A L V A R E Z.", None) is None


def test_the_same_value_is_asked_for_again_once_not_in_a_loop():
    """Heard the same broken way after one "say it again", a postcode was asked for six times in a
    row; the second time the model answers with what it has."""
    rb = ReadBack(DEFAULT)
    plan = rb.plan(1, [], "The postcode is ds1 for DJ.", "code in progress")
    assert plan.action == "ask_again"
    rb.heard(1)
    assert rb.plan(2, [], "The host code is ds1 for DJ.", "code in progress") is None
    rb.heard(2)  # the model's own reply in between: asking again is allowed once more
    assert rb.plan(3, [], "The postcode is ds1 for DJ.", "code in progress").action == "ask_again"


def test_a_correction_heard_as_the_value_just_refused_is_not_read_back_again():
    h, rb = History("sys"), ReadBack(DEFAULT)
    for turn, said in enumerate(("It's under PIPROVA.", "No, it is PT-T-R-O-V-A."), start=1):
        plan = rb.plan(turn, h.heard_facts(said), said, None)
        assert plan.action == "confirm"
        rb.heard(turn)
    said = "No, it is PT-T-R-O-V-A."
    plan = rb.plan(3, h.heard_facts(said), said, None)
    assert plan.action == "ask_again" and "spell it" in plan.line


def test_the_caller_checks_the_read_back_against_the_true_value():
    assert reads_back("j.okafor@gmail.com", "That's j dot okafor at gmail dot com, is that right?")
    assert reads_back("ALVAREZ", "That's A-L-V-A-R-E-Z, is that right?")
    assert not reads_back("ALVAREZ", "That's A-L-V-E-R-E-Z, is that right?")
    assert reads_back("UA1429", "That's U A 1 4 2 9, is that right?")


def test_the_simulated_caller_confirms_a_right_read_back_and_corrects_a_wrong_one():
    import numpy as np

    from parley.events import AgentTurn, EventLog, ReadBack as ReadBackEvent
    from parley.transports.loopback import LoopbackChannel, UserLine

    said = [UserLine(t, np.zeros(160, dtype=np.float32)) for t in ("yes", "no 1", "no 2")]
    line = UserLine("name", np.zeros(160, dtype=np.float32), readback="ALVAREZ", answers=tuple(said))
    log = EventLog("s")
    channel = LoopbackChannel(agent=None, clock=None, log=log, lines=[line])
    log.emit(ReadBackEvent, t=1.0, turn=1, action="confirm", values=["LVAREZ"], said="")
    log.emit(AgentTurn, t=2.0, turn=1, agent="That's L-V-A-R-E-Z, is that right?")
    assert channel._answer(line, 0.5, 0).text == "no 1"
    assert channel._answer(line, 0.5, 1).text == "no 2"  # the second correction spells it
    log.emit(ReadBackEvent, t=3.0, turn=2, action="confirm", values=["ALVAREZ"], said="")
    log.emit(AgentTurn, t=4.0, turn=2, agent="That's A-L-V-A-R-E-Z, is that right?")
    assert channel._answer(line, 2.5, 2).text == "yes"
    log.emit(AgentTurn, t=6.0, turn=3, agent="Great, how can I help?")  # no read-back: nothing to answer
    assert channel._answer(line, 4.5, 3) is None


def test_only_a_long_turn_the_asr_doubts_is_unclear():
    from parley.dialogue.readback import unclear

    words = "does the warranty cover water damage"
    assert unclear(-1.2, -0.8, words)
    assert not unclear(-0.5, -0.8, words)  # confident enough
    assert not unclear(-1.2, -0.8, "yes that's right")  # a short answer is not worth asking again
    assert not unclear(-1.2, None, words) and not unclear(None, -0.8, words)  # off, or no confidence given


def test_the_simulated_caller_says_a_line_again_when_asked_and_answers_read_backs():
    import numpy as np

    from parley.events import AgentTurn, EventLog, ReadBack
    from parley.transports.loopback import LoopbackChannel, UserLine

    pcm = np.zeros(1600, np.float32)
    again = UserLine("my number is 4 7 1 9 2", pcm)
    yes, fix = UserLine("Yes, that's right.", pcm), UserLine("No, it is 4 7 1 9 2.", pcm)
    plain = UserLine("my number is 4 7 1 9 2", pcm, again=lambda: again)
    checked = UserLine("my number is 4 7 1 9 2", pcm, readback="47192", answers=(yes, fix, fix), again=lambda: again)

    def channel(action: str, said: str) -> LoopbackChannel:
        log = EventLog("s", clock_now=lambda: 1.0)
        ch = LoopbackChannel(None, None, log, [plain])
        log.emit(ReadBack, t=1.0, turn=1, action=action, said=said)
        log.emit(AgentTurn, t=2.0, turn=1, user="", agent=said)
        return ch

    assert channel("unclear", "Sorry?")._answer(plain, 0.0, 0) is again
    assert channel("ask_again", "The whole number?")._answer(plain, 0.0, 0) is again  # no value to correct with
    assert channel("unclear", "Sorry?")._answer(checked, 0.0, 0) is again
    assert channel("confirm", "That's 4 7 1 9 2?")._answer(checked, 0.0, 0) is yes
    assert channel("confirm", "That's 4 7 1 9 3?")._answer(checked, 0.0, 0) is fix
    assert channel("ask_again", "The whole number?")._answer(checked, 0.0, 0) is fix  # says the value again
