"""Typed configuration with documented defaults.

Load from a TOML file (`parley --config FILE`), override from the CLI. Every field says what it
controls; the defaults are what `make demo` runs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parley.errors import ParleyError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VADConfig(_Strict):
    threshold: float = Field(0.5, description="P(speech) at or above which a frame is speech.")
    neg_threshold: float = Field(0.35, description="P(speech) below which a frame is silence (hysteresis).")
    min_speech_ms: int = Field(96, description="Speech must last this long before the user is considered speaking.")
    preroll_ms: int = Field(320, description="Audio kept from before speech onset and handed to ASR.")


class EndpointConfig(_Strict):
    speculate_after_ms: int = Field(
        96, description="Silence after which ASR→LLM→TTS starts speculatively (cancelled if speech resumes)."
    )
    predict: bool = Field(
        True, description="Decide the end of turn with Smart Turn + transcript cues; false = fixed silence timeout."
    )
    eagerness: Literal["low", "medium", "high"] = Field(
        "medium", description="How soon to take the floor once the user may be done (scales the waits)."
    )
    end_of_turn_ms: int = Field(
        600, description="Silence that ends the turn when predict is false."
    )
    finality: bool = Field(
        True, description="With predict: also ask the chat model whether the caller's words are a finished "
        "utterance (holds the floor after Whisper's 'two shirts in.' for 'two shirts and')."
    )


class ASRConfig(_Strict):
    window_s: int = Field(10, ge=1, le=30, description="Whisper encodes the audio + 3 s, at least this many seconds, instead of 30 s (~4x less encoder time).")
    partial_interval_s: float = Field(1.0, gt=0, le=60, description="Re-transcribe the growing utterance this often while the user speaks.")
    threads: int = Field(2, ge=1, le=256, description="CTranslate2 CPU threads.")
    beam_size: int = Field(5, ge=1, le=16, description="Beam width of the pass a reply is built on (partials "
                           "are greedy): wider hears unfamiliar voices and phone lines better, at ~50 ms a turn.")
    timeout_s: float = Field(15.0, gt=0, le=600, description="A transcription not answered in this long is a "
                             "stalled recogniser: the turn gets the fallback line and the session goes on.")
    unclear_below: float | None = Field(
        -0.8, ge=-10, le=0, description="A turn whose final transcript has a mean token log-probability below this "
        "is not trusted: the agent asks the caller to say it again (never twice in a row) instead of answering "
        "what it probably misheard, and a pause after such words holds the floor as after unfinished ones. "
        "None: never ask.")
    implausible_below: float | None = Field(
        -6.0, ge=-30, le=0, description="A turn of more than three words that the embedded chat model finds this "
        "improbable (the mean log-probability of its tokens after the conversation so far) is asked for again, as "
        "an unclear one is: Whisper writes fluent-looking nonsense with confidence on voices and lines it hears "
        "badly. Measured with both embedded models (benchmarks/plausibility.py). None: never.")
    read_words_below: float = Field(
        -0.5, ge=-10, le=0, description="The chat model weighs the words' plausibility (`implausible_below`) only "
        "where Whisper's confidence in them is below this: it delays those turns' first word ~0.35 s. 0: every turn.")
    second_opinion_below: float | None = Field(
        -0.5, ge=-10, le=0, description="A final transcript less sure than this (mean token log-probability) is "
        "decoded again by Whisper base, ~0.3 s more, and the surer reading kept: on the voices and lines Whisper "
        "tiny hears worst it is right more often. None: never (Whisper base is then not loaded).")


class LLMConfig(_Strict):
    backend: Literal["llama", "openai"] = Field("llama", description="Embedded llama.cpp or an OpenAI-compatible endpoint.")
    model: str = Field("quality", description="For llama: 'quality' (Qwen2.5 1.5B), 'fast' (0.5B) or a GGUF path. For openai: the served model name.")
    url: str | None = Field(None, description="Base URL of an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1.")
    api_key: str | None = Field(None, description="API key for the endpoint (or set OPENAI_API_KEY).")
    n_ctx: int = Field(8192, ge=1024, le=131072, description="Context window for the embedded model, in tokens (Qwen2.5 supports 32k).")
    threads: int = Field(2, ge=1, le=256, description="llama.cpp threads.")
    max_tokens: int = Field(120, ge=1, le=4096, description="Longest reply, in tokens; spoken replies should be short.")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="An endpoint silent this long is an error (tried again "
                             "twice before the first token).")
    allow_plain_http: bool = Field(
        False, description="Send the API key over plain http to a host that is not this machine (it can be read on the way).")



class TTSConfig(_Strict):
    length_scale: float = Field(1.0, gt=0.2, lt=5, description="Piper speaking rate (> 1 is slower).")
    first_clause_min_words: int = Field(3, description="Words before a comma may release the first clause (latency).")
    clause_min_words: int = Field(6, description="Words before a comma may release a later clause (prosody).")
    first_clause_max_words: int = Field(
        4, description="Cut the first clause after this many words even without punctuation (0 = never)."
    )
    threads: int = Field(2, ge=1, le=256, description="onnxruntime threads for Piper.")
    timeout_s: float = Field(15.0, gt=0, le=600, description="A clause not synthesized in this long is a stalled "
                             "TTS: the reply ends with the (pre-synthesized) fallback line and the session goes on.")


class KnowledgeConfig(_Strict):
    documents: list[str] = Field([], description="Small documents put whole in the system prompt (prefilled once).")
    path: str | None = Field(None, description="Knowledge-base folder (built with `parley kb add`); none = no retrieval.")
    screen: bool = Field(True, description="Have the chat model screen documents for orders to the assistant "
                         "and leave those paragraphs out (dialogue/screen.py); false = the phrase filter alone.")
    top_k: int = Field(2, ge=1, le=20, description="Passages given to the LLM with each user turn.")


def secure_url(url: str) -> bool:
    """https, or plain http to this machine: where a key in a header cannot be read on the way."""
    from urllib.parse import urlparse

    u = urlparse(url)
    return u.scheme in ("https", "wss") or (u.hostname or "") in ("localhost", "127.0.0.1", "::1")


SECRET_KEYS = ("api_key",)


def redacted(data):
    """A config dump with its secrets replaced, for logs and event files."""
    if isinstance(data, dict):
        return {k: ("***" if k in SECRET_KEYS and v else redacted(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redacted(v) for v in data]
    return data


def check_regex(patterns: list[str]) -> list[str]:
    """Validator: every pattern compiles and does not backtrack without end (a scenario or config typo
    is caught before anything runs; `patterns.py`)."""
    from parley.patterns import validate

    return [validate(p) for p in patterns]


READBACK = Literal["email", "spelled", "code", "number", "date", "time", "address"]


class ProcedureStep(_Strict):
    """One step of a procedure the agent must follow; `check` is a regex on the agent's heard words
    showing the step was done, `requires` the steps that must be done first (a gate)."""
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    instruction: str
    check: str
    requires: list[str] = []
    say: str | None = Field(None, description="What the agent says to do this step when a reply tried to skip it.")
    readback: list[READBACK] | None = Field(
        None, description="While this is the first step not done: the values to read back (overrides `readback`).")

    _regex = field_validator("check")(lambda v: check_regex([v])[0])


class Limit(_Strict):
    """Something the agent must never say, checked on every clause before it is spoken
    (`dialogue/limits.py`); `forbid` are regexes on the reply, `say` replaces the clause."""
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    forbid: list[str]
    say: str | None = Field(None, description="What the agent says instead (default: a generic refusal).")

    _regex = field_validator("forbid")(lambda v: check_regex(v))


class TurnTakingConfig(_Strict):
    """How every architecture that uses parley's duplex engine takes and yields the floor: the
    cascade and the hybrid read the same object (`duplex/engine.py`)."""
    vad: VADConfig = VADConfig()
    endpoint: EndpointConfig = EndpointConfig()
    barge_in: bool = Field(True, description="Stop speaking when the user starts talking over the agent.")
    barge_in_confirm_ms: int = Field(
        600, description="Overlapping user speech this long is a barge-in even before it is transcribed; "
        "shorter overlaps are transcribed and, if a backchannel or noise, the agent resumes."
    )
    agent_backchannels: bool = Field(True, description="Say 'mhm' / 'right' at pauses where the user is not done.")
    backchannel_min_interval_s: float = Field(6.0, description="At most one agent backchannel this often (sets the rate).")
    backchannel_min_turn_s: float = Field(2.5, description="Only backchannel once the user has spoken this long in the turn.")
    echo_guard: bool = Field(True, description="Cancel the agent's own voice leaking back into the microphone.")
    hold_after_ms: int = Field(
        2500, ge=0, description="Once the turn is taken, say a short holding line ('One moment.') if no answer "
        "has started after this long (slow compute, a slow endpoint); 0 = stay silent.")


class HybridConfig(_Strict):
    """The Thinker-Talker hybrid (`architectures/hybrid.py`); ignored by other architectures."""
    opener: bool = Field(True, description="The talker opens every reply with a short line that states no fact "
                         "the caller did not say; false = the thinker alone (a cascade with speculation on partials).")
    acknowledge: bool = Field(True, description="The talker says 'mhm' (or 'let's see' to a question) the moment "
                              "Smart Turn hears a finished turn, before the words are transcribed; said like a "
                              "backchannel, so a caller who goes on is not cut off.")


class RealtimeConfig(_Strict):
    """The `realtime` architecture: a client of an OpenAI-Realtime-style endpoint
    (`architectures/realtime/`); ignored by other architectures."""
    url: str | None = Field(None, description="The endpoint's WebSocket URL, e.g. ws://127.0.0.1:8000/v1/realtime "
                            "or wss://api.openai.com/v1/realtime (or set PARLEY_REALTIME_URL).")
    model: str = Field("gpt-realtime", description="The served model, sent as ?model= (or set PARLEY_REALTIME_MODEL).")
    api_key: str | None = Field(None, description="Bearer key for the endpoint (or set OPENAI_API_KEY).")
    turns: Literal["endpoint", "parley"] = Field(
        "endpoint", description="Who decides turns: the endpoint's own turn detection, or parley's duplex engine "
        "(turn_detection null; each turn committed and answered with response.create).")
    turn_detection: Literal["semantic_vad", "server_vad"] = Field(
        "semantic_vad", description="With turns = endpoint: the endpoint's turn detector.")
    eagerness: Literal["low", "medium", "high", "auto"] = Field("auto", description="semantic_vad's eagerness.")
    voice: str | None = Field(None, description="The endpoint's voice name (none: its default).")
    transcription_model: str | None = Field(
        "gpt-4o-mini-transcribe", description="Model the endpoint transcribes the caller with (the heard user text); "
        "none = ask for no transcription.")
    timeout_s: float = Field(15.0, gt=0, le=600, description="Connecting and opening the session may take this long.")
    allow_plain_http: bool = Field(
        False, description="Send the API key over plain ws:// to a host that is not this machine.")


class MoshiConfig(_Strict):
    """The `moshi` and `personaplex` architectures: a client of a Moshi-protocol server
    (`architectures/moshi.py`); ignored by other architectures."""
    url: str | None = Field(None, description="The server's chat URL, e.g. ws://127.0.0.1:8998/api/chat "
                            "(or set PARLEY_MOSHI_URL).")
    voice_prompt: str = Field("", description="PersonaPlex: the voice prompt file name on the server ('' = none).")
    seed: int | None = Field(None, description="PersonaPlex: sampling seed (none: the server's).")
    call_minutes: float = Field(2.0, gt=0, le=60, description="PersonaPlex: the call length the text prompt must "
                                "leave room for in the 240 s window (`parley budget`); what does not fit is left "
                                "out and reported at session start.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="The handshake may take this long, plus the time "
                             "PersonaPlex takes to feed the prompt (one token per 80 ms).")


class AgentConfig(_Strict):
    turn_taking: TurnTakingConfig = TurnTakingConfig()
    asr: ASRConfig = ASRConfig()
    llm: LLMConfig = LLMConfig()
    tts: TTSConfig = TTSConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    procedure: list[ProcedureStep] = Field([], description="Ordered steps, tracked per turn (see docs/scenarios.md).")
    readback: list[READBACK] = Field(
        ["email", "spelled", "code"], description="Values the agent reads back for confirmation as soon as the "
        "caller gives them (dialogue/readback.py); [] = never."
    )
    limits: list[Limit] = Field([], description="Statements the agent must never make (see docs/scenarios.md).")
    persona_limits: bool = Field(
        True, description="Enforce the limits the persona states in prose (medical or legal advice, refund "
        "promises, other customers' data) with the built-in detectors."
    )
    ground_numbers: bool = Field(
        True, description="Never speak a number of 4+ digits that neither the caller, the fact store, the "
        "system prompt nor the retrieved passages gave the reply (an invented phone or order number), nor a clock time "
        "none of them gave (invented opening hours)."
    )
    persona: str | None = Field(None, description="Persona text replacing the default customer-service persona.")
    max_reply_words: int = Field(
        40, description="A spoken reply starts no new sentence that would take it past this many words (0 = no limit)."
    )
    hybrid: HybridConfig = HybridConfig()
    realtime: RealtimeConfig = RealtimeConfig()
    moshi: MoshiConfig = MoshiConfig()

    @model_validator(mode="before")
    @classmethod
    def _turn_taking_moved(cls, data):
        """Configs written before `[turn_taking]` existed keep working: their keys move under it."""
        if isinstance(data, dict) and (moved := [k for k in _TURN_TAKING_KEYS if k in data]):
            data = dict(data)
            section = dict(data.get("turn_taking") or {})
            for key in moved:
                section.setdefault(key, data.pop(key))
            data["turn_taking"] = section
        return data


_TURN_TAKING_KEYS = tuple(TurnTakingConfig.model_fields)


MAX_CONFIG_BYTES = 1_000_000


def load_config(path: Path | None) -> AgentConfig:
    if path is None:
        return AgentConfig()
    try:
        if Path(path).stat().st_size > MAX_CONFIG_BYTES:
            raise ParleyError(f"Config file {path} is larger than {MAX_CONFIG_BYTES} bytes; a config holds "
                              "settings: put long texts in documents and name them in [knowledge].")
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParleyError(f"Config file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParleyError(f"Config file {path} cannot be read ({getattr(exc, 'strerror', None) or exc}); "
                          "check it is a UTF-8 text file you may read.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParleyError(f"Config file {path} is not valid TOML ({exc}); fix the syntax.") from None
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ParleyError(f"Config file {path}: field '{where}': {first['msg']}.") from None
