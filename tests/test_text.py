from parley.components.tts.clauses import ClauseSplitter
from parley.components.tts.internal import InternalText, internal_marks, speakable
from parley.textnorm import digits_of, for_speech, mentions


def test_spoken_numbers_normalise_to_digits():
    assert mentions("47192", "your order number is four seven one nine two")
    assert mentions("47192", "It's 4-7-1-9-2.")
    assert mentions("47192", "forty-seven thousand one hundred ninety-two")
    assert not mentions("47192", "your order number is four seven one nine")
    assert digits_of("Oh, okay") == "oh , okay"


def test_for_speech_drops_markdown_and_spells_long_digits():
    assert for_speech("**Sure!** Order 47192, placed in 2025.") == "Sure! Order 4 7 1 9 2, placed in 2025."
    assert for_speech("Your order number is 4-7-192.") == "Your order number is 4 7 1 9 2."
    assert for_speech("It takes 5-7 days.") == "It takes 5-7 days."


def test_clauses_release_early_and_keep_character_spans():
    s = ClauseSplitter(first_min_words=3, min_words=6)
    out = []
    for tok in ["Sure", ",", " your", " order", " number", " is", " 47192", ".", " It", " ships", " in", " 3.5", " days", "."]:
        out += s.feed(tok)
    assert [c.text for c in out] == ["Sure, your order number is 47192."]
    out += s.flush()
    assert [s.text[c.start:c.end] for c in out] == [c.text for c in out]
    assert out[-1].text == "It ships in 3.5 days."


def test_first_clause_is_cut_after_max_words_without_punctuation():
    s = ClauseSplitter(first_min_words=3, min_words=6, first_max_words=4)
    out = []
    for tok in ["We", " open", " at", " nine", " on", " Saturdays", " and", " Sundays", "."]:
        out += s.feed(tok)
    out += s.flush()
    assert [c.text for c in out] == ["We open at nine", "on Saturdays and Sundays."]
    assert [s.text[c.start:c.end] for c in out] == [c.text for c in out]


def test_an_opening_apology_is_its_own_clause_and_never_cut_mid_phrase():
    """ "I'm sorry, but I" cut after four words left the reply gate half a stock refusal to replace:
    the caller heard "I'm sorry, but I Thank you. And the name on the booking?". Held whole, the
    refusal's ~1.4 s of decoding came before the first audio. "I'm sorry," alone is said at once."""
    def clauses(tokens):
        s, out = ClauseSplitter(first_min_words=3, min_words=6, first_max_words=4), []
        for tok in tokens:
            out += s.feed(tok)
        return [c.text for c in out]

    assert clauses(["I'm", " sorry", ",", " but", " I", " can't", " assist", " with", " that", ".", " Bye", "."]) == \
        ["I'm sorry,", "but I can't assist with that."]
    assert clauses(["I'm", " afraid", " I", " can't", " do", " that", ".", " Bye", "."]) == ["I'm afraid I can't do that."]


def test_stage_directions_are_never_spoken_nor_kept_as_heard():
    """The 1.5B model copies history's "[interrupted by the user]" into replies (seen in the bench:
    "I'm sorry, but I [interrupted by the user]"); brackets may arrive split over tokens."""
    s = ClauseSplitter(first_min_words=3, min_words=6)
    clauses = []
    for delta in ["Sure, your order", " shipped [interr", "upted by the", " user] on Monday. [pa", "use]"]:
        clauses += s.feed(delta)
    clauses += s.flush()
    spoken = " ".join(c.text for c in clauses)
    assert "[" not in spoken and "interrupted" not in spoken and "pause" not in s.text
    assert spoken.replace("  ", " ") == "Sure, your order shipped on Monday."
    assert all(s.text[c.start:c.end] == c.text for c in clauses)  # spans still index the heard text
    s = ClauseSplitter()
    s.feed("Use the code [A1 for the door, it has no closing bracket and goes on for a long while, really long")
    assert "[A1" in s.text + "".join(c.text for c in s.flush())  # an unclosed "[" far from any "]" is text


def _stream(deltas: list[str]) -> tuple[str, ClauseSplitter]:
    s = ClauseSplitter(first_min_words=3, min_words=6)
    clauses = []
    for d in deltas:
        clauses += s.feed(d)
        if s.ended:
            break
    clauses += s.flush()
    return " ".join(c.text for c in clauses), s


def test_tags_tool_syntax_and_role_tags_never_reach_speech():
    """Template tags, tool calls and JSON split over tokens are dropped; the model's own role tag
    before its first word goes, and a reply that starts writing the caller's turn ends there."""
    spoken, s = _stream(["Assistant", ": Your parcel <|im", "_end|> left ", "<tool_call>{\"name\": ",
                         "\"track\"}</tool_call>today. ", "User", ": thanks", " a lot. Bye."])
    assert spoken == "Your parcel left today."
    assert s.ended and internal_marks(spoken) == []
    spoken, _ = _stream(["It costs {price} ", "dollars, see </passage> the ", "page."])
    assert spoken == "It costs dollars, see the page."
    spoken, s = _stream(["Tell the user: we close at six."])  # a role word inside a sentence is speech
    assert spoken == "Tell the user: we close at six." and not s.ended


def test_speakable_is_the_last_guard_on_any_text():
    assert speakable("Sure [interrupted by the user] thing, <b>47192</b>.") == "Sure thing, 4 7 1 9 2."
    assert speakable("Agent: Hello there.") == "Hello there."
    assert speakable("x < y and the rest is plain text that goes on well past the eighty character limit of a tag") \
        .startswith("x < y")
    assert internal_marks("I'm sorry, but I [interrupted by the user]") == ["[interrupted by the user]"]
    f = InternalText()
    assert f.feed("Hold on [pa") + f.flush() == "Hold on "


def test_the_bench_flags_every_reply_that_spoke_internal_text():
    from parley.bench.judge import internal_checks
    from parley.events import AgentTurn

    events = [AgentTurn(t=1.0, session="s", turn=1, agent="Sure, order 4 7 1 9 2."),
              AgentTurn(t=5.0, session="s", turn=2, agent="I'm sorry, but I [interrupted by the user]")]
    [check] = internal_checks(events)
    assert (check.turn, check.kind, check.passed, check.axis) == (2, "internal", False, None)
