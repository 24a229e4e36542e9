"""Posted forms turned into the arguments of the domain operations, with a message per
field (a catalogue key) for everything that is wrong, so the page can show each message
next to its field and keep what the person typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from followup.values import MAX_NOTES, parse_date, parse_safe_hours, refuse_control
from followup.vocab import CONTACT_CHANNELS, INTERVIEW_MODES, RISK_LEVELS, VIOLENCE_TYPES

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


def contact_rules(form) -> Checked:
    """How and when she may be contacted: her channel and safe hours (the one rule for
    safe hours, followup.values.parse_safe_hours, also used by the partners import)."""
    checked = Checked()
    channel = form.get("channel") or None
    if channel is not None and channel not in CONTACT_CHANNELS:
        checked.errors["channel"] = "form.choose"
    checked.values["channel"] = channel
    try:
        checked.values["safe_hours"] = parse_safe_hours(form.get("safe_hours"))
    except ValueError:
        checked.errors["safe_hours"] = "form.safe_hours"
    return checked
