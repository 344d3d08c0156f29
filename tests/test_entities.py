"""The entity grammar: what callers spell and dictate, in the shapes Whisper writes it, made canonical."""

import pytest

from parley.dialogue.entities import entities


@pytest.mark.parametrize("said, expected", [
    ("Hi, my last name is Alvarez, that is A L V A R E Z.", [("last name", "ALVAREZ")]),
    ("My last name is Elmer, that is A-L-V-A-R-E-Z.", [("last name", "ALVAREZ")]),
    ("It's spelled double-u, E, B, B.", [("spelled", "WEBB")]),
    ("My email address is j dot okafor at gmail dot com.", [("email", "j.okafor@gmail.com")]),
    ("Email me at anna dot berg at gmail dot com please.", [("email", "anna.berg@gmail.com")]),
    ("it's j.smith@yahoo.co.uk", [("email", "j.smith@yahoo.co.uk")]),
    ("my email address is samatoutlook.com", [("email", "sam@outlook.com")]),  # Whisper glued the "at"
    ("it is j dot o k a f o r at gmail dot com", [("email", "j.okafor@gmail.com")]),
    ("My last name is Alvarez, that is the LVAR EZ.", [("last name", "LVAREZ")]),  # capital clumps after "that is"
    ("I need it ASAP, OK?", []),
    ("My flight is U A fourteen twenty nine to Denver.", [("flight", "UA1429")]),
    ("The postcode is S W one A two A A.", [("postcode", "SW1A2AA")]),
    ("My confirmation code is K 7 Q 4 2.", [("confirmation code", "K7Q42")]),
    ("Booking reference is bravo oh seven two.", [("booking reference", "B072")]),
    ("My order number is four seven one nine two.", [("order number", "47192")]),
    ("No, sorry, not Tuesday. Thursday the sixteenth.", [("date", "Thursday 16th")]),
    ("the 3rd of March at 10:30", [("date", "March 3rd"), ("time", "10:30")]),
    ("I was born on the fourth of June, nineteen seventy-two.", [("date", "June 4th, 1972")]),  # the year kept
    ("March third two thousand and five", [("date", "March 3rd, 2005")]),
    ("I live at flat twelve B, forty Harbour Road.", [("address", "Flat 12B, 40 Harbour Road")]),
    ("I am calling about the jacket I bought on Saturday.", []),  # nothing to invent
    ("I need it in black or maybe dark blue if you have it.", []),
    # a number to be called on, with no word for it, and a leading "oh" that is a zero
    ("Please call me back on oh two oh, seven nine four six, three one eight five.", [("phone number", "02079463185")]),
    ("You can reach me at 07700 900461.", [("phone number", "07700900461")]),
    ("My phone number is oh seven seven, nine eight two, four four one.", [("phone number", "077982441")]),
    ("Call me back at ten thirty tomorrow.", [("time", "10:30")]),  # a time, not a number to call
    # the clock as people say it
    ("Sorry, I got that wrong, make it quarter past three.", [("time", "3:15")]),
    ("Can you book it for half past two on Monday?", [("time", "2:30")]),
    ("Quarter to one, or ten past five, or six o'clock.", [("time", "12:45"), ("time", "5:10"), ("time", "6:00")]),
    ("It takes five to ten minutes, or two to three days.", []),  # ranges, not clock times
    ("A table for four at seven thirty, or from 8.30 until nine fifteen.",
     [("time", "7:30"), ("time", "8:30"), ("time", "9:15")]),
    ("It costs about 1250 dollars for 130 people.", []),
    ("We're open 9am to 5.30pm.", [("time", "9:00 am"), ("time", "5:30 pm")]),
    ("Oh, my order number is, oh, let me see.", []),  # "oh" that opens a thought
    # a code's letters as Whisper writes them, in capital groups; the pronoun or a shouted word after it
    ("My postcode is SW1A 2AA.", [("postcode", "SW1A2AA")]),
    ("Hi, I'm checking on a hotel booking. It's under PIPROVA.", [("spelled", "PIPROVA")]),
    ("My surname is NGUYEN.", [("surname", "NGUYEN")]),
    ("No, it is PT-T-R-O-V-A.", [("spelled", "PTTROVA")]),
    ("It's under VAT rules, and I called IKEA about it.", []),
    ("My flight is BA 283 to NYC tomorrow.", [("flight", "BA283")]),
    ("My account number is 629481 I think.", [("account number", "629481")]),
    ("The order is 55219 AND I need it.", [("order", "55219")]),
])
def test_entities_are_canonical(said, expected):
    assert [(e.slot, e.value) for e in entities(said)] == expected


def test_to_between_the_digits_of_a_code_is_the_digit_two():
    from parley.dialogue.entities import codes

    assert [v for _s, v, _w in codes("Hello, my account number is 6 to 9 481.")] == ["629481"]
    assert [v for _s, v, _w in codes("My order number is four seven to nine one.")] == ["47291"]
    assert [v for _s, v, _w in codes("The order number is 4719, to be honest.")] == ["4719"]  # not followed by a code
