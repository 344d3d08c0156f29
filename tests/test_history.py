"""History holds what the user heard; words whose reply was never heard carry into the next turn."""

from parley.dialogue.history import INTERRUPTED_NOTE, History


def test_a_reply_cut_before_any_audio_leaves_no_agent_turn():
    h = History("sys")
    h.add("I bought a rain jacket last week.", "", interrupted=True)
    h.add("and it was too small.", "I'm sorry to hear that.")
    msgs = h.messages("Can I get a refund?")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1]["content"] == "I bought a rain jacket last week. and it was too small."
    assert INTERRUPTED_NOTE not in " ".join(m["content"] for m in msgs)


def test_a_partly_heard_reply_is_kept_as_heard_with_a_note_outside_it_and_pending_words_prefix_the_next_request():
    """The interruption is a system note after the turn: a marker inside the assistant's words was
    copied into later replies and spoken."""
    h = History("sys")
    h.add("Tell me about returns.", "You can return items within", interrupted=True)
    assert h.messages()[-2:] == [{"role": "assistant", "content": "You can return items within"},
                                 {"role": "system", "content": INTERRUPTED_NOTE}]
    h.add("Wait,", "", interrupted=True)
    assert h.messages("how long?")[-1]["content"] == "Wait, how long?"


def test_facts_from_dropped_turns_stay_in_context_past_a_hundred_turns():
    h = History("sys", max_chars=4000)
    h.add("Hi, my name is Priya Raman and my order number is four four one seven two.", "Hello Priya.")
    h.add("Please ship it to 12 Baker Street.", "Will do.")
    for i in range(150):
        h.add(f"Question {i} about jackets, sizes and the weather in general?", f"Answer {i}, kept short.")
    msgs = h.messages("What was my order number and my name?")
    text = " ".join(m["content"] for m in msgs)
    assert sum(len(m["content"]) for m in msgs) < 4000
    assert "Question 0 " not in text  # the start of the call is out of the window...
    assert "order number: 44172" in text and "Priya Raman" in text and "12 Baker Street" in text  # ...its facts are not
    first = h.messages("next")[:3]
    h.add("One more question?", "One more answer.")
    assert h.messages("next")[:3] == first  # trimming in blocks: the prompt prefix stays put


def test_fact_extraction_is_verbatim_and_conservative():
    from parley.dialogue.memory import extract

    facts = {(f.kind, f.text) for f in extract("I'm Carlos. My phone number is 555-2134, born March 14th.", 3)}
    assert facts == {("name", "Carlos"), ("phone number", "5552134"), ("date", "March 14th")}
    assert extract("I'm just looking, thanks.", 1) == []


def test_a_proposed_summary_folds_the_oldest_block_only_when_committed():
    h = History("sys", max_chars=3000)
    h.add("Hi, I'm shopping for my sister; she is hiking in Scotland.", "Lovely, what does she need?")
    for i in range(11):
        h.add(f"Question {i} about socks, gloves and other things?", f"Answer {i}: yes, we have those in stock.")
    assert h.fold_point() is None  # room left: nothing to summarise yet
    while h.fold_point() is None:
        h.add("Another question about jackets and sizes?", "Another answer about jackets and sizes.")
    upto = h.fold_point()
    before = h.messages("next")
    h.propose(upto, "The caller shops for a sister who hikes in Scotland.")
    assert h.fold_point() is None  # one fold at a time
    assert h.messages("next") == before  # proposed, not live: the cached prompt stays valid
    preview = h.preview()
    assert "Scotland" in preview[1]["content"] and "Question 0 " not in " ".join(m["content"] for m in preview)
    h.commit()
    after = h.messages()
    assert after == preview and h.start == upto and h.summary == "The caller shops for a sister who hikes in Scotland."


def test_the_budget_forces_a_proposed_fold_and_without_a_summary_drops_with_facts():
    h = History("sys", max_chars=2500)
    h.add("My order number is four four one seven two.", "Thanks.")
    while h.fold_point() is None:
        h.add("A question about jackets and sizes?", "An answer about jackets and sizes.")
    h.propose(h.fold_point(), "The caller asked about jackets.")
    for _ in range(40):
        h.add("A question about jackets and sizes?", "An answer about jackets and sizes.")
    msgs = h.messages("What was my order number?")
    assert sum(len(m["content"]) for m in msgs) < 2500
    assert "The caller asked about jackets." in msgs[1]["content"] and "order number: 44172" in msgs[1]["content"]


def test_each_turn_carries_its_details_in_canonical_form_and_a_correction_replaces_the_old_value():
    h = History("sys")
    first = h.messages("My last name is Elmer, that is A-L-V-A-R-E-Z.")[-1]["content"]
    assert first.endswith("(Details as heard: last name = Alvarez (spelled A-L-V-A-R-E-Z))")
    h.add("My last name is Elmer, that is A-L-V-A-R-E-Z.", "Thank you.")
    h.add("Book me a fitting for Tuesday the fourteenth.", "Booked for Tuesday.")
    fix = h.messages("No, sorry, not Tuesday. Thursday the sixteenth.")[-1]["content"]
    assert "date = Thursday 16th, replacing Tuesday 14th" in fix
    h.add("No, sorry, not Tuesday. Thursday the sixteenth.", "Okay, Thursday.")
    assert [(f.kind, f.text) for f in h.facts] == [("last name", "ALVAREZ"), ("date", "Thursday 16th")]
    assert h.messages()[1]["content"] == first  # the annotation is kept in the turn: the prefix stays put


def test_where_the_call_stands_survives_a_fold_once_and_never_twice():
    h = History("sys")
    h.set_state("Next: step 1.")
    for i in range(3):
        h.add(f"user {i}", f"agent {i}")
    h.set_state("Next: step 1.")  # unchanged: not said again
    h.start = 2  # the first two exchanges folded away, with the note said before them
    contents = [m["content"] for m in h.messages("hi")]
    assert contents.count("Next: step 1.") == 1 and contents.index("Next: step 1.") < contents.index("user 2")
    h.set_state("Next: step 2.")
    contents = [m["content"] for m in h.messages("hi")]
    assert "Next: step 1." not in contents and contents[-2:] == ["Next: step 2.", "hi"]
