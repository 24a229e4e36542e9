"""Posted forms turned into the arguments of the domain operations, with a message per
field (a catalogue key) for everything that is wrong, so the page can show each message
next to its field and keep what the person typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from followup.her_plan import PlanInput
from followup.safe_contact import CHANNEL_DETAIL, PLAN_CHANNELS, parse_plan_text, parse_safe_times
from followup.values import (
    MAX_NOTES,
    parse_date,
    parse_email,
    parse_phone,
    refuse_control,
)
from followup.vocab import INTERVIEW_MODES, RISK_LEVELS, VIOLENCE_TYPES

NOTES_MAX = MAX_NOTES
ANSWERS = {"yes": True, "no": False, "not_asked": None}


@dataclass
class Checked:
    values: dict = field(default_factory=dict)  # what to pass on
    errors: dict[str, str] = field(default_factory=dict)  # field -> catalogue key

    @property
    def ok(self) -> bool:
        return not self.errors


def a_date(
    form, name: str, checked: Checked, *, today: date, not_before: date | None = None
) -> date | None:
    text = form.get(name, "").strip()
    if not text:
        checked.errors[name] = "form.date_required"
        return None
    try:
        day = parse_date(text)
    except ValueError:
        checked.errors[name] = "form.date_invalid"
        return None
    if day > today:
        checked.errors[name] = "form.date_future"
    elif not_before is not None and day < not_before:
        checked.errors[name] = "form.date_before_enrolment"
    return day


def interview(form, *, today: date, enrolled_on: date) -> Checked:
    checked = Checked()
    checked.values["on"] = a_date(
        form, "conducted_on", checked, today=today, not_before=enrolled_on
    )
    mode = form.get("mode", "")
    if mode and mode not in INTERVIEW_MODES:
        checked.errors["mode"] = "form.choose"
    checked.values["mode"] = mode or None
    violence = {}
    for kind in VIOLENCE_TYPES:
        answer = form.get(f"violence_{kind}", "not_asked")
        if answer not in ANSWERS:
            checked.errors[f"violence_{kind}"] = "form.choose"
        violence[kind] = ANSWERS.get(answer)
    checked.values["violence"] = violence
    safety = form.get("felt_safety", "")
    if safety and safety not in {"1", "2", "3", "4", "5"}:
        checked.errors["felt_safety"] = "form.felt_safety"
    checked.values["felt_safety"] = int(safety) if safety in {"1", "2", "3", "4", "5"} else None
    risk = form.get("risk_level", "")
    if risk and risk not in RISK_LEVELS:
        checked.errors["risk_level"] = "form.choose"
    checked.values["risk_level"] = risk or None
    notes = form.get("notes", "").strip()
    if len(notes) > NOTES_MAX:
        checked.errors["notes"] = "form.notes_long"
    try:  # free text keeps its line breaks and tabs, but no NUL, escape or other control
        refuse_control(notes, "notes", allow="\t\n\r")
    except ValueError:
        checked.errors["notes"] = "form.control"
    checked.values["notes"] = notes or None
    _nothing_asked(form, checked)
    # An unscheduled contact: kept and shown, fulfils no follow-up (e.g. before its window).
    checked.values["unscheduled"] = form.get("unscheduled") == "yes"
    return checked


def safe_to_talk(form) -> Checked:
    """ "Was it safe to talk?" — asked first in every interview with her (required), and
    the channel the contact was made by (her interview's mode, when it names one)."""
    checked = Checked()
    answer = form.get("safe_to_talk", "")
    if answer not in ("yes", "no"):
        checked.errors["safe_to_talk"] = "safe_plan.choose_safe"
    checked.values["safe_to_talk"] = answer == "yes"
    mode = form.get("mode", "")
    checked.values["channel"] = mode if mode in ("phone", "in_person") else None
    return checked


def _nothing_asked(form, checked: Checked) -> None:
    """ "Held, nothing asked" and its reason (followup.checks.nothing_asked)."""
    if form.get("held_nothing_asked") != "yes":
        return
    reason = form.get("nothing_asked_reason", "").strip()
    if not reason:
        checked.errors["nothing_asked_reason"] = "corrections.reason_required"
    elif len(reason) > NOTES_MAX:
        checked.errors["nothing_asked_reason"] = "form.notes_long"
    else:
        try:
            refuse_control(reason, "reason", allow="\t\n\r")
        except ValueError:
            checked.errors["nothing_asked_reason"] = "form.control"
    checked.values["nothing_asked_reason"] = reason or None


def safe_plan(form) -> Checked:
    """Her safe-contact plan from its form (the partial _partials/safe_plan_fields.html):
    a checkbox per channel with its number or address, safe times, the two yes/no
    (default no), code word, what to do if someone else answers. `values["plan"]` is a
    followup.her_plan.PlanInput; the operation fills a channel's number from her contact
    details when none is typed."""
    checked = Checked()
    channels = tuple(c for c in PLAN_CHANNELS if form.get(f"channel_{c}") == "yes")
    details = {}
    for channel in PLAN_CHANNELS:
        typed = form.get(f"detail_{channel}", "").strip()
        if not typed:
            continue
        kind = CHANNEL_DETAIL[channel]
        try:
            if kind == "phone":
                details[channel] = parse_phone(typed) or ""
            elif kind == "email":
                details[channel] = parse_email(typed) or ""
            else:
                details[channel] = parse_plan_text(typed, "address")
        except ValueError:
            checked.errors[f"detail_{channel}"] = (
                f"casework.{kind}" if kind != "address" else "form.control"
            )
    safe_times = form.get("safe_times", "").strip()
    try:
        parse_safe_times(safe_times)
    except ValueError:
        checked.errors["safe_times"] = "safe_plan.bad_safe_times"
    flags = {}
    for name in ("voicemail_ok", "may_name_organisation"):
        answer = form.get(name, "no")
        if answer not in ("yes", "no"):
            checked.errors[name] = "form.choose"
        flags[name] = answer == "yes"
    texts = {}
    for name in ("code_word", "if_someone_else_answers"):
        try:
            texts[name] = parse_plan_text(form.get(name), name)
        except ValueError:
            checked.errors[name] = "form.control"
    checked.values["plan"] = PlanInput(
        channels=channels,
        details=details,
        safe_times=safe_times,
        voicemail_ok=flags["voicemail_ok"],
        may_name_organisation=flags["may_name_organisation"],
        code_word=texts.get("code_word", ""),
        if_someone_else_answers=texts.get("if_someone_else_answers", ""),
    )
    return checked
