"""Recall: the caller's own values, asked for, answered from the fact store; corrections with no slot word."""

from parley.config import AgentConfig
from parley.dialogue import recall
from parley.dialogue.conversation import Conversation
from parley.dialogue.memory import Fact, extract
from parley.events import EventLog

STORE = [Fact("confirmation code", "K7Q42", 1), Fact("order", "55219", 2), Fact("date", "Thursday March 16th", 3),
         Fact("email", "j.okafor@gmail.com", 4), Fact("surname", "ALVAREZ", 5)]


def _conversation() -> tuple[Conversation, EventLog]:
    log = EventLog("s", clock_now=lambda: 0.0)
    return Conversation(AgentConfig(), [], log), log


def _asked_after(said: list[str], question: str):
    """(the plan for `question`, the conversation, its log) after the caller said `said`, a turn each."""
    conv, log = _conversation()
    for turn, text in enumerate(said, start=1):
        conv.heard(turn, text, "Okay.", False)
    return conv.read_back(len(said) + 1, question, None), conv, log


def asked(text: str) -> list[str]:
    return [f.text for f in recall.asked(text, STORE)]


def test_a_question_for_the_callers_own_value_picks_that_slot():
    assert asked("What was my confirmation code?") == ["K7Q42"]
    assert asked("Which order number are you looking at for me?") == ["55219"]
    assert asked("Can you confirm which day my fitting is on?") == ["Thursday March 16th"]
    assert asked("Which e-mail address did I give you earlier?") == ["j.okafor@gmail.com"]
    assert asked("Can you read my last name back to me?") == ["ALVAREZ"]
    for text in ("What name is the account under?", "Which surname is the reservation under?",
                 "Whose name is the booking in?", "Under what name is the order?"):
        assert asked(text) == ["ALVAREZ"], text


def test_a_misheard_slot_name_still_recalls_the_only_value_of_its_shape():
    # Whisper heard "which order number did I mention" as "which water number …"
    assert asked("Sorry, which water number did I mention earlier?") == ["55219"]
    assert asked("What border code did I give you?") == ["K7Q42"]
    two_numbers = STORE + [Fact("phone", "5550142", 6)]
    assert recall.asked("Which water number did I mention earlier?", two_numbers) == []
    assert asked("Which water number should I call?") == []


def test_questions_about_something_else_go_to_the_model():
    for text in ("What is my order status?", "What's the delivery time for my order?", "Which day is the store open?",
                 "Can I change my e-mail?", "Remind me of my tracking number.", "What is your phone number?",
                 "When do I get my refund?", "What is the name of the shop?",
                 "Which name is in the news?"):
        assert asked(text) == [], text
    assert recall.asked("What was my confirmation code?", []) == []


def test_the_answer_reads_the_value_as_stored():
    said = recall.line(recall.asked("What was my confirmation code?", STORE), lambda f: " ".join(f.text))
    assert said == "The confirmation code I have is K 7 Q 4 2."
    assert not recall.only_asks("What was my code, and can I use it online?")
    assert recall.only_asks("Sorry, what was my code again?")


def test_the_conversation_answers_a_recall_question_from_the_corrected_store():
    plan, conv, log = _asked_after(["I am calling about order five five two one eight.",
                                    "Sorry, I got that wrong, it is five five two one nine."],
                                   "Which order number are you looking at for me?")
    assert plan.action == "recall" and plan.values == ("55219",)
    assert [e.action for e in log.events if e.kind == "read_back"] == ["recall"]
    # the same question with a second one gets the value first, then the model's answer
    assert conv.read_back(3, "What order number do you have, and when will it arrive?", None).action == "state"


def test_a_correction_with_no_slot_word_replaces_the_code_just_given():
    known = [Fact("policy number", "PX773001", 1)]
    assert extract("No, it is P X seven seven three zero one.", 2, known) == [Fact("policy number", "PX77301", 2)]
    assert extract("No, it is the X77301", 2, known) == [Fact("policy number", "X77301", 2)]
    assert extract("It is on the second floor.", 2, known) == []  # no correction: nothing taken
    assert extract("No, it's 55219.", 2, [Fact("date", "Thursday March 16th", 1)]) == []  # not a code's value


def test_a_value_the_caller_never_gave_is_not_invented():
    # the 1.5B model, asked for an address it was never given (the ASR lost it), answered
    # "I have your address listed as 123 Elm St, Anytown, USA."
    said = "We haven't moved, but the rest is donating. Can I still pay by bank transfer?"
    assert recall.missing("Which address do you have for me now?", STORE, said) == "address"
    assert recall.missing("What e-mail address did I give you?", [], said) == "e-mail address"
    # the store holds one, or the caller said something of its shape: the model answers from that
    assert recall.missing("Which address do you have for me?", [Fact("address", "14 Wexford Lane", 1)], said) is None
    assert recall.missing("Which address do you have for me?", [], "I live at the Old Mill, Church Road.") is None
    assert recall.missing("Which e-mail did I give you?", [], "it is m dot calls at get out dot com") is None
    assert recall.missing("Which e-mail did I give you?", [], "You can reach me at m.callsgetoutwith.com.") is None
    # not a question for the caller's own value
    for text in ("What is your address?", "What's the fee for changing my address?", "Can I change my e-mail?",
                 "Which address should I send the parcel to?"):
        assert recall.missing(text, [], said) is None, text


def test_the_conversation_says_it_does_not_have_a_value_instead_of_asking_the_model():
    conv, log = _conversation()
    conv.heard(1, "We haven't moved, but the rest is donating.", "I see.", False)
    plan = conv.read_back(2, "Which address do you have for me?", None)
    assert plan.action == "missing" and plan.line == "Sorry, I don't have your address yet. Could you give it to me?"
    conv.heard(3, "We have moved, the new address is two eighteen Birchwood Avenue.", "Thanks.", False)
    plan = conv.read_back(4, "Which address do you have for me?", None)
    assert plan.action == "recall" and plan.values == ("218 Birchwood Avenue",)


def test_a_value_the_caller_refused_and_never_corrected_is_not_recalled_as_theirs():
    conv, log = _conversation()
    assert conv.read_back(1, "My booking reference is k7m 4x2", None).action == "confirm"
    conv.heard(1, "My booking reference is k7m 4x2", "That's K 7 M 4 X 2, is that right?", False)
    # the caller's correction came through garbled: the wrong value is still the only one stored
    conv.heard(2, "No, it's in case I will aim for time 2.", "Sorry, could you spell it again?", False)
    plan = conv.read_back(3, "What booking reference do you have for me?", None)
    assert plan.line == ("The booking reference I have is K 7 M 4 X 2, but you told me that was not right. "
                         "Could you give it to me again?")
    # said again, read back, and accepted: it is the caller's again
    assert conv.read_back(3, "The booking reference is K 7 M 4 X 2.", None).action == "confirm"
    conv.heard(3, "The booking reference is K 7 M 4 X 2.", "That's K 7 M 4 X 2, is that right?", False)
    conv.heard(4, "Yes.", "Great.", False)
    assert conv.read_back(5, "What booking reference do you have for me?", None).line == \
        "The booking reference I have is K 7 M 4 X 2."


def test_a_question_whose_head_the_asr_lost_still_recalls_the_value_it_names():
    # Whisper heard "What was my confirmation code?" in eSpeak's voice as "Let's let my confirmation code"
    assert asked("Let's let my confirmation code") == ["K7Q42"]
    assert asked("Uh, my order number?") == ["55219"]
    for text in ("I want to change my confirmation code", "That is not my order number.", "My order number is",
                 "So I was wondering about the delivery of my order", "Thanks for my order number.",
                 "Here's my email", "Yes, that's my email"):
        assert asked(text) == [], text
    conv, log = _conversation()
    conv.heard(1, "My confirmation code is K7Q42.", "Thanks.", False)
    plan = conv.read_back(2, "Let's let my confirmation code", None)
    assert plan.action == "recall" and plan.values == ("K7Q42",)


def test_what_the_caller_is_booked_for_is_its_day_and_time():
    booked = [Fact("order", "55219", 1), Fact("date", "Tuesday 4th", 1), Fact("date", "Wednesday 5th", 2),
              Fact("time", "3:15", 2)]
    for text in ("What have you put me down for?", "What do they have you put me down for?",
                 "When am I booked in?", "Sorry, what have you got me down for again?"):
        assert [f.text for f in recall.asked(text, booked)] == ["Wednesday 5th", "3:15"], text
    for text in ("Can you put me down for Friday?", "What size did I want?", "When does the store open?"):
        assert recall.asked(text, booked) == [], text


def test_a_time_said_on_the_clock_is_stored_corrected_and_recalled():
    plan, _, _ = _asked_after(["Can you book my car in at half past 2 on Monday?",
                               "Sorry, I got that wrong. Make it quarter past three."], "What time is my car booked in for?")
    assert plan.action == "recall" and plan.values == ("3:15",)
