"""Instruments: the questionnaires a checkpoint asks, `schedules/instruments/<id>.toml`.

Content that managers and evaluators edit, like protocols, and validated the same way
(`FILE: items[3].type: … Hint: …`). An instrument is a list of items (yes/no, coded
choices, scales, frequency bands, numbers, dates, sealed text) with labels per language,
skip conditions (`show_if`), the violence type a yes stands for (`counts_as`, so
non-violence, agreement, recidivism from interviews and safety alerts work with any
instrument), a `pair` key for the other informant's same question, and scores (sum,
count of yes, mean) with a missing-data limit, bands, professional override and an
alert band. Every answer may instead be a missing code, kept apart and never read as
"no". Scoring and answer checking are pure functions in `followup.scoring`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from followup.config import LANGUAGES
from followup.errors import ConfigError
from followup.tomlfile import read_toml, validate
from followup.vocab import VIOLENCE_TYPES

MISSING_CODES = ("dont_know", "refused", "not_asked", "not_applicable")
ITEM_TYPES = ("yes_no", "choice", "scale", "frequency", "number", "date", "text")
SCORE_METHODS = ("sum", "count_yes", "mean")
DEFAULT_INSTRUMENT = "core"
_CODE = r"^[a-z0-9][a-z0-9_]*$"

Label = str | dict[str, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_label(label: Label | None, what: str, *, required: bool) -> Label | None:
    if label is None:
        if required:
            raise ValueError(f"{what} is missing; write what staff read")
        return None
    texts = label.items() if isinstance(label, dict) else [("", label)]
    if isinstance(label, dict) and not label:
        raise ValueError(f'{what}: no language given; write e.g. {what} = {{ en = "..." }}')
    for language, text in texts:
        if language and language not in LANGUAGES:
            raise ValueError(
                f'{what}: "{language}" is not a language the service speaks; write one of '
                f"{', '.join(LANGUAGES)}"
            )
        if not text.strip():
            raise ValueError(f"{what} is empty; write what staff read")
    return label


def label_in(label: Label | None, language: str, fallback: str) -> str:
    """A label in `language`, else English, else any, else `fallback`."""
    if isinstance(label, str):
        return label
    if label:
        return label.get(language) or label.get("en") or next(iter(label.values()))
    return fallback


class Option(Strict):
    code: str = Field(pattern=_CODE, description='the stored code, e.g. "weekly"')
    label: Label | None = Field(None, description="what staff read, one text or one per language")
    value: float | None = Field(
        None, description="the number this option scores as (choice items in a sum or mean)"
    )


class Band(Strict):
    """A frequency band: a coded range of counts with the midpoint used for estimates."""

    code: str = Field(pattern=_CODE, description='the stored code, e.g. "3_5"')
    label: Label | None = Field(None, description='what staff read, e.g. "3–5 times"')
    midpoint: float = Field(ge=0, description="the count this band stands for, e.g. 4 for 3–5")


class ShowIf(Strict):
    """Ask this item only when an earlier item's answer is one of `in` (or above a number)."""

    item: str = Field(description="the id of an EARLIER item")
    equals: str | None = Field(None, description='the answer that shows this item, e.g. "yes"')
    any_of: list[str] | None = Field(None, description="answers any of which show this item")
    above: float | None = Field(
        None, description="show when the earlier (number, scale, frequency) answer is above this"
    )

    @model_validator(mode="after")
    def _one_test(self) -> ShowIf:
        given = [x for x in (self.equals, self.any_of, self.above) if x is not None]
        if len(given) != 1:
            raise ValueError("write exactly one of equals, any_of or above")
        return self


class Item(Strict):
    id: str = Field(pattern=_CODE, description='a short id such as "physical"')
    label: Label | None = Field(
        None,
        description='the question, one text or one per language: { en = "...", sr-Latn = "...", '
        'sq = "..." } (omitted only in a licensed instrument)',
    )
    type: Literal["yes_no", "choice", "scale", "frequency", "number", "date", "text"] = Field(
        description=f"one of {', '.join(ITEM_TYPES)}"
    )
    required: bool = Field(
        False, description="must be answered (a missing code such as dont_know counts as answered)"
    )
    options: list[Option] = Field(
        default_factory=list, description="choice items: [[items.options]] code and label"
    )
    min: int | None = Field(None, description="scale items: the lowest point")
    max: int | None = Field(None, description="scale and number items: the highest value")
    anchors: dict[str, Label] = Field(
        default_factory=dict,
        description='scale items: labels of points, e.g. anchors = { "1" = "very unsafe" }',
    )
    bands: list[Band] = Field(
        default_factory=list, description="frequency items: [[items.bands]] code, label, midpoint"
    )
    show_if: ShowIf | None = Field(None, description="ask only when an earlier answer says so")
    counts_as: str | None = Field(
        None,
        description=f"a violence type ({', '.join(VIOLENCE_TYPES)}): a yes, or a frequency "
        "above 0, means that type was reported",
    )
    pair: str | None = Field(
        None,
        pattern=_CODE,
        description="a key shared with the other informant's same question, for agreement",
    )

    @field_validator("counts_as")
    @classmethod
    def _violence(cls, value: str | None) -> str | None:
        if value is not None and value not in VIOLENCE_TYPES:
            raise ValueError(
                f'"{value}" is not a violence type; write one of {", ".join(VIOLENCE_TYPES)}'
            )
        return value

    @model_validator(mode="after")
    def _shape(self) -> Item:
        kind = self.type
        if kind == "choice" and len(self.options) < 2:
            raise ValueError(f'item "{self.id}" is a choice: give at least two [[items.options]]')
        if kind != "choice" and self.options:
            raise ValueError(f'item "{self.id}": options belong to choice items only')
        if kind == "scale":
            if self.min is None or self.max is None or self.min >= self.max:
                raise ValueError(f'item "{self.id}" is a scale: write min and max, min < max')
            for point in self.anchors:
                if not point.lstrip("-").isdigit() or not self.min <= int(point) <= self.max:
                    raise ValueError(
                        f'item "{self.id}": anchor "{point}" is not a point of the scale '
                        f"{self.min}..{self.max}"
                    )
        elif self.anchors:
            raise ValueError(f'item "{self.id}": anchors belong to scale items only')
        if kind == "frequency":
            if len(self.bands) < 2:
                raise ValueError(
                    f'item "{self.id}" is a frequency: give at least two [[items.bands]]'
                )
            if self.bands[0].midpoint != 0:
                raise ValueError(
                    f'item "{self.id}": the first band is "none in this period" (midpoint 0)'
                )
        elif self.bands:
            raise ValueError(f'item "{self.id}": bands belong to frequency items only')
        if self.counts_as and kind not in ("yes_no", "frequency"):
            raise ValueError(
                f'item "{self.id}": counts_as needs a yes_no or frequency item, not {kind}'
            )
        for code in [o.code for o in self.options] + [b.code for b in self.bands]:
            if code in MISSING_CODES:
                raise ValueError(
                    f'item "{self.id}": "{code}" is a missing code; choose another option code'
                )
        return self

    def label_in(self, language: str) -> str:
        return label_in(self.label, language, self.id.replace("_", " ").capitalize())

    @property
    def codes(self) -> tuple[str, ...]:
        """The answers this item takes besides the missing codes (coded types only)."""
        if self.type == "yes_no":
            return ("yes", "no")
        if self.type == "choice":
            return tuple(o.code for o in self.options)
        if self.type == "frequency":
            return tuple(b.code for b in self.bands)
        return ()


class ScoreBand(Strict):
    at_least: float = Field(description="the lowest score in this band, e.g. 14")
    label: str = Field(pattern=_CODE, description='the band\'s code, e.g. "high"')


class Score(Strict):
    id: str = Field(pattern=_CODE, description='a short id such as "risk_total"')
    label: Label | None = Field(None, description="what readers see")
    method: Literal["sum", "count_yes", "mean"] = Field(
        description=f"one of {', '.join(SCORE_METHODS)}"
    )
    items: list[str] = Field(min_length=1, description="the ids of the items it adds up")
    max_missing: int = Field(
        0,
        ge=0,
        description="items that may be missing (a missing code or unanswered) before "
        "the score is withheld",
    )
    bands: list[ScoreBand] = Field(
        default_factory=list,
        description="[[scores.bands]] at_least and label, lowest first, e.g. at_least = 14, "
        'label = "high"',
    )
    override: bool = Field(
        False, description="a professional judgement may raise or lower the band (reason kept)"
    )
    alert_at: str | None = Field(
        None, description="a band label that raises a safety alert to her worker"
    )

    @model_validator(mode="after")
    def _bands(self) -> Score:
        cuts = [b.at_least for b in self.bands]
        if cuts != sorted(cuts) or len(set(cuts)) != len(cuts):
            raise ValueError(f'score "{self.id}": bands go from the lowest at_least up, no repeats')
        labels = [b.label for b in self.bands]
        if len(set(labels)) != len(labels):
            raise ValueError(f'score "{self.id}": a band label appears twice')
        if self.alert_at is not None and self.alert_at not in labels:
            raise ValueError(
                f'score "{self.id}": alert_at "{self.alert_at}" is not one of its bands '
                f"({', '.join(labels) or 'none'})"
            )
        if self.override and not self.bands:
            raise ValueError(f'score "{self.id}": an override moves a band; give bands')
        return self

    def band_of(self, value: float) -> str | None:
        found = None
        for band in self.bands:
            if value >= band.at_least:
                found = band.label
        return found


class Instrument(Strict):
    id: str = Field(description="must equal the file name without .toml")
    name: Label = Field(description="the instrument's title, one text or one per language")
    description: str = Field("", description="free text for managers and evaluators")
    reference_period: Label = Field(
        "since the last contact",
        description='what the questions ask about, e.g. "past 3 months"',
    )
    licensed: bool = Field(
        False,
        description="structure only: item texts come from the programme's licence (see "
        "docs/instruments.md); labels may be omitted",
    )
    items: list[Item] = Field(min_length=1, description="[[items]] tables, in the order asked")
    scores: list[Score] = Field(default_factory=list, description="[[scores]] tables")

    @model_validator(mode="after")
    def _coherent(self) -> Instrument:
        seen: dict[str, Item] = {}
        for index, item in enumerate(self.items):
            if item.id in seen:
                raise ValueError(f'items[{index}]: item "{item.id}" appears twice')
            if not self.licensed:
                _check_label(item.label, f"items[{index}].label", required=True)
            if item.show_if is not None:
                earlier = seen.get(item.show_if.item)
                if earlier is None:
                    raise ValueError(
                        f'items[{index}].show_if: "{item.show_if.item}" is not an earlier item'
                    )
                wanted = (
                    [item.show_if.equals]
                    if item.show_if.equals is not None
                    else (item.show_if.any_of or [])
                )
                for answer in wanted:
                    if earlier.codes and answer not in earlier.codes:
                        raise ValueError(
                            f'items[{index}].show_if: "{answer}" is not an answer of '
                            f'"{earlier.id}" ({", ".join(earlier.codes)})'
                        )
                if item.show_if.above is not None and earlier.type not in (
                    "number",
                    "scale",
                    "frequency",
                ):
                    raise ValueError(
                        f'items[{index}].show_if: "above" needs a number, scale or frequency item'
                    )
            seen[item.id] = item
        for index, score in enumerate(self.scores):
            for name in score.items:
                item = seen.get(name)
                if item is None:
                    raise ValueError(f'scores[{index}].items: "{name}" is not an item')
                if not _scorable(item, score.method):
                    raise ValueError(
                        f'scores[{index}].items: "{name}" is a {item.type} item, which a '
                        f"{score.method} cannot use"
                    )
            if score.max_missing >= len(score.items):
                raise ValueError(
                    f"scores[{index}].max_missing: {score.max_missing} would let a score stand "
                    f"on no answer; at most {len(score.items) - 1}"
                )
        ids = [s.id for s in self.scores]
        if len(set(ids)) != len(ids):
            raise ValueError("a score id appears twice")
        return self

    @property
    def revision(self) -> str:
        """A hash of the whole file's meaning (items, codes, labels, scores)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Instrument:
        return cls.model_validate(json.loads(text))

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def score(self, score_id: str) -> Score | None:
        return next((s for s in self.scores if s.id == score_id), None)

    def score_definition(self, score_id: str) -> str:
        """What a score means: its own keys and the coded structure of its items (not their
        wording). Two revisions with the same definition are pooled in reports."""
        score = self.score(score_id)
        if score is None:
            raise KeyError(score_id)
        parts = {
            "score": score.model_dump(mode="json", exclude={"label"}),
            "items": [
                self.item(name).model_dump(  # type: ignore[union-attr]
                    mode="json",
                    include={"type", "min", "max", "counts_as"},
                )
                | {"codes": _scored_codes(self.item(name), score.method)}  # type: ignore[arg-type]
                for name in score.items
            ],
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]

    def name_in(self, language: str) -> str:
        return label_in(self.name, language, self.id)


def _scorable(item: Item, method: str) -> bool:
    if method == "count_yes":
        return item.type in ("yes_no", "frequency")
    if item.type == "choice":
        return all(o.value is not None for o in item.options)
    return item.type in ("yes_no", "scale", "frequency", "number")


def _scored_codes(item: Item, method: str) -> list[Any]:
    """What a score reads from each of the item's codes: a count of yes needs only
    whether a band is above zero; a sum or mean needs its number."""
    if item.type == "choice":
        return [[o.code, o.value] for o in item.options]
    if item.type == "frequency":
        if method == "count_yes":
            return [[b.code, b.midpoint > 0] for b in item.bands]
        return [[b.code, b.midpoint] for b in item.bands]
    return list(item.codes)


def load_instrument(path: Path) -> Instrument:
    instrument = validate(Instrument, read_toml(path), path)
    if instrument.id != path.stem:
        raise ConfigError(
            f'{path}: id: "{instrument.id}" differs from the file name. '
            f'Hint: write id = "{path.stem}" or rename the file'
        )
    return instrument


def load_instruments(directory: Path) -> dict[str, Instrument]:
    """Every instrument file in `directory` (schedules/instruments); a broken one is an
    error naming the file, never skipped. `core` must exist: it is what a checkpoint that
    names no instrument asks."""
    found = {p.stem: load_instrument(p) for p in sorted(directory.glob("*.toml"))}
    if DEFAULT_INSTRUMENT not in found:
        raise ConfigError(
            f"{directory}: no {DEFAULT_INSTRUMENT}.toml. Hint: the core instrument is what "
            "every checkpoint without `instrument = ...` asks; restore it from the release"
        )
    return found
