"""The Record interview page's questionnaire: a checkpoint's instrument as form fields, and
the posted form read back as {item: text} for followup.record.record_interview.

Every item is one field named `answer_<item>`. Radio items (yes/no, choice, scale) carry
the missing codes as further radios of the same group, a frequency's select as a group
of options; number, date and text items have a small `missing_<item>` select beside the
input. A score that allows it has `override_<score>` (a band) and
`override_reason_<score>`. The checking itself is followup.scoring's, in the operation:
this module only says what was posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from followup.instruments import Instrument, Item, label_in

# Offered on every item; `not_applicable` is the server's, for items a skip rule hides.
OFFERED_MISSING = ("dont_know", "refused", "not_asked")
RADIO_TYPES = ("yes_no", "choice", "scale")


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    number: float | None = None  # what a skip rule's `above` compares (frequency midpoints)


@dataclass(frozen=True)
class FormItem:
    id: str
    type: str
    label: str
    required: bool
    choices: tuple[Choice, ...] = ()  # yes/no, choice, scale points, frequency bands
    max: float | None = None  # number items
    show_if_item: str | None = None
    show_if_equals: tuple[str, ...] = ()  # shown when the earlier answer is one of these
    show_if_above: float | None = None
    condition: str | None = None  # the skip rule in words, for the page without JavaScript

    @property
    def name(self) -> str:
        return f"answer_{self.id}"

    @property
    def radios(self) -> bool:
        return self.type in RADIO_TYPES


@dataclass(frozen=True)
class FormScore:
    id: str
    label: str
    bands: tuple[str, ...]


@dataclass(frozen=True)
class InstrumentForm:
    id: str
    name: str
    reference_period: str
    items: tuple[FormItem, ...]
    overridable: tuple[FormScore, ...] = field(default=())


def form_of(instrument: Instrument, language: str, t) -> InstrumentForm:
    """The instrument as the form shows it, in `language` (English where a label has no
    text in it). `t`: the page's translator, for yes/no and the skip rule's words."""
    items: list[FormItem] = []
    by_id: dict[str, FormItem] = {}
    for item in instrument.items:
        shown = _form_item(item, language, t, by_id)
        items.append(shown)
        by_id[item.id] = shown
    overridable = tuple(
        FormScore(
            id=s.id,
            label=label_in(s.label, language, s.id.replace("_", " ").capitalize()),
            bands=tuple(b.label for b in s.bands),
        )
        for s in instrument.scores
        if s.override
    )
    return InstrumentForm(
        id=instrument.id,
        name=instrument.name_in(language),
        reference_period=label_in(instrument.reference_period, language, ""),
        items=tuple(items),
        overridable=overridable,
    )


def _choices(item: Item, language: str, t) -> tuple[Choice, ...]:
    if item.type == "yes_no":
        return (Choice("yes", t("answer.yes")), Choice("no", t("answer.no")))
    if item.type == "choice":
        return tuple(Choice(o.code, label_in(o.label, language, o.code)) for o in item.options)
    if item.type == "frequency":
        return tuple(
            Choice(b.code, label_in(b.label, language, b.code), b.midpoint) for b in item.bands
        )
    if item.type == "scale":
        points = range(item.min, item.max + 1)  # type: ignore[arg-type]
        return tuple(
            Choice(
                str(n),
                f"{n} – {label_in(item.anchors[str(n)], language, '')}"
                if str(n) in item.anchors
                else str(n),
                float(n),
            )
            for n in points
        )
    return ()


def _form_item(item: Item, language: str, t, earlier: dict[str, FormItem]) -> FormItem:
    choices = _choices(item, language, t)
    rule = item.show_if
    if rule is None:
        return FormItem(
            item.id, item.type, item.label_in(language), item.required, choices, item.max
        )
    before = earlier[rule.item]
    wanted = (rule.equals,) if rule.equals is not None else tuple(rule.any_of or ())
    if rule.above is not None:
        answers = t("instrument_form.above", number=f"{rule.above:g}")
    else:
        words = {c.code: c.label for c in before.choices}
        answers = " / ".join(words.get(code, code) for code in wanted)
    return FormItem(
        item.id,
        item.type,
        item.label_in(language),
        item.required,
        choices,
        item.max,
        show_if_item=rule.item,
        show_if_equals=wanted,
        show_if_above=rule.above,
        condition=t("instrument_form.asked_when", question=before.label, answers=answers),
    )


@dataclass
class PostedAnswers:
    answers: dict[str, str | None]
    overrides: dict[str, tuple[str, str]]
    errors: dict[str, str]  # field name -> problem in words (an answer and a missing code)


def read_posted(form, instrument: Instrument, t) -> PostedAnswers:
    """The answers the form posted, {item: text or None}, and the band overrides asked for.
    A value and a missing code both given for one item is the one problem found here."""
    answers: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for item in instrument.items:
        value = (form.get(f"answer_{item.id}") or "").strip()
        missing = (form.get(f"missing_{item.id}") or "").strip()
        if value and missing:
            errors[f"answer_{item.id}"] = t("instrument_form.both_given")
        answers[item.id] = value or missing or None
    overrides: dict[str, tuple[str, str]] = {}
    for score in instrument.scores:
        band = (form.get(f"override_{score.id}") or "").strip()
        reason = form.get(f"override_reason_{score.id}") or ""
        if band:
            overrides[score.id] = (band, reason)
        elif reason.strip():
            errors[f"override_{score.id}"] = t("instrument_form.override_band_missing")
    return PostedAnswers(answers, overrides, errors)
