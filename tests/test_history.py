"""History holds what the user heard; words whose reply was never heard carry into the next turn."""

from parley.dialogue.history import INTERRUPTED_MARKER, History


def test_a_reply_cut_before_any_audio_leaves_no_agent_turn():
    h = History("sys")
    h.add("I bought a rain jacket last week.", "", interrupted=True)
    h.add("and it was too small.", "I'm sorry to hear that.")
    msgs = h.messages("Can I get a refund?")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1]["content"] == "I bought a rain jacket last week. and it was too small."
    assert INTERRUPTED_MARKER.strip() not in " ".join(m["content"] for m in msgs)


def test_a_partly_heard_reply_is_kept_with_the_marker_and_pending_words_prefix_the_next_request():
    h = History("sys")
    h.add("Tell me about returns.", "You can return items within", interrupted=True)
    assert h.messages()[-1]["content"] == "You can return items within" + INTERRUPTED_MARKER
    h.add("Wait,", "", interrupted=True)
    assert h.messages("how long?")[-1]["content"] == "Wait, how long?"
