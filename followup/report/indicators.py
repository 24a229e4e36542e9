"""analysis/indicators.toml: what the report's numbers mean, as the evaluators define them.

Validated like config.toml (followup.tomlfile): unknown keys are refused and every error
names the file, the key and a hint. A missing file means the shipped defaults, which are
the ones documented in docs/configuration.md "Indicator definitions".
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from followup.errors import ConfigError
from followup.models import REPORT_SOURCES, VIOLENCE_TYPES
from followup.tomlfile import read_toml, validate

ViolenceType = Literal["physical", "sexual", "psychological", "economic", "coercive", "stalking"]
Source = Literal["partner", "participant", "police", "prosecutor", "social_services"]
Origin = Literal["completion", "admission", "enrolment", "end_of_participation"]
Ending = Literal["dropped_out", "excluded", "transferred"]
ORIGINS: tuple[str, ...] = Origin.__args__  # type: ignore[attr-defined]

# Keys an evaluator may reasonably look for here, and where they really live.
_ELSEWHERE = {
    "completion_target": "config.toml [analysis] completion_target",
    "suppression_threshold": "config.toml [analysis] suppression_threshold",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _distinct(values: list[str], what: str) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} lists a value twice")
    return values


class NonViolence(Strict):
    types: list[ViolenceType] = Field(
        default_factory=lambda: ["physical", "sexual"],
        min_length=1,
        description='"non-violent" means none of these reported since the last contact, '
        f'e.g. ["physical", "sexual"]; types: {", ".join(VIOLENCE_TYPES)}',
    )
    informant: Literal["partner", "participant"] = Field(
        "partner",
        description='whose account the headline non-violence rate uses: "partner" or "participant"',
    )
    headline_checkpoint: str = Field(
        "followup_6m",
        description='the checkpoint whose non-violence rate heads the report, e.g. "followup_6m" '
        "(when it has no answers yet, the checkpoint with the most answers is shown)",
    )
    alongside: list[ViolenceType] = Field(
        default_factory=lambda: ["psychological", "economic", "coercive", "stalking"],
        description="violence types reported one by one next to the headline rate",
    )

    @field_validator("types", "alongside")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        return _distinct(values, "the list")


class Recidivism(Strict):
    sources: list[Source] = Field(
        default_factory=lambda: list(REPORT_SOURCES),
        min_length=1,
        description=f"the sources `--source any` counts; any of {', '.join(REPORT_SOURCES)}",
    )
    record_checks: bool = Field(
        True,
        description="a police record check that finds a new offence counts as police-source recidivism",
    )
    interviews: bool = Field(
        False,
        description="an interview reporting violence of a non_violence type counts as recidivism "
        "reported by that informant, dated on the interview",
    )
    origin: Origin = Field(
        "completion", description=f"default --origin: one of {', '.join(ORIGINS)}"
    )
    days: list[int] = Field(
        default_factory=lambda: [90, 180, 365],
        min_length=1,
        description="days after the origin at which survival is also read, e.g. [90, 180, 365]",
    )

    @field_validator("sources")
    @classmethod
    def _no_repeated_source(cls, values: list[str]) -> list[str]:
        return _distinct(values, "sources")

    @field_validator("days")
    @classmethod
    def _positive_days(cls, days: list[int]) -> list[int]:
        if any(day <= 0 for day in days):
            raise ValueError("days are counted after the origin, so each is 1 or more")
        return sorted(set(days))


class Retention(Strict):
    grace_days: int = Field(
        28,
        ge=0,
        description="days after the planned programme end before a man who has not completed "
        "counts in the completion rate",
    )
    not_completed: list[Ending] = Field(
        default_factory=lambda: ["dropped_out", "excluded"],
        min_length=1,
        description='ways of leaving that count as not completing (and as dropout in "time to '
        'dropout"): dropped_out, excluded, transferred',
    )

    @field_validator("not_completed")
    @classmethod
    def _no_repeated_ending(cls, values: list[str]) -> list[str]:
        return _distinct(values, "not_completed")


class Indicators(Strict):
    confidence: float = Field(
        0.95, gt=0.5, lt=1, description="confidence level of every interval, e.g. 0.95"
    )
    non_violence: NonViolence = Field(
        default_factory=NonViolence, description="what non-violent means"
    )
    recidivism: Recidivism = Field(
        default_factory=Recidivism, description="what counts as recidivism"
    )
    retention: Retention = Field(default_factory=Retention, description="the completion rate")

    @model_validator(mode="after")
    def _alongside_is_not_headline(self) -> Indicators:
        both = set(self.non_violence.types) & set(self.non_violence.alongside)
        if both:
            raise ValueError(
                f"non_violence.alongside repeats {sorted(both)[0]!r}, which is already in "
                "non_violence.types; list each type in one of the two"
            )
        return self


def load_indicators(path: Path) -> Indicators:
    """The definitions in `path`; the documented defaults when the file does not exist."""
    if not path.exists():
        return Indicators()
    data = read_toml(path)
    for key, where in _ELSEWHERE.items():
        if key in data:
            raise ConfigError(
                f"{path}: {key}: not an indicator setting. Hint: set it in {where}, "
                "the one place it is read from"
            )
    return validate(Indicators, data, path)
