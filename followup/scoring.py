"""Answers to an instrument: checked, skip rules applied, scored — pure functions.

The one set of rules for the web form, `record interview --answers FILE.json` and
`import answers`: an answer is stored as text (a yes/no, an option or band code, a
number, an ISO date, or — for text items — the words, which the caller seals), or as one
of the missing codes, which are kept apart from each other and never read as "no".

- `check_answers` → the answers to store (every item: its value, `not_asked` when shown
  and left empty, `not_applicable` when a `show_if` hid it) and the problems, per item.
- `score` → a score's value and band, or why it is withheld (too many items missing).
- `violence_reported` → per violence type: True (a yes or a frequency above 0 in an item
  that `counts_as` it), False (every such item answered no / none), None (not known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from followup.instruments import MISSING_CODES, Instrument, Item, Score
from followup.values import MAX_NOTES, limit_length, refuse_control

NOT_ASKED = "not_asked"
NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Checked:
    answers: dict[str, str]  # item id -> stored text, for every item
    problems: dict[str, str]  # item id -> what is wrong, in words for staff

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ScoreResult:
    score: str
    value: float | None  # None: withheld
    band: str | None
    missing: int  # items missing (a missing code, or unanswered)
    withheld: str | None = None  # why the value is withheld


def parse_answer(item: Item, text: str | None) -> str | None:
    """One answer as stored text; None for empty. ValueError says what was expected."""
    value = (text if text is not None else "").strip()
    if not value:
        return None
    lowered = value.lower()
    if lowered in MISSING_CODES:
        return lowered
    kind = item.type
    if kind in ("yes_no", "choice", "frequency"):
        if lowered not in item.codes:
            raise ValueError(
                f"expected one of {', '.join(item.codes)} or a missing code "
                f"({', '.join(MISSING_CODES)}), got {value!r}"
            )
        return lowered
    if kind == "scale":
        if not value.lstrip("-").isdigit() or not item.min <= int(value) <= item.max:  # type: ignore[operator]
            raise ValueError(
                f"expected a whole number from {item.min} to {item.max}, got {value!r}"
            )
        return str(int(value))
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"expected a number, got {value!r}")
        if number < 0 or (item.max is not None and number > item.max):
            upper = f" to {item.max}" if item.max is not None else " or more"
            raise ValueError(f"expected a number from 0{upper}, got {value!r}")
        return f"{number:g}"
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    return limit_length(refuse_control(value, item.id, allow="\n\t"), item.id, MAX_NOTES)


def check_answers(instrument: Instrument, given: dict[str, str | None]) -> Checked:
    """Every item's stored answer and every problem, items in the instrument's order."""
    answers: dict[str, str] = {}
    problems: dict[str, str] = {}
    known = {item.id for item in instrument.items}
    for name in given:
        if name not in known:
            problems[name] = f"not an item of {instrument.id}; items are {', '.join(sorted(known))}"
    for item in instrument.items:
        try:
            value = parse_answer(item, given.get(item.id))
        except ValueError as exc:
            problems[item.id] = str(exc)
            continue
        if item.show_if is not None and item.show_if.item in problems:
            continue  # whether it is asked waits on the earlier answer's own problem
        if not _shown(instrument, item, answers):
            if value is not None and value not in MISSING_CODES:
                problems[item.id] = f"not asked here: it is asked only when {_condition_text(item)}"
                continue
            answers[item.id] = NOT_APPLICABLE
            continue
        if value is None:
            if item.required:
                problems[item.id] = "required: give an answer or a missing code (e.g. dont_know)"
                continue
            value = NOT_ASKED
        answers[item.id] = value
    return Checked(answers, problems)


def score(instrument: Instrument, definition: Score, answers: dict[str, str]) -> ScoreResult:
    values: list[float] = []
    missing = 0
    for name in definition.items:
        item = instrument.item(name)
        number = _number(item, answers.get(name), definition.method)  # type: ignore[arg-type]
        if number is None:
            missing += 1
        else:
            values.append(number)
    if missing > definition.max_missing or not values:
        return ScoreResult(
            definition.id,
            None,
            None,
            missing,
            f"{missing} of {len(definition.items)} items missing "
            f"(at most {definition.max_missing} allowed)",
        )
    value = sum(values) / len(values) if definition.method == "mean" else float(sum(values))
    return ScoreResult(definition.id, value, definition.band_of(value), missing)


def scores(instrument: Instrument, answers: dict[str, str]) -> list[ScoreResult]:
    return [score(instrument, s, answers) for s in instrument.scores]


def violence_reported(instrument: Instrument, answers: dict[str, str]) -> dict[str, bool | None]:
    """Per violence type named by some item's counts_as: True when any such item reports
    it, False when every such item was answered and none does, None otherwise."""
    said: dict[str, list[bool | None]] = {}
    for item in instrument.items:
        if item.counts_as is not None:
            number = _number(item, answers.get(item.id), "count_yes")
            said.setdefault(item.counts_as, []).append(None if number is None else number > 0)
    found: dict[str, bool | None] = {}
    for kind, states in said.items():
        if any(states):
            found[kind] = True
        elif all(state is False for state in states):
            found[kind] = False
        else:
            found[kind] = None
    return found


def _number(item: Item, text: str | None, method: str) -> float | None:
    """An answer as a number for scoring; None when missing or not a number."""
    if text is None or text in MISSING_CODES:
        return None
    if item.type == "yes_no":
        return 1.0 if text == "yes" else 0.0
    if item.type == "frequency":
        midpoint = next(b.midpoint for b in item.bands if b.code == text)
        return (1.0 if midpoint > 0 else 0.0) if method == "count_yes" else midpoint
    if item.type == "choice":
        return next(o.value for o in item.options if o.code == text)
    if item.type in ("scale", "number"):
        return float(text)
    return None


def _shown(instrument: Instrument, item: Item, answers: dict[str, str]) -> bool:
    """Whether `item` is asked, given the answers to the items before it. An earlier
    answer that is missing (or itself not asked) hides what depends on it."""
    rule = item.show_if
    if rule is None:
        return True
    earlier = answers.get(rule.item)
    if earlier is None or earlier in MISSING_CODES:
        return False
    if rule.equals is not None:
        return earlier == rule.equals
    if rule.any_of is not None:
        return earlier in rule.any_of
    number = _number(instrument.item(rule.item), earlier, "sum")  # type: ignore[arg-type]
    return number is not None and number > rule.above  # type: ignore[operator]


def _condition_text(item: Item) -> str:
    rule = item.show_if
    assert rule is not None
    if rule.equals is not None:
        return f"{rule.item} is {rule.equals}"
    if rule.any_of is not None:
        return f"{rule.item} is one of {', '.join(rule.any_of)}"
    return f"{rule.item} is above {rule.above:g}"
