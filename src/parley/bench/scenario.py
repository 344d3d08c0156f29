"""Bench scenarios: spoken conversations with timing directives and expectations, read from YAML.

The format is documented in docs/scenarios.md. A scenario is validated as a whole before anything
runs; an error names the file, the line and the field (`memory/x.yaml:14: turns.3.pause.ms: …`), so
a typo in a 30-turn script is found in a second, not after ten minutes of synthesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parley.bench.conditions import DEFAULT_CONDITION
from parley.bench.voices import DEFAULT_VOICE, VOICES
from parley.config import Limit, ProcedureStep, check_regex
from parley.errors import ParleyError

SUITES = ("smoke", "memory", "knowledge", "adherence", "turn-taking", "latency", "hearing")
AXES = ("memory", "knowledge", "adherence")


class ScenarioError(ParleyError):
    """A scenario file that cannot be run; the message names file, line and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pause(_Model):
    """A mid-utterance pause: silence of `ms` after word `after_word` (1-based)."""
    after_word: int = Field(ge=1)
    ms: int = Field(ge=100, le=5000)


class Recall(_Model):
    """This reply must repeat a fact the user said in turn `turn` (1-based)."""
    turn: int = Field(ge=1)
    value: str = Field(min_length=1)


class Grounded(_Model):
    """This reply must carry facts from knowledge document `doc`; with `cite`, also name it."""
    doc: str
    mention: list[str] = Field(min_length=1)
    cite: bool = False

    _regex = field_validator("mention")(check_regex)


class Expect(_Model):
    must_mention: list[str] = []
    must_not_mention: list[str] = []
    recall: Recall | None = None
    grounded: Grounded | None = None
    step: str | None = None  # a procedure step reached by this reply, with none of its gates skipped
    axis: Literal["memory", "knowledge", "adherence"] | None = None  # for must_(not_)mention; default: the scenario's

    _regex = field_validator("must_mention", "must_not_mention")(check_regex)


class UserTurn(_Model):
    say: str = Field(min_length=1)
    gap_ms: int = Field(800, ge=0, le=30000)  # silence after the agent finished before this turn starts
    pause: Pause | None = None
    pauses: list[Pause] = []  # several mid-utterance pauses, in order
    monologue: bool = False  # a long telling (≥ 20 s, with pauses): the agent should only backchannel
    backchannel_ms: int | None = Field(None, ge=0)  # said this long into the agent's reply; should be ignored
    barge_in_ms: int | None = Field(None, ge=0)     # said this long into the agent's reply; takes the floor
    readback: str | None = None  # the true value said in this turn: the caller confirms a right read-back, corrects a wrong one
    expect: Expect | None = None

    @model_validator(mode="after")
    def _directives(self) -> "UserTurn":
        if self.backchannel_ms is not None and self.barge_in_ms is not None:
            raise ValueError("a turn is either a backchannel or a barge-in, not both")
        if self.pause is not None and self.pauses:
            raise ValueError("give either `pause` or `pauses`, not both")
        words = len(self.say.split())
        after = [p.after_word for p in self.all_pauses]
        if any(a >= words for a in after):
            raise ValueError(f"pause.after_word must be less than the {words} words of `say`")
        if after != sorted(set(after)):
            raise ValueError("pauses must come after increasing words")
        if self.monologue and (not after or self.backchannel_ms is not None or self.barge_in_ms is not None):
            raise ValueError("a monologue is a turn of its own with at least one pause")
        if self.backchannel_ms is not None and self.expect is not None:
            raise ValueError("a backchannel gets no reply, so it can carry no expectations")
        return self

    @property
    def all_pauses(self) -> list[Pause]:
        return [self.pause] if self.pause is not None else list(self.pauses)

    @property
    def kind(self) -> str:
        """The turn-taking situation this turn creates (bench/turn_metrics.py)."""
        if self.backchannel_ms is not None:
            return "backchannel"
        if self.barge_in_ms is not None:
            return "interruption"
        if self.monologue:
            return "monologue"
        return "pause" if self.all_pauses else "smooth"


Step = ProcedureStep  # the agent's own procedure type: a scenario hands its steps to the agent as they are


class PersonaChecks(_Model):
    max_words: int | None = Field(None, ge=1)  # per reply: spoken answers are short
    forbid: list[str] = []  # e.g. markdown that only reads well as text

    _regex = field_validator("forbid")(check_regex)


class Scenario(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    suites: list[Literal["smoke", "memory", "knowledge", "adherence", "turn-taking", "latency", "hearing"]] = Field(min_length=1)
    axis: Literal["memory", "knowledge", "adherence"] | None = None
    echo: bool = False  # the same as `condition: echo` (kept for older scenarios)
    voice: str | None = None  # the caller's voice (`parley voices`); default joe
    condition: Literal["clean", "phone", "noisy", "echo"] | None = None  # the line the caller is on; default clean
    persona: str | None = None
    persona_checks: PersonaChecks | None = None
    knowledge: list[str] = []  # paths relative to the scenario file
    retrieval: bool = False  # index `knowledge` and retrieve per turn, instead of putting it all in the prompt
    context_tokens: int | None = Field(None, ge=1024)  # the agent's window: a small one makes a short call outgrow it
    procedure: list[Step] = []
    limits: list[Limit] = []  # statements the agent must never make, beyond those its persona states
    turns: list[UserTurn] = Field(min_length=1)
    path: Path | None = Field(None, exclude=True)

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, v: str | None) -> str | None:
        if v is not None and v not in VOICES:
            raise ValueError(f"unknown voice {v!r}: use one of {', '.join(VOICES)}")
        return v

    @property
    def own_voice(self) -> str:
        return self.voice or DEFAULT_VOICE

    @property
    def own_condition(self) -> str:
        return self.condition or ("echo" if self.echo else DEFAULT_CONDITION)

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        if self.echo and self.condition not in (None, "echo"):
            raise ValueError(f"`echo: true` is the echo condition; it cannot be combined with condition {self.condition!r}")
        ids = [s.id for s in self.procedure]
        for i, step in enumerate(self.procedure):
            for r in step.requires:
                if r not in ids[:i]:
                    raise ValueError(f"procedure step {step.id!r} requires {r!r}, which is not an earlier step")
        docs = {Path(k).name for k in self.knowledge}
        for n, turn in enumerate(self.turns, 1):
            e = turn.expect
            if e is None:
                continue
            if e.recall and e.recall.turn >= n:
                raise ValueError(f"turn {n} recalls turn {e.recall.turn}, which is not an earlier turn")
            if e.step and e.step not in ids:
                raise ValueError(f"turn {n} expects step {e.step!r}, which the procedure does not define")
            if e.grounded and e.grounded.doc not in docs:
                raise ValueError(f"turn {n} expects document {e.grounded.doc!r}, which `knowledge` does not list")
        if self.turns[0].kind in ("backchannel", "interruption"):
            raise ValueError("the first turn cannot overlap an agent reply: there is none yet")
        return self

    def knowledge_paths(self) -> list[Path]:
        base = self.path.parent if self.path else Path.cwd()
        return [(base / k).resolve() for k in self.knowledge]

    def folder(self) -> Path:
        """The folder its knowledge paths must stay inside (symlinks resolved)."""
        return (self.path.parent if self.path else Path.cwd()).resolve()


# --- loading with line numbers -------------------------------------------------------------------

def _line_index(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map each field path (('turns', 3, 'pause', 'ms')) to its 1-based line in the file."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_index(value, path + (key.value,), out)
            out[path + (key.value,)] = key.start_mark.line + 1  # the key's line, not its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, path + (i,), out)
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    loc = tuple(str(p) if not isinstance(p, int) else p for p in loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _human_loc(loc: tuple) -> str:
    """('turns', 2, 'pause', 'ms') → 'turns[3].pause.ms': 1-based, as a person counts turns."""
    parts = []
    for p in loc:
        parts.append(f"[{p + 1}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "(top level)"


MAX_BYTES = 1_000_000  # a 30-turn scenario is ~5 KB


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a 300-byte "billion laughs" document expands to gigabytes,
    and a scenario has no need for them."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed in scenarios; "
                                              "write the value out", event.start_mark)
        return super().compose_node(parent, index)


def load_scenario(path: Path) -> Scenario:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ScenarioError(f"{path}: {path.stat().st_size} bytes is too large for a scenario "
                                f"(at most {MAX_BYTES}); split it into several files.")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text; save the scenario as UTF-8.") from None
    try:
        node = yaml.compose(text, Loader=_NoAliasLoader)
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ScenarioError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario is a mapping with id, title, suites and turns.")
    lines = _line_index(node)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if p not in ("function-after",))
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ScenarioError(f"{path}:{_line_of(lines, loc)}: {_human_loc(loc)}: {msg}{more}") from None
    scenario.path = path
    for name, k in zip(scenario.knowledge, scenario.knowledge_paths()):
        if not k.is_relative_to(scenario.folder()):
            raise ScenarioError(f"{path}:{_line_of(lines, ('knowledge',))}: knowledge: {name} is outside the "
                                f"scenario's folder {scenario.folder()}; copy the document next to the scenario.")
        if not k.exists():
            raise ScenarioError(f"{path}:{_line_of(lines, ('knowledge',))}: knowledge: {k} does not exist.")
    return scenario
