"""The hybrid talker's opener: right for the moment, and never a claim the caller did not make."""

import pytest

from parley.dialogue import talker
from parley.dialogue.memory import extract

CALLERS = [
    ("Hi there.", "Hello."),
    ("Can you tell me if the blue jacket comes in medium?", None),
    ("Is my refund approved yet?", None),
    ("I'd like to change my delivery address please.", None),
    ("Thank you so much, that's all I needed.", "You're welcome."),
    ("Okay bye.", "Goodbye."),
    ("Yes, that's right.", "Thank you."),
    ("No.", "Thank you."),
    ("My parcel arrived damaged yesterday.", "Got it."),
    ("My name is Daniel Brooks.", "Thank you, Daniel Brooks."),
    ("My appointment is on June twelfth.", "June 12th."),
    ("My order number is 4 7 1 9 2.", "Order number 4 7 1 9 2."),
    ("The confirmation code is K 7 Q 4 2, when does it expire?", "Confirmation code K 7 Q 4 2, let me check."),
]


@pytest.mark.parametrize("caller,expected", CALLERS)
def test_the_opener_fits_the_turn_and_claims_nothing(caller, expected):
    line = talker.opener(3, caller, extract(caller, 1, []))
    if expected is not None:
        assert line == expected
    else:  # a question or a request gets a holding line: never "sure", "okay" or "yes"
        assert line in talker.HOLDING
    assert talker.unsupported(line, caller) == []


def test_the_acknowledgement_fits_any_words_and_a_question_never_gets_a_yes():
    assert talker.acknowledgement("Can I return a swimsuit") == "Let's see."  # not "mhm": heard as yes
    assert talker.acknowledgement("I'd like to change my") == "Let's see."
    assert talker.acknowledgement("And can I pay by") == "Let's see."  # a question after a discourse marker
    assert talker.acknowledgement("Sorry, what was my order") == "Let's see."
    for partial in ("My parcel arrived", "My order number is 4 7", "Hi there", ""):
        assert talker.acknowledgement(partial) == "Mhm."
    for line in talker.ACKNOWLEDGEMENTS.values():
        assert talker.unsupported(line, "") == [] and line in talker.ALL_LINES


@pytest.mark.parametrize("caller,expected", CALLERS)
def test_after_an_acknowledgement_the_opener_says_only_what_it_adds(caller, expected):
    line = talker.opener(3, caller, extract(caller, 1, []))
    value_said_back = expected is not None and expected not in talker.ACKS.values()
    if value_said_back or expected in ("Hello.", "You're welcome.", "Goodbye."):
        assert not talker.holds_only(line)  # a value said back, or a reply to a greeting, thanks or goodbye
    else:
        assert talker.holds_only(line)  # "let me check" or "got it" after "mhm" would say it twice


def test_unsupported_catches_what_the_caller_did_not_say():
    assert talker.unsupported("Yes, your refund of 40 dollars is on its way.", "Where is my refund?") == \
        ["Yes", "40", "dollars"]
    assert talker.unsupported("Order number 4 7 1 9 3.", "my order number is four seven one nine two") == ["3"]
    assert talker.unsupported("Thanks, Maria.", "Hello, this is Sam.") == ["Maria"]
    assert talker.unsupported("Order number 4 7 1 9 2.", "my order number is four seven one nine two") == []


def _through(drop, deltas):
    return "".join(drop(d) for d in [*deltas, ""])


def test_the_thinkers_own_acknowledgement_is_dropped_and_answers_are_kept():
    assert _through(talker.DropLeadingAck("Got it."), ["I see", ". Your parcel ", "left today."]) == "Your parcel left today."
    assert _through(talker.DropLeadingAck("Let me check."), ["Let me check that for you. ", "We open at nine."]) == \
        "We open at nine."
    assert _through(talker.DropLeadingAck("Let me look."), ["Yes, you can ", "exchange them."]) == "Yes, you can exchange them."
    assert _through(talker.DropLeadingAck("Let me look."), ["Of course! ", "Returns are free."]) == "Of course! Returns are free."
    assert _through(talker.DropLeadingAck("Order number 4 7 1 9 2."), ["Order number 47192. ", "It ships today."]) != \
        "It ships today."  # digits written differently: not the same words, kept rather than guessed
    assert _through(talker.DropLeadingAck("Got it."), ["Okay."]) == ""
    assert _through(talker.DropLeadingAck("Got it."), ["The price is 3.5 dollars. ", "Anything else?"]) == \
        "The price is 3.5 dollars. Anything else?"


def test_an_answer_is_released_as_soon_as_it_cannot_be_an_acknowledgement():
    drop = talker.DropLeadingAck("Let me check.")
    assert drop("Daniel") == "Daniel"  # no acknowledgement starts so: nothing is held back
    drop = talker.DropLeadingAck("Got it.")
    assert drop("I") == "" and drop("'m sorry") == "I'm sorry"
