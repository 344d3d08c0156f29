"""The OpenAI Realtime protocol at parley's edge: session settings, audio formats and server events.

Only this module knows the wire's names. Both generations of the protocol are read — the GA shape
(`session.audio.input.format = {"type": "audio/pcm", "rate": 24000}`) and the beta one
(`input_audio_format = "pcm16"`) — and the GA shape is written, with the beta event names accepted
from clients (`response.audio.delta` is a server name only in beta; clients never send it).

Audio is 16 kHz float inside parley and converted here, in streaming resamplers kept per direction,
so a chunk boundary never clicks (`audio.resample.StreamResampler`, a few ms of delay): `pcm16` at 24 kHz, and `g711_ulaw` / `g711_alaw` at 8 kHz.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.audio import g711
from parley.audio.frame import SAMPLE_RATE
from parley.audio.resample import StreamResampler
from parley.config import TurnTakingConfig

# wire format → (sample rate, GA type)
FORMATS = {"pcm16": (24000, "audio/pcm"), "g711_ulaw": (8000, "audio/pcmu"), "g711_alaw": (8000, "audio/pcma")}
_GA_NAMES = {ga: beta for beta, (_rate, ga) in FORMATS.items()}
EAGERNESS = {"low": "low", "medium": "medium", "high": "high", "auto": "medium"}
SERVER_VAD_DEFAULTS = {"threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500}


class WireError(Exception):
    """A client event parley cannot act on: answered with an `error` event, the session goes on."""

    def __init__(self, message: str, *, code: str = "invalid_value", param: str | None = None,
                 event_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.param, self.event_id = code, param, event_id


def error_body(err: WireError, kind: str = "invalid_request_error") -> dict[str, Any]:
    """The `error` of an `error` event; `kind` server_error for parley's own failures."""
    return {"type": kind, "code": err.code, "message": str(err), "param": err.param, "event_id": err.event_id}


def _format_name(value: Any, param: str) -> str:
    """A format as the beta name, from either the beta string or the GA object."""
    if isinstance(value, str) and value in FORMATS:
        return value
    if isinstance(value, dict) and value.get("type") in _GA_NAMES:
        name = _GA_NAMES[value["type"]]
        rate = value.get("rate")
        if rate is not None and rate != FORMATS[name][0]:
            raise WireError(f"{value['type']} is supported at {FORMATS[name][0]} Hz only, not {rate}.", param=param)
        return name
    raise WireError(f"Unsupported audio format {value!r}: use pcm16 (24 kHz), g711_ulaw or g711_alaw.", param=param)


@dataclass
class SessionSettings:
    """What a client may set with `session.update`, as parley applies it."""

    instructions: str | None = None
    input_format: str = "pcm16"
    output_format: str = "pcm16"
    turn_detection: dict | None = field(default_factory=lambda: {"type": "semantic_vad", "eagerness": "medium"})
    voice: str = "parley"
    model: str = "parley"

    def update(self, session: Any) -> list[str]:
        """Merge a `session.update`'s `session` object (GA or beta shape); returns what changed.
        Raises WireError, leaving the settings as they were, when any field is unusable."""
        if not isinstance(session, dict):
            raise WireError("session.update needs a `session` object.", param="session")
        new = SessionSettings(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        audio = session.get("audio") if isinstance(session.get("audio"), dict) else {}
        inp = audio.get("input") if isinstance(audio.get("input"), dict) else {}
        out = audio.get("output") if isinstance(audio.get("output"), dict) else {}
        if "instructions" in session:
            if not isinstance(session["instructions"], str):
                raise WireError("instructions must be a string.", param="session.instructions")
            new.instructions = session["instructions"]
        for param, value in (("session.input_audio_format", session.get("input_audio_format")),
                             ("session.audio.input.format", inp.get("format"))):
            if value is not None:
                new.input_format = _format_name(value, param)
        for param, value in (("session.output_audio_format", session.get("output_audio_format")),
                             ("session.audio.output.format", out.get("format"))):
            if value is not None:
                new.output_format = _format_name(value, param)
        for holder, param in ((session, "session.turn_detection"), (inp, "session.audio.input.turn_detection")):
            if "turn_detection" in holder:
                new.turn_detection = _turn_detection(holder["turn_detection"], param)
        for value in (session.get("voice"), out.get("voice")):
            if isinstance(value, str):
                new.voice = value
        if isinstance(session.get("model"), str):
            new.model = session["model"]
        changed = [k for k in self.__dataclass_fields__ if getattr(new, k) != getattr(self, k)]
        self.__dict__.update(new.__dict__)
        return changed

    def turn_taking(self, base: TurnTakingConfig) -> TurnTakingConfig:
        """parley's turn-taking for these settings (None turn detection: the VAD still runs for
        barge-in bookkeeping but the client decides turns)."""
        tt = base.model_copy(deep=True)
        td = self.turn_detection
        if td is None:
            return tt
        tt.barge_in = bool(td.get("interrupt_response", True))
        if td["type"] == "server_vad":
            tt.endpoint.predict = False
            tt.vad.threshold = float(td["threshold"])
            tt.vad.neg_threshold = min(tt.vad.neg_threshold, max(0.05, tt.vad.threshold - 0.15))
            tt.vad.preroll_ms = int(td["prefix_padding_ms"])
            tt.endpoint.end_of_turn_ms = int(td["silence_duration_ms"])
        else:
            tt.endpoint.predict = True
            tt.endpoint.eagerness = EAGERNESS[td.get("eagerness", "auto")]
        return tt

    def wire(self) -> dict[str, Any]:
        """The session object of `session.created` / `session.updated` (GA shape)."""
        def fmt(name: str) -> dict:
            rate, ga = FORMATS[name]
            return {"type": ga, "rate": rate} if name == "pcm16" else {"type": ga}

        return {
            "type": "realtime", "object": "realtime.session", "id": "", "model": self.model,
            "output_modalities": ["audio"], "instructions": self.instructions or "",
            "audio": {
                "input": {"format": fmt(self.input_format), "turn_detection": self.turn_detection,
                          "transcription": {"model": "parley-whisper"}},
                "output": {"format": fmt(self.output_format), "voice": self.voice},
            },
        }


def _turn_detection(value: Any, param: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("server_vad", "semantic_vad"):
        raise WireError("turn_detection must be null, {\"type\": \"server_vad\"} or {\"type\": \"semantic_vad\"}.",
                        param=param)
    td = {"type": value["type"], "create_response": True,
          "interrupt_response": bool(value.get("interrupt_response", True))}
    if value.get("create_response") is False:
        raise WireError("create_response false is not supported: parley answers every turn it detects; "
                        "use turn_detection null to decide turns yourself.", code="unsupported", param=param)
    if value["type"] == "semantic_vad":
        eagerness = value.get("eagerness", "auto")
        if eagerness not in EAGERNESS:
            raise WireError(f"eagerness must be one of {', '.join(EAGERNESS)}.", param=param + ".eagerness")
        td["eagerness"] = eagerness
        return td
    for key, default in SERVER_VAD_DEFAULTS.items():
        v = value.get(key, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v) or v < 0 \
                or (key == "threshold" and v > 1) or (key != "threshold" and v > 10_000):
            raise WireError(f"{key} must be a number in range.", param=f"{param}.{key}")
        td[key] = v
    return td


class AudioIn:
    """Client audio (base64 in the session's input format) → 16 kHz float, streaming."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.rate = FORMATS[fmt][0]
        self._resample = StreamResampler(self.rate, SAMPLE_RATE)
        self._odd = b""  # a pcm16 byte split across two appends

    def decode(self, b64: Any) -> np.ndarray:
        if not isinstance(b64, str):
            raise WireError("audio must be a base64 string.", param="audio")
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise WireError("audio is not valid base64.", param="audio") from None
        if self.fmt == "pcm16":
            raw, self._odd = self._odd + raw, b""
            if len(raw) % 2:
                raw, self._odd = raw[:-1], raw[-1:]
            pcm = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        elif self.fmt == "g711_ulaw":
            pcm = g711.ulaw_decode(np.frombuffer(raw, dtype=np.uint8))
        else:
            pcm = g711.alaw_decode(np.frombuffer(raw, dtype=np.uint8))
        return self._resample(pcm)


class AudioOut:
    """parley's 16 kHz float → base64 in the session's output format, streaming."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.rate = FORMATS[fmt][0]
        self._resample = StreamResampler(SAMPLE_RATE, self.rate)
        self.samples = 0  # wire samples sent, for the audio_end_ms of a truncation

    def encode(self, pcm: np.ndarray) -> str:
        out = self._resample(pcm)
        self.samples += len(out)
        if self.fmt == "pcm16":
            raw = (np.clip(out, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        elif self.fmt == "g711_ulaw":
            raw = g711.ulaw_encode(out).tobytes()
        else:
            raw = g711.alaw_encode(out).tobytes()
        return base64.b64encode(raw).decode("ascii")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Outbox:
    """Server events, each stamped with a fresh `event_id`."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "event_id": f"event_{self._prefix}{next(self._n)}", **fields}


def user_item(item_id: str, *, transcript: str | None = None, text: str | None = None,
              status: str = "completed") -> dict[str, Any]:
    content = ({"type": "input_text", "text": text} if text is not None
               else {"type": "input_audio", "transcript": transcript})
    return {"id": item_id, "object": "realtime.item", "type": "message", "role": "user", "status": status,
            "content": [content]}


def assistant_item(item_id: str, *, transcript: str = "", status: str = "in_progress") -> dict[str, Any]:
    return {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant", "status": status,
            "content": [{"type": "output_audio", "transcript": transcript}]}


def response_object(resp_id: str, *, status: str, output: list | None = None,
                    reason: str | None = None, metadata: dict | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"id": resp_id, "object": "realtime.response", "status": status,
                         "output": output or [], "output_modalities": ["audio"], "conversation_id": None}
    if reason is not None:
        r["status_details"] = {"type": status, "reason": reason}
    if metadata:
        r["metadata"] = metadata
    return r
