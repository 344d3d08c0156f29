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


def test_the_caller_checks_the_read_back_against_the_true_value():
    assert reads_back("j.okafor@gmail.com", "That's j dot okafor at gmail dot com, is that right?")
    assert reads_back("ALVAREZ", "That's A-L-V-A-R-E-Z, is that right?")
    assert not reads_back("ALVAREZ", "That's A-L-V-E-R-E-Z, is that right?")
    assert reads_back("UA1429", "That's U A 1 4 2 9, is that right?")
