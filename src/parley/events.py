"""The event contract: every kind of event a parley session emits (docs/architecture.md lists
which each architecture must emit). The log that holds them is `parley.eventlog`; it is imported
here too, so one import gives a module both the kinds and the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from parley.eventlog import Event, EventLog, event_from_dict, read_events  # noqa: F401 - one import for both


# --- session ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionStarted(Event):
    kind: ClassVar[str] = "session_started"
    architecture: str = ""
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SessionEnded(Event):
    kind: ClassVar[str] = "session_ended"


@dataclass(frozen=True)
class ComponentError(Event):
    """A component failed; the session goes on and the transcript is kept."""
    kind: ClassVar[str] = "error"
    component: str = ""
    message: str = ""


# --- ground truth from a simulated user (loopback) -------------------------------------------

@dataclass(frozen=True)
class SimUtterance(Event):
    """Emitted by the loopback when a scripted user line has been played: `t` is its true end."""
    kind: ClassVar[str] = "sim_utterance"
    index: int = 0
    text: str = ""
    start: float = 0.0
    end: float = 0.0
    pauses: list = field(default_factory=list)  # [start, end] of each silence spliced into the line
    answer: bool = False  # the caller answering the agent's read-back, not a scripted turn


@dataclass(frozen=True)
class RecordingStarted(Event):
    """Emitted by a transport when its recording opens: `t` is the clock time of the first sample of
    `conversation.wav`, so anything cut from the recording lines up with the event log."""
    kind: ClassVar[str] = "recording_started"


# --- what the agent perceived ----------------------------------------------------------------

@dataclass(frozen=True)
class UserSpeechStarted(Event):
    kind: ClassVar[str] = "user_speech_started"


@dataclass(frozen=True)
class UserSpeechStopped(Event):
    """The VAD first hears silence; `t` is the estimated end of speech (not when it was noticed)."""
    kind: ClassVar[str] = "user_speech_stopped"
    noticed: float = 0.0


@dataclass(frozen=True)
class AsrPartial(Event):
    kind: ClassVar[str] = "asr_partial"
    text: str = ""
    audio_s: float = 0.0


@dataclass(frozen=True)
class AsrSegment(Event):
    """The head of a long turn transcribed for good (`components/asr/stream.py`): later transcripts
    start with it and the audio buffer drops it."""
    kind: ClassVar[str] = "asr_segment"
    text: str = ""
    audio_s: float = 0.0
    compute_ms: float = 0.0


@dataclass(frozen=True)
class ProcedureStepDone(Event):
    """A procedure step the user heard the agent do; `in_order` is false when a step it requires
    had not been done yet (a skipped gate). `by` is "caller" for an asking step whose value the
    caller gave before the agent asked (`procedure.given`)."""
    kind: ClassVar[str] = "procedure_step"
    turn: int = 0
    step: str = ""
    in_order: bool = True
    by: str = "agent"


@dataclass(frozen=True)
class ProcedureGuard(Event):
    """A reply was about to do `step` before its gate `gate`: the clause was dropped and the gate's
    line said instead (`said`). `step` equal to `gate`: the model's stock refusal to a caller who
    asked nothing gave way to the step the call is at."""
    kind: ClassVar[str] = "procedure_guard"
    turn: int = 0
    step: str = ""
    gate: str = ""
    dropped: str = ""
    said: str = ""


@dataclass(frozen=True)
class FactStored(Event):
    """A caller's value entered the fact store (canonical, `dialogue/entities.py`), replacing `replaced`."""
    kind: ClassVar[str] = "fact_stored"
    turn: int = 0
    slot: str = ""
    value: str = ""
    replaced: list = field(default_factory=list)


@dataclass(frozen=True)
class ReadBack(Event):
    """The agent read values back for confirmation (`action` confirm: as a question, the LLM not
    called; state: before the LLM's answer), asked for a value that never arrived whole (ask_again),
    or answered a caller's question for their own value from the fact store (recall), or said it was
    never given one of the kind asked for (missing)."""
    kind: ClassVar[str] = "read_back"
    turn: int = 0
    action: str = ""
    values: list = field(default_factory=list)
    said: str = ""


@dataclass(frozen=True)
class LimitBreached(Event):
    """A clause would have broken the persona limit `limit`: it was dropped and `said` spoken instead."""
    kind: ClassVar[str] = "limit_breached"
    turn: int = 0
    limit: str = ""
    dropped: str = ""
    said: str = ""


@dataclass(frozen=True)
class DocumentScreened(Event):
    """Paragraphs of a knowledge document left out of the prompt because the chat model read them
    as orders to the assistant (`dialogue/screen.py`)."""
    kind: ClassVar[str] = "document_screened"
    title: str = ""
    paragraphs: int = 0
    quarantined: list = field(default_factory=list)  # the paragraphs left out (first 200 characters)


@dataclass(frozen=True)
class Retrieval(Event):
    """Knowledge-base passages found for a transcript: `stage` partial (before the end of turn) or
    final; `turn` is the reply that used them (0 for a partial)."""
    kind: ClassVar[str] = "retrieval"
    turn: int = 0
    stage: str = "final"
    query: str = ""
    sources: list = field(default_factory=list)  # document titles, best first
    compute_ms: float = 0.0


@dataclass(frozen=True)
class MemorySummary(Event):
    """The oldest turns (before `folded_turns`) left the prompt, replaced by this rolling summary
    and the caller's verbatim facts."""
    kind: ClassVar[str] = "memory_summary"
    folded_turns: int = 0
    kept_turns: int = 0
    words: int = 0
    text: str = ""
    idle_compute_ms: float = 0.0  # idle compute spent on this fold before its last prefill-aside call


@dataclass(frozen=True)
class AsrFinal(Event):
    kind: ClassVar[str] = "asr_final"
    turn: int = 0
    text: str = ""
    audio_s: float = 0.0
    compute_ms: float = 0.0


@dataclass(frozen=True)
class SpeculationStarted(Event):
    """ASR → LLM → TTS started on the first silence, before the end of turn is decided."""
    kind: ClassVar[str] = "speculation_started"
    turn: int = 0


@dataclass(frozen=True)
class SpeculationCancelled(Event):
    kind: ClassVar[str] = "speculation_cancelled"
    turn: int = 0
    reason: str = ""


@dataclass(frozen=True)
class TurnPrediction(Event):
    """How long to wait in this pause: Smart Turn's P(done), the chat model's P(the words are a
    finished sentence), a transcript cue, the chosen wait."""
    kind: ClassVar[str] = "turn_prediction"
    turn: int = 0
    p_done: float | None = None
    p_final: float | None = None
    cue: str | None = None
    wait_ms: float = 0.0
    text: str = ""


@dataclass(frozen=True)
class TurnEndPredicted(Event):
    """The endpointer decided the user's turn is over; the reply may now be played."""
    kind: ClassVar[str] = "turn_end_predicted"
    turn: int = 0
    silence_ms: float = 0.0


# --- what the agent produced -----------------------------------------------------------------

@dataclass(frozen=True)
class Opener(Event):
    """A line at the start of a reply, said before the answer: a hybrid's talker line, or the engine's
    holding line when the answer is slow to come."""
    kind: ClassVar[str] = "opener"
    turn: int = 0
    text: str = ""
    source: str = "talker"  # talker (dialogue/talker.py) | read_back (the read-back or recall line) | hold


@dataclass(frozen=True)
class LlmRequest(Event):
    kind: ClassVar[str] = "llm_request"
    turn: int = 0
    messages: int = 0


@dataclass(frozen=True)
class LlmFirstToken(Event):
    kind: ClassVar[str] = "llm_first_token"
    turn: int = 0


@dataclass(frozen=True)
class LlmDone(Event):
    kind: ClassVar[str] = "llm_done"
    turn: int = 0
    text: str = ""
    tokens: int = 0
    cancelled: bool = False


@dataclass(frozen=True)
class TtsChunk(Event):
    """One synthesized clause; `start`/`end` are character offsets into the reply text."""
    kind: ClassVar[str] = "tts_chunk"
    turn: int = 0
    text: str = ""
    start: int = 0
    end: int = 0
    duration_s: float = 0.0
    compute_ms: float = 0.0


@dataclass(frozen=True)
class AgentAudioStarted(Event):
    """The first sample of a reply was played (t is that sample's time)."""
    kind: ClassVar[str] = "agent_audio_started"
    turn: int = 0


@dataclass(frozen=True)
class AgentContentStarted(Event):
    """The first sample of a reply's answer, when an opener was played before it (hybrid); without
    this event a reply's content starts with its audio."""
    kind: ClassVar[str] = "agent_content_started"
    turn: int = 0


@dataclass(frozen=True)
class AgentAudioStopped(Event):
    kind: ClassVar[str] = "agent_audio_stopped"
    turn: int = 0
    reason: str = "finished"  # finished | barge_in | cancelled


@dataclass(frozen=True)
class AgentAudioPaused(Event):
    """The agent went silent because the user started speaking over it (possible barge-in)."""
    kind: ClassVar[str] = "agent_audio_paused"
    turn: int = 0


@dataclass(frozen=True)
class AgentAudioResumed(Event):
    """The overlap proved to be a backchannel or a noise: the agent goes on where it stopped."""
    kind: ClassVar[str] = "agent_audio_resumed"
    turn: int = 0


@dataclass(frozen=True)
class Backchannel(Event):
    """A short listener response: `source` user (heard, not a turn) or agent (produced)."""
    kind: ClassVar[str] = "backchannel"
    source: str = "user"
    text: str = ""


@dataclass(frozen=True)
class Acknowledgement(Event):
    """A hybrid's talker acknowledged a pause the moment Smart Turn heard a finished turn, before the
    words were transcribed (t: its first sample). Played like an agent backchannel (turn 0 audio,
    yielding to the caller); when the pause becomes the end of `turn`, it is that reply's first audio."""
    kind: ClassVar[str] = "acknowledgement"
    turn: int = 0
    text: str = ""


@dataclass(frozen=True)
class FloorChange(Event):
    kind: ClassVar[str] = "floor"
    state: str = ""
    previous: str = ""
    cause: str = ""


@dataclass(frozen=True)
class PromptFitted(Event):
    """What of the persona, procedure and knowledge a window-limited remote model was given at
    session start (`unit` tokens of its `window`), and what was left out, by name."""
    kind: ClassVar[str] = "prompt_fitted"
    architecture: str = ""
    window: int = 0
    prompt: int = 0
    unit: str = "tokens"
    dropped: list = field(default_factory=list)


@dataclass(frozen=True)
class AgentTurn(Event):
    """A finished exchange as it entered history: `agent` is exactly the text the user heard."""
    kind: ClassVar[str] = "agent_turn"
    turn: int = 0
    user: str = ""
    agent: str = ""
    interrupted: bool = False
