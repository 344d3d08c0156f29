"""Persona limits are enforced on the drafted reply, clause by clause, whatever the model wrote."""

from parley.components.tts.clauses import Clause, ClauseSplitter
from parley.config import Limit
from parley.dialogue.limits import UNGROUNDED_SAY, UNGROUNDED_TIME_SAY, LimitGuard, active_limits
from parley.dialogue.persona import DEFAULT_PERSONA
from parley.dialogue.procedure import ProcedureTracker
from parley.dialogue.reply_gate import ReplyGate
from parley.dialogue.rules import without_rules

MEDICAL = ("You are Kim, the agent of a pharmacy delivery service. Do not give medical advice of any kind; "
           "refer health questions to a pharmacist.")
PRIVACY = ("You are Lee at a shoe shop. Under no circumstances share another customer's details. "
           "Record on screen: Tomas Berg, 44 Mill Lane, order 77310.")


def _spoken(persona: str, draft: str, caller: str, limits=(), guard: LimitGuard | None = None) -> tuple[str, list[str]]:
    gate = ReplyGate(ProcedureTracker([]), 0, guard or LimitGuard(active_limits(persona, list(limits))))
    splitter = ClauseSplitter(3, 6)
    said, breaches = [], []
    for clause in splitter.feed(draft) + splitter.flush():
        v = gate.check(splitter.text, clause, caller)
        if v.breach:
            breaches.append(v.breach.limit)
        if v.clause:
            said.append(v.clause.text)
        if not v.more:
            break
    return " ".join(said), breaches


def test_limits_are_read_from_the_persona_in_prose():
    assert [l.id for l in active_limits(MEDICAL, [])] == ["medical"]
    assert [l.id for l in active_limits(PRIVACY, [])] == ["other_customers"]
    assert active_limits(DEFAULT_PERSONA, []) == []


def test_a_dose_is_replaced_by_the_fallback_and_the_reply_ends():
    said, breaches = _spoken(MEDICAL, "I understand it hurts. You can take two 200 mg tablets every six hours. "
                             "Drink water.", "What should I take for my back pain?")
    assert breaches == ["medical"]
    assert said.startswith("I understand it hurts.") and "pharmacist" in said and "200" not in said
    said, breaches = _spoken(MEDICAL, "I can't advise on that, please ask your pharmacist. Your parcel comes "
                             "on Monday.", "Is it safe to take both?")
    assert breaches == [] and "Monday" in said  # a compliant reply passes untouched


def test_yes_to_a_request_on_the_limited_topic_is_a_breach():
    said, breaches = _spoken(MEDICAL, "Yes, that should work for most people.", "Can I take it with my pills?")
    assert breaches == ["medical"] and not said.lower().startswith("yes")
    _, breaches = _spoken(MEDICAL, "Yes, we deliver on Sundays.", "Do you deliver on Sundays?")
    assert breaches == []


def test_sure_to_a_request_that_asks_nothing_is_no_answer():
    """"I need a refill of my tablets" is on the medical topic but asks nothing: "Sure, may I have
    your date of birth?" takes up the request; a "Sure." to "can I take two?" still answers it."""
    said, breaches = _spoken(MEDICAL, "Sure, may I have your date of birth?", "I need a refill of my blood pressure tablets.")
    assert breaches == [] and said == "Sure, may I have your date of birth?"
    _, breaches = _spoken(MEDICAL, "Sure, that is fine.", "Can I just take two a day?")
    assert breaches == ["medical"]


def test_a_stock_refusal_to_a_caller_who_asked_nothing_goes_on_with_the_procedure():
    """The 1.5B model answered "Room four one two." with "I'm sorry, but I can't assist with that.":
    the caller hears the step the call is at; a refusal to a question on a limited topic gets the
    limit's line, as before."""
    from parley.config import ProcedureStep

    steps = [ProcedureStep(id="ask_room", instruction="Ask for the room number.", check="room number",
                           say="What is your room number?"),
             ProcedureStep(id="ask_name", instruction="Ask for the name on the booking.", check=r"\bname\b",
                           say="And the name on the booking?", requires=["ask_room"])]
    tracker = ProcedureTracker(steps)
    tracker.observe(1, "Of course. What is your room number?")
    gate = ReplyGate(tracker, 0, LimitGuard(active_limits(MEDICAL, [])))
    text = "I'm sorry, but I can't assist with that."
    v = gate.check(text, Clause(text, 0, len(text)), "Room four one two.")
    assert v.text == "And the name on the booking?" and v.guarded[0].id == "ask_name" and not v.more
    v = gate.check(text, Clause(text, 0, len(text)), "How many tablets can I take?")
    assert v.breach is not None and "pharmacist" in v.text


def test_a_step_without_a_say_line_is_spoken_from_its_instruction():
    """A stock refusal at a step with no `say` stood ("I'm sorry, but I can't assist with that." to
    "It's under Priya Raman."): an instruction of a known shape is said to the caller instead."""
    from parley.config import ProcedureStep
    from parley.dialogue.procedure import spoken_line

    def line(instruction: str) -> str | None:
        return spoken_line(ProcedureStep(id="s", instruction=instruction, check="x"))

    assert line("When a member calls about a lost badge, ask for their membership number.") == \
        "Could I have your membership number, please?"
    assert line("Then ask the caller which branch they usually visit.") == \
        "Could you tell me which branch you usually visit?"
    assert line("Finally, tell the customer that their badge is cancelled and a new one is on its way.") == \
        "Your badge is cancelled and a new one is on its way."
    assert line("Offer a discount to stay.") is None
    steps = [ProcedureStep(id="ask_badge", instruction="Ask for their membership number.", check="membership number"),
             ProcedureStep(id="cancel", instruction="Then confirm that the badge is cancelled.", check="cancelled",
                           requires=["ask_badge"])]
    tracker = ProcedureTracker(steps)
    tracker.observe(1, "What is your membership number?")
    text = "I'm sorry, but I can't assist with that."
    v = ReplyGate(tracker, 0).check(text, Clause(text, 0, len(text)), "Four four one nine.")
    assert v.text == "The badge is cancelled." and v.guarded[0].id == "cancel"


def test_yes_after_a_talkers_opener_still_answers_the_request():
    """A hybrid's talker says "Let's see." before the thinker's draft: the draft's "Yes." is still
    the answer to "promise me a refund", so it is a breach; a "yes" later in the answer is not."""
    persona = "You are Riley. You must never promise, guarantee or confirm a refund."
    gate = ReplyGate(ProcedureTracker([]), 0, LimitGuard(active_limits(persona, [])))
    splitter = ClauseSplitter(3, 6)
    opener = splitter.whole("Let's see.")
    assert gate.check(splitter.text, opener, "Promise me a full refund. Yes or no?").breach is None
    answer_from = len(splitter.text)
    clause = (splitter.feed("Yes. ") + splitter.flush())[0]
    v = gate.check(splitter.text, clause, "Promise me a full refund. Yes or no?", answer_from)
    assert v.breach is not None and v.breach.limit == "refund_promise" and not v.more
    splitter = ClauseSplitter(3, 6)
    first, later = splitter.feed("The returns team will review it. Yes, they will call you. ") + splitter.flush()
    assert gate.check(splitter.text, later, "Promise me a refund.").breach is None


def test_other_customers_data_in_the_persona_is_never_read_out_unless_the_caller_said_it():
    said, breaches = _spoken(PRIVACY, "Sure, his order is 7 7 3 1 0 and it goes to Mill Lane.", "What did Tomas order?")
    assert breaches == ["other_customers"] and "7 7 3" not in said
    _, breaches = _spoken(PRIVACY, "Order 7 7 3 1 0 is on its way to you.", "My order is 77310, where is it?")
    assert breaches == []


def test_configured_limits_take_regexes_and_a_line():
    said, breaches = _spoken(DEFAULT_PERSONA, "Sure, use code SAVE20 at checkout.", "Any discount?",
                             [Limit(id="no_codes", forbid=[r"\bcode [A-Z0-9]{4,}"], say="I can't give out codes.")])
    assert breaches == ["no_codes"] and said == "I can't give out codes."


FINANCE = ("You are Alex at a bank's card services. You must never give investment or financial advice; "
           "suggest an independent financial adviser instead.")


def test_investment_advice_is_replaced_under_a_persona_that_forbids_financial_advice():
    assert [l.id for l in active_limits(FINANCE, [])] == ["financial"]
    for draft in ("Gold is a safe investment this year, but prices move.", "You should put your savings in tech shares.",
                  "I'd recommend buying an index fund."):
        said, breaches = _spoken(FINANCE, draft, "Should I invest my savings?")
        assert breaches == ["financial"] and "adviser" in said, draft
    _, breaches = _spoken(FINANCE, "I can't advise on investments; your card limit can be raised in the app.",
                          "How do I raise my card limit?")
    assert breaches == []
    for caller, draft in (("Can I open a savings account online?", "Yes, you can open a savings account in the app."),
                          ("Can I move money to my other account?", "You can move your money between accounts anytime."),
                          ("Which delivery should I pick?", "Express delivery is a good option if you need the card soon.")):
        _, breaches = _spoken(FINANCE, draft, caller)
        assert breaches == [], draft  # everyday banking is not investment advice


def test_specifics_of_doubtful_knowledge_are_never_said_however_spelled_unless_the_caller_said_them():
    def spoken(draft, caller):
        gate = ReplyGate(ProcedureTracker([]), 0, LimitGuard(active_limits(DEFAULT_PERSONA, [], withheld=("TL-6082", "SHIP5"))))
        splitter, said, breaches = ClauseSplitter(3, 6), [], []
        for clause in splitter.feed(draft) + splitter.flush():
            v = gate.check(splitter.text, clause, caller)
            breaches += [v.breach.limit] if v.breach else []
            said += [v.clause.text] if v.clause else []
            if not v.more:
                break
        return " ".join(said), breaches

    for draft in ("Standard delivery is free. Your voucher is T L six oh eight two.",
                  "Standard delivery is free. Your voucher is TL6082.", "Standard delivery is free. Use ship 5."):
        said, breaches = spoken(draft, "Any discount code?")
        assert breaches == ["doubtful_knowledge"] and said.startswith("Standard delivery is free.")
        assert "6082" not in said and "oh eight" not in said and "ship" not in said.lower()
    assert spoken("Yes, TL-6082 is the voucher you have.", "I have the voucher TL 6082, is it valid?")[1] == []


def _grounded(grounds: str, heard: str, caller: str, written: str = ""):
    """A guard whose sources are `grounds` (and `written` by the business) and the caller's `heard`
    words, and what a draft comes out as through it (`caller`: the turn it answers)."""
    guard = LimitGuard([], ground_numbers=True)
    guard.grounds, guard.written = grounds, written
    guard.heard_from_caller(heard)
    return guard, lambda draft, turn=caller: _spoken(DEFAULT_PERSONA, draft, turn, guard=guard)


def test_a_clock_time_no_source_gave_is_not_spoken():
    hours = "The Reno outlet is open Thursday to Sunday, 11 to 5; the cafe closes at noon, the bakery at 5.30pm."
    _, spoken = _grounded(hours, "Book the car in at half past two. Sorry, make it quarter past three.",
                          "What time is my car booked in for?", written=hours)
    said, breaches = spoken("Sure. Your car is booked from 10:00 AM to 4:00 PM.")
    assert breaches == ["ungrounded_time"] and said == f"Sure. {UNGROUNDED_TIME_SAY}"
    assert spoken("We open at nine thirty am.")[1] == ["ungrounded_time"]
    for draft in ("Your car is booked for 3:15 PM.", "It was 2:30, then three fifteen.", "Reno opens at 11:00 AM.",
                  "It closes at 5 PM.", "The cafe closes at 12 pm.", "Delivery takes 2 to 3 days.",
                  "The bakery closes at 5:30 PM."):
        assert spoken(draft) == (draft, []), draft


def test_a_number_no_source_gave_the_reply_is_not_spoken():
    guard, spoken = _grounded("Order 58316, for Maria Lopez: shipped on Monday. The helpline is 0800 123 456. "
                              "Express costs $12.99.", "Hi, my order is seven two nine four one.", "What's the number?")

    said, breaches = spoken("Sure. You can reach us at 517-320-4869 any time.")
    assert breaches == ["ungrounded_number"] and said == f"Sure. {UNGROUNDED_SAY}"
    assert spoken("You mentioned order number one two three four five.")[1] == ["ungrounded_number"]
    # the first clause went out before the number came: the line is a self-repair, not a run-on
    gate = ReplyGate(ProcedureTracker([]), 0, guard)
    draft = "My phone number is 1-800-555-1234."
    verdict = gate.check(draft, Clause("1-800-555-1234.", 19, len(draft)), "What is your phone number?")
    assert verdict.text == f"My phone number is — {UNGROUNDED_SAY}" and verdict.clause.text == UNGROUNDED_SAY
    for draft in ("Order 5 8 3 1 6 shipped on Monday.", "Your order 72941 is on its way.",
                  "The helpline is 0800 123 456, open every day.", "It arrives on March 16th, 2027, in room 214.",
                  "It takes about 15-20 minutes and costs $12.99."):
        assert spoken(draft) == (draft, []), draft
    assert spoken("Your card ends in 4417.", "The card ends in 4 4 1 7.")[1] == []  # this turn's words count too
    assert spoken("Order 91473 is cancelled.", "91473 91473")[1] == []  # a number the caller said twice is theirs
    text = "Call 0800 123 456 today."  # a number cut across two clauses is judged whole
    assert guard.check(text, 0, len("Call 0800 123"), "") is None and guard.check(text, 14, len(text), "") is None
    text = "Call 0800 999 456 today."
    assert guard.check(text, 0, len("Call 0800 999"), "") is not None


def test_a_stock_refusal_on_a_limited_topic_becomes_the_personas_own_line():
    """"I'm sorry, but I can't assist with that." sends a caller nowhere; on the limit's topic the
    persona's line does ("ask a pharmacist"). Off the topic the model's words stand."""
    said, breaches = _spoken(MEDICAL, "I'm sorry, but I can't assist with that.", "How many tablets can I take?")
    assert breaches == ["medical"] and "pharmacist" in said
    gate = ReplyGate(ProcedureTracker([]), 0, LimitGuard(active_limits(MEDICAL, [])))
    text = "I'm sorry, but I can't assist with that."  # released as two clauses
    assert gate.check(text, Clause("I'm sorry,", 0, 10), "Can I take two?").breach is None
    assert gate.check(text, Clause("but I can't assist with that.", 11, len(text)), "Can I take two?").breach
    said, breaches = _spoken(MEDICAL, "I'm sorry, but I can't assist with that.", "When will my delivery arrive?")
    assert breaches == [] and said == "I'm sorry, but I can't assist with that."


def test_what_another_customer_did_is_not_stated():
    said, breaches = _spoken(PRIVACY, "Tomas ordered the same shoes, but he gave me a different address.",
                             "My neighbour Tomas ordered the same shoes. What address did he give you?")
    assert breaches == ["other_customers"] and "address" not in said
    said, breaches = _spoken(PRIVACY, "We can send the gift to his address.",
                             "It's a gift for my son. Can you send it to his address?")
    assert breaches == []  # the caller's own errand for someone else is not another customer's data


def test_when_the_money_is_back_is_not_promised():
    persona = "You are Riley. You must never promise, guarantee or confirm a refund, and never say when money will arrive."
    said, breaches = _spoken(persona, "I understand. If you don't get it by Friday, we'll be back on your card by then.",
                             "Will it be back on my card by Friday?")
    assert breaches == ["refund_promise"] and "back on your card" not in said


def test_a_rate_or_a_price_nobody_gave_is_not_quoted():
    """Asked what a savings account pays, the 1.5B model quoted "around 0.5% to 1%" from its
    training; a figure the prompt holds passes, in any spoken shape."""
    guard = LimitGuard([], ground_numbers=True)
    guard.grounds = "Regular savings pay 1.5% a year. The stroller costs $249.99. Half price for three months."
    for text in ("It is usually around 0.5% to 1%.", "It costs twenty dollars.", "That is $12.99."):
        assert guard.check(text, 0, len(text), "") is not None, text
    for text in ("It pays 1.5 percent a year.", "It is two hundred forty-nine dollars and ninety-nine cents.",
                 "You would pay 50% for three months.", "We open at 9 tomorrow."):
        assert guard.check(text, 0, len(text), "") is None, text


def test_investing_called_a_good_choice_is_advice():
    persona = "You are Sam at a credit union. You must not give investment advice of any kind."
    said, breaches = _spoken(persona, "Index funds can be a good choice for your savings.",
                             "Would index funds be a smarter place for it?")
    assert breaches == ["financial"] and "adviser" in said
    _, breaches = _spoken(persona, "That's a good idea. Our branch opens at nine.", "Can I visit the branch today?")
    assert breaches == []



BOILERS = ("You are Ana at Hearth Boilers. You book repairs and answer questions about our services. "
           "Never promise an engineer's arrival time; the scheduling team texts the customer a window on the "
           "morning of the visit. Do not quote prices over the phone: a surveyor gives a written quote after the "
           "visit. Never discuss other companies, and never keep a caller waiting a long time.")


def test_a_prohibition_whose_object_is_a_kind_of_value_forbids_stating_one():
    """No built-in knows boilers: the persona's own rules say what may not be stated (a time, a
    price), and the line spoken instead is made from the rule, said to the caller."""
    limits = active_limits(BOILERS, [])
    assert [l.id for l in limits] == ["persona_dates", "persona_prices"]
    assert limits[0].say == ("I'm sorry, I can't promise an engineer's arrival time: the scheduling team texts you "
                             "a window on the morning of the visit.")
    assert limits[1].say == ("I'm sorry, I can't quote prices over the phone: a surveyor gives a written quote "
                             "after the visit.")
    for draft, caller in [("Thanks for waiting. The engineer should be with you by Thursday.", "When can someone come?"),
                          ("Thanks for waiting. It normally takes two to three working days.", "How soon can you fix it?"),
                          ("Thanks for waiting. Probably next week, I'd say.", "Is it this week or next?"),
                          ("Thanks for waiting. Usually the day after you call.", "When can someone come?"),
                          ("Thanks for waiting. Often on the same day.", "How soon can you fix it?")]:
        said, breaches = _spoken(BOILERS, draft, caller)
        assert breaches == ["persona_dates"], draft
        assert said.startswith("Thanks for waiting.") and "scheduling team texts you" in said
    said, breaches = _spoken(BOILERS, "That usually costs about 80 pounds.", "How much is a boiler service?")
    assert breaches == ["persona_prices"] and "80" not in said


def test_a_clause_about_the_past_or_without_a_value_passes_a_stated_rule():
    for draft in ("I see you booked the repair two weeks ago.", "I can book a surveyor visit for you.",
                  "Let me check that for you."):
        said, breaches = _spoken(BOILERS, draft, "When is my engineer coming?")
        assert breaches == [] and said == draft
    _, breaches = _spoken(BOILERS, "Yes, it will be tomorrow.", "Is it tomorrow?")
    assert breaches == ["persona_dates"]
    # rules whose object is no kind of value, or that forbid no statement, get no detector
    assert [l.id for l in active_limits("Never discuss competitors. Never keep a caller waiting a long time.", [])] == []


def test_the_businesss_own_written_hours_are_said_under_a_rule_against_promising_times():
    persona = ("You are Noor at a kitchen showroom. Never promise a delivery day: our courier books it with the "
               "customer. The showroom is open nine to six, Monday to Saturday, and closed on Sundays.")
    guard = LimitGuard(active_limits(persona, []))
    guard.written = without_rules(persona)
    said, breaches = _spoken(persona, "We're open until six pm on Saturdays.", "When do you close on Saturday?",
                             guard=guard)
    assert breaches == [] and said == "We're open until six pm on Saturdays."
    _, breaches = _spoken(persona, "Your worktop should arrive on Saturday.", "When will it come?", guard=guard)
    assert breaches == ["persona_dates"]


def test_the_reason_a_rule_gives_is_the_businesss_own_word_and_may_be_repeated():
    """"Never promise an installation date: the fitter phones the customer the day before." — a
    reply that repeats the reason states no date of its own; one that names a day still does."""
    persona = ("You are Kai at a flooring shop. Never promise an installation date: the fitter phones the customer "
               "the day before.")
    guard = LimitGuard(active_limits(persona, []))
    guard.written = without_rules(persona)
    said, breaches = _spoken(persona, "I can't promise a date. The fitter phones you the day before.",
                             "When will you fit my floor?", guard=guard)
    assert breaches == [] and said == "I can't promise a date. The fitter phones you the day before."
    _, breaches = _spoken(persona, "The fitter can come the next day.", "When will you fit my floor?", guard=guard)
    assert breaches == ["persona_dates"]


def test_a_reply_that_winds_up_the_call_with_a_step_to_do_does_the_step():
    """ "I've confirmed that your order number is 91473. Is there anything else I can help you
    with?" where the order was to be cancelled: the closing gives way to the open step. A step that
    waits on a condition, or a procedure not begun, is never forced."""
    from parley.config import ProcedureStep

    def said(steps, agent_did: str, draft: str) -> str:
        tracker = ProcedureTracker(steps)
        if agent_did:
            tracker.observe(1, agent_did)
        gate, splitter, out = ReplyGate(tracker, 0), ClauseSplitter(3, 6), []
        for clause in splitter.feed(draft) + splitter.flush():
            v = gate.check(splitter.text, clause, "Four four one nine.")
            out += [v.clause.text] if v.clause else []
            if not v.more:
                break
        return " ".join(out)

    badge = [ProcedureStep(id="ask", instruction="Ask for their membership number.", check="membership number"),
             ProcedureStep(id="cancel", instruction="Then confirm that the badge is cancelled.", check="cancel",
                           requires=["ask"])]
    draft = "I've noted your membership number, 4419. Is there anything else I can help you with?"
    assert said(badge, "What is your membership number?", draft) == \
        "I've noted your membership number, 4419. The badge is cancelled."
    assert said(badge, "", draft) == draft  # nothing of the procedure begun: the caller called about something else
    done = "Your badge is cancelled. Is there anything else I can help you with?"
    assert said(badge, "What is your membership number?", done) == done
    waits = [badge[0], ProcedureStep(id="refund", instruction="If they decline the exchange, confirm the refund.",
                                     check="refund", requires=["ask"])]
    assert said(waits, "What is your membership number?", draft) == draft


def test_a_line_said_after_the_replys_own_apology_does_not_apologise_twice():
    said, breaches = _spoken(BOILERS, "I'm sorry, but I can't assist with that.", "When can the engineer come?")
    assert breaches == ["persona_dates"]
    assert said == ("I'm sorry, I can't promise an engineer's arrival time: the scheduling team texts you a window "
                    "on the morning of the visit.")


def test_a_line_said_after_the_replys_own_apology_goes_on_from_it():
    from parley.dialogue.reply_gate import _instead

    draft = "I'm sorry, but I can't assist with that."
    start = len("I'm sorry, ")
    step_line = "Thank you. And the name on the booking?"
    spoken, clause = _instead(draft, Clause(draft[start:], start, len(draft)), step_line)
    assert spoken == "I'm sorry, thank you. And the name on the booking?"
    assert clause.text == "thank you. And the name on the booking?"
    # a name keeps its capital
    assert _instead(draft, Clause(draft[start:], start, len(draft)), "Dr Patel's team will call you.")[0] == \
        "I'm sorry, Dr Patel's team will call you."
