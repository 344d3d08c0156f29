from parley.audio.frame import FRAME_SECONDS
from parley.config import EndpointConfig, VADConfig
from parley.duplex.endpointing import Signal, SilenceEndpointer


def run(probs, **kw):
    kw.setdefault("predict", False)
    ep = SilenceEndpointer(VADConfig(), EndpointConfig(**kw))
    out = []
    for i, p in enumerate(probs):
        out += [(e.signal, round(e.t / FRAME_SECONDS)) for e in ep.step(i * FRAME_SECONDS, p)]
    return out


def test_speculates_on_first_silence_and_ends_turn_after_timeout():
    sigs = run([0.0] * 3 + [0.9] * 20 + [0.0] * 30, speculate_after_ms=96, end_of_turn_ms=600)
    assert [s for s, _ in sigs] == [Signal.SPEECH_STARTED, Signal.PAUSED, Signal.END_OF_TURN]
    assert sigs[0][1] == 3 and sigs[1][1] == 23 and sigs[2][1] == 23  # times are the audio's, not the decision's


def test_short_pause_resumes_instead_of_ending_the_turn():
    sigs = run([0.9] * 10 + [0.0] * 8 + [0.9] * 10 + [0.0] * 30, end_of_turn_ms=600)
    assert [s for s, _ in sigs] == [Signal.SPEECH_STARTED, Signal.PAUSED, Signal.RESUMED, Signal.PAUSED, Signal.END_OF_TURN]


def test_a_single_click_is_not_speech():
    assert run([0.0] * 5 + [0.95] + [0.0] * 30) == []


def test_with_prediction_the_turn_waits_for_a_decision_or_the_fallback():
    ep = SilenceEndpointer(VADConfig(), EndpointConfig(predict=True, eagerness="medium"))
    sigs = []
    for i, p in enumerate([0.9] * 10 + [0.0] * 80):
        sigs += [(e.signal, i) for e in ep.step(i * FRAME_SECONDS, p)]
        if i == 20:
            assert ep.paused
    assert [s for s, _ in sigs] == [Signal.SPEECH_STARTED, Signal.PAUSED, Signal.END_OF_TURN]
    assert abs((sigs[2][1] - 10 + 1) * FRAME_SECONDS - ep.fallback_s) < 2 * FRAME_SECONDS  # undecided: fallback

    ep.reset()
    sigs = []
    for i, p in enumerate([0.9] * 10 + [0.0] * 80):
        sigs += [(e.signal, i) for e in ep.step(i * FRAME_SECONDS, p)]
        if ep.paused and ep.wait_s is None:
            ep.decide(0.3)
    assert sigs[2][0] == Signal.END_OF_TURN and (sigs[2][1] - 9) * FRAME_SECONDS < 0.3 + 2 * FRAME_SECONDS
