"""Follow-up protocols: `schedules/<id>.toml`, one file per protocol, edited by managers.

A protocol is a list of checkpoints. A checkpoint says whom to interview (the
participant or his partner), from which date (its anchor), how long after (its offset),
how wide the window is, whether it repeats while the programme runs, and what happens
when the man leaves the programme early. The dates themselves come from
`followup.schedule.plan`, a pure function of a protocol and a person's dates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from followup.config import LANGUAGES
from followup.durations import Duration
from followup.errors import ConfigError
from followup.tomlfile import read_toml, validate

Anchor = Literal["enrolment", "admission", "programme_start", "completion", "end_of_participation"]
Subject = Literal["participant", "partner"]
ANCHORS: tuple[str, ...] = Anchor.__args__  # type: ignore[attr-defined]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Duration:
    return value if isinstance(value, Duration) else Duration.parse(value)


# Written and stored as text ("3 months"), used as a Duration.
DurationText = Annotated[
    Duration, BeforeValidator(_duration), PlainSerializer(str, return_type=str)
]


class Programme(Strict):
    """Expected gaps, used to place follow-ups before the real dates are known.

    An end-of-programme interview is planned from the expected completion date so it
    shows up in workers' calendars; when completion is recorded (earlier or later),
    every follow-up anchored on it moves.
    """

    admission_after: DurationText = Field(
        Duration(2, "weeks"),
        description='expected time from enrolment to admission, e.g. "2 weeks"',
    )
    start_after: DurationText = Field(
        Duration(2, "weeks"), description="expected time from admission to the first group session"
    )
    length: DurationText = Field(
        Duration(24, "weeks"), description='planned length of the programme, e.g. "24 weeks"'
    )


class Checkpoint(Strict):
    name: str = Field(
        description='a short id such as "followup_3m"; the same name for participant and '
        "partner makes their answers comparable",
        pattern=r"^[a-z][a-z0-9_]*$",
    )
    label: str | dict[str, str] | None = Field(
        None,
        description='what staff see, e.g. "Three months after completion" (every language), '
        'or one per language: { en = "...", sr-Latn = "...", sq = "..." }',
    )
    subject: Subject = Field(description='"participant" or "partner"')
    anchor: Anchor = Field(description=f"one of {', '.join(ANCHORS)}")
    offset: DurationText = Field(
        Duration(0, "days"),
        description='time after the anchor, e.g. "0 days", "4 weeks", "3 months"',
    )
    window_before_days: int = Field(
        0, ge=0, description="days before the due date the window opens"
    )
    window_after_days: int = Field(
        14, ge=0, description="days after the due date the window closes"
    )
    repeat_every: DurationText | None = Field(
        None, description='repeat while the programme runs, e.g. "4 weeks"; omit for once'
    )
    on_dropout: Literal["stop", "continue"] = Field(
        "stop",
        description='"stop" or "continue" when the man drops out, is excluded or transferred',
    )
    instrument: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        description="the questionnaire asked (schedules/instruments/<id>.toml), e.g. "
        '"partner-followup"; omitted: "core"',
    )
    lost_after_attempts: int | None = Field(
        None,
        ge=0,
        description="this checkpoint's own lost-to-follow-up rule, overriding the protocol's "
        "lost_after_attempts (0: only the window closing decides)",
    )
    needs_consent: bool = Field(
        True,
        description="partner checkpoints: only once she has consented (false for the first "
        "contact, which is where consent is asked)",
    )

    @field_validator("label")
    @classmethod
    def _languages(cls, label: str | dict[str, str] | None) -> str | dict[str, str] | None:
        texts = label.items() if isinstance(label, dict) else [("", label or "x")]
        for language, text in texts:
            if language and language not in LANGUAGES:
                raise ValueError(
                    f'"{language}" is not a language the service speaks; write one of '
                    f"{', '.join(LANGUAGES)}"
                )
            if not text.strip():
                which = f"label.{language}" if language else "label"
                raise ValueError(f"{which} is empty; write what staff see")
        if isinstance(label, dict) and not label:
            raise ValueError('no language given; write e.g. label = { en = "..." }')
        return label

    @model_validator(mode="after")
    def _coherent(self) -> Checkpoint:
        if self.on_dropout == "continue" and self.anchor == "completion":
            raise ValueError(
                f'checkpoint "{self.name}" continues after a dropout but is anchored on '
                'completion, which a dropout never reaches; anchor it on "end_of_participation"'
            )
        if self.repeat_every is not None and self.repeat_every.amount <= 0:
            raise ValueError(f'checkpoint "{self.name}": repeat_every must be positive')
        if self.repeat_every is not None and self.anchor in ("completion", "end_of_participation"):
            raise ValueError(
                f'checkpoint "{self.name}" repeats "while the programme runs" but is anchored '
                "after it ends; anchor it on enrolment, admission or programme_start"
            )
        return self

    def label_in(self, language: str) -> str:
        """What staff see for this checkpoint in `language`: its label in that language,
        else the English one, else any; a checkpoint with no label reads as its name."""
        if isinstance(self.label, str):
            return self.label
        if self.label:
            return (
                self.label.get(language) or self.label.get("en") or next(iter(self.label.values()))
            )
        return self.name.replace("_", " ").capitalize()

    @property
    def title(self) -> str:
        return self.label_in("en")


class Protocol(Strict):
    id: str = Field(description="must equal the file name without .toml")
    name: str = Field(description="the protocol's title")
    description: str = Field("", description="free text for managers")
    programme: Programme = Field(default_factory=Programme, description="expected programme dates")
    lost_after_attempts: int = Field(
        3,
        ge=0,
        description="attempts that did not reach the person after which a follow-up is "
        "unreachable (lost to follow-up); 0: only the window closing decides. Its window "
        "closing after at least one attempt makes a follow-up unreachable in any case",
    )
    checkpoints: list[Checkpoint] = Field(min_length=1, description="[[checkpoints]] tables")

    @model_validator(mode="after")
    def _unique(self) -> Protocol:
        seen: set[tuple[str, str]] = set()
        for checkpoint in self.checkpoints:
            key = (checkpoint.name, checkpoint.subject)
            if key in seen:
                raise ValueError(
                    f'checkpoint "{checkpoint.name}" for the {checkpoint.subject} appears twice'
                )
            seen.add(key)
        return self

    @property
    def revision(self) -> str:
        """A hash of everything that moves a date; labels, descriptions, the instrument a
        checkpoint asks and the lost-to-follow-up rule (they move no date, and apply as
        written today) do not."""
        return hashlib.sha256(self.schedule_json().encode()).hexdigest()[:12]

    def schedule_json(self) -> str:
        payload = self.model_dump(
            mode="json",
            exclude={
                "name": True,
                "description": True,
                "lost_after_attempts": True,
                "checkpoints": {"__all__": {"label", "lost_after_attempts", "instrument"}},
            },
        )
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    def to_json(self) -> str:
        """The whole protocol, as stored with each revision so old enrolments keep theirs."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Protocol:
        return cls.model_validate(json.loads(text))

    def checkpoint(self, name: str, subject: str) -> Checkpoint | None:
        return self.checkpoint_index.get((name, subject))

    @cached_property
    def checkpoint_index(self) -> dict[tuple[str, str], Checkpoint]:
        """(name, subject) -> checkpoint, built once: an import looks one up per interview."""
        index: dict[tuple[str, str], Checkpoint] = {}
        for c in self.checkpoints:
            index.setdefault((c.name, c.subject), c)
        return index

    def instrument_for(self, name: str, subject: str) -> str:
        """The instrument this checkpoint asks ("core" when it names none)."""
        found = self.checkpoint(name, subject)
        return (found.instrument if found is not None else None) or "core"

    def lost_after(self, name: str, subject: str) -> int | None:
        """Attempts after which this checkpoint's follow-up is unreachable (followup.lost)."""
        found = self.checkpoint(name, subject)
        rule = self.lost_after_attempts
        if found is not None and found.lost_after_attempts is not None:
            rule = found.lost_after_attempts
        return rule or None


def checkpoint_label(
    protocols: Iterable[Protocol], name: str, subject: str | None, language: str
) -> str:
    """THE label of a checkpoint in a language, wherever one is shown (web pages, messages,
    the report, the calendar feed): from the first of `protocols` that has the checkpoint
    for this subject (or, with no subject, for either), else the name made readable."""
    protocols = list(protocols)
    subjects = (subject,) if subject else ("participant", "partner")
    for wanted in subjects:
        for protocol in protocols:
            found = protocol.checkpoint(name, wanted)
            if found is not None:
                return found.label_in(language)
    return name.replace("_", " ").capitalize()


def load_protocol(path: Path) -> Protocol:
    protocol = validate(Protocol, read_toml(path), path)
    if protocol.id != path.stem:
        raise ConfigError(
            f'{path}: id: "{protocol.id}" differs from the file name. '
            f'Hint: write id = "{path.stem}" or rename the file'
        )
    return protocol


def load_protocols(directory: Path, active: list[str]) -> dict[str, Protocol]:
    """The active protocols; a missing or broken one is an error, never skipped."""
    protocols = {}
    for protocol_id in active:
        path = directory / f"{protocol_id}.toml"
        if not path.exists():
            available = sorted(p.stem for p in directory.glob("*.toml"))
            raise ConfigError(
                f'{path}: protocol "{protocol_id}" is listed in protocols.active but has no '
                f"file. Hint: available protocols: {', '.join(available) or 'none'}"
            )
        protocols[protocol_id] = load_protocol(path)
    return protocols
