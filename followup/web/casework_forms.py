"""The casework forms (enrol, partner, status, report, check) turned into the arguments
of their operations, with a catalogue key next to each field that is wrong (the shape of
followup.web.forms, which these build on)."""

from __future__ import annotations

from datetime import date

from followup.values import (
    MAX_NOTES,
    parse_email,
    parse_identifier,
    parse_phone,
    refuse_control,
)
from followup.vocab import (
    CONTACT_CHANNELS,
    REFERRAL_SOURCES,
    RELATIONSHIPS,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
)
from followup.web.forms import Checked, a_date, safe_plan


def _choice(form, name: str, choices, checked: Checked, *, required: bool = True) -> str | None:
    value = form.get(name, "").strip()
    if not value:
        if required:
            checked.errors[name] = "form.choose"
        return None
    if value not in choices:
        checked.errors[name] = "form.choose"
        return None
    return value


def _identifier(form, name: str, checked: Checked) -> str | None:
    try:
        return parse_identifier(form.get(name, ""), name)
    except ValueError:
        checked.errors[name] = "casework.identifier"
        return None


def _optional_date(form, name: str, checked: Checked, *, today: date) -> date | None:
    if not form.get(name, "").strip():
        return None
    return a_date(form, name, checked, today=today)


def _notes(form, checked: Checked) -> str | None:
    notes = form.get("notes", "").strip()
    if len(notes) > MAX_NOTES:
        checked.errors["notes"] = "form.notes_long"
    try:
        refuse_control(notes, "notes", allow="\t\n\r")
    except ValueError:
        checked.errors["notes"] = "form.control"
    return notes or None


def enrolment(form, *, sites, protocols, facilitators, today_at) -> Checked:
    """`facilitators`: staff ids by site; `today_at(site)`: that site's today."""
    checked = Checked()
    values = checked.values
    values["case_id"] = _identifier(form, "case_id", checked)
    site = _choice(form, "site", sites, checked)
    values["site"] = site
    values["referral_source"] = _choice(form, "referral_source", REFERRAL_SOURCES, checked)
    values["protocol_id"] = _choice(form, "protocol", protocols, checked)
    facilitator = _choice(
        form,
        "facilitator",
        {f for fs in facilitators.values() for f in fs},
        checked,
        required=False,
    )
    if facilitator and site and facilitator not in facilitators.get(site, ()):
        checked.errors["facilitator"] = "casework.facilitator_site"
    values["facilitator"] = facilitator
    if site:
        values["enrolled_on"] = a_date(form, "enrolled_on", checked, today=today_at(site))
    else:
        values["enrolled_on"] = None
    return checked


def new_partner(form, *, workers, today: date) -> Checked:
    checked = Checked()
    values = checked.values
    values["partner_id"] = _identifier(form, "partner_id", checked)
    values["relationship"] = _choice(form, "relationship", RELATIONSHIPS, checked)
    values["consent_on"] = _optional_date(form, "consent_on", checked, today=today)
    values["channel"] = _choice(form, "channel", CONTACT_CHANNELS, checked, required=False)
    values["support_worker"] = _choice(form, "support_worker", workers, checked, required=False)
    try:
        values["phone"] = parse_phone(form.get("phone"))
    except ValueError:
        checked.errors["phone"] = "casework.phone"
    try:
        values["email"] = parse_email(form.get("email"))
    except ValueError:
        checked.errors["email"] = "casework.email"
    plan = safe_plan(form)
    checked.errors.update(plan.errors)
    values["plan"] = plan.values["plan"]
    return checked


def partner_change(form, *, workers) -> Checked:
    checked = Checked()
    checked.values["relationship"] = _choice(form, "relationship", RELATIONSHIPS, checked)
    checked.values["support_worker"] = _choice(
        form, "support_worker", workers, checked, required=False
    )
    return checked


def status(form, *, today: date) -> Checked:
    checked = Checked()
    checked.values["event"] = _choice(form, "event", STATUS_EVENTS, checked)
    checked.values["on"] = a_date(form, "on", checked, today=today)
    return checked


def recidivism(form, *, today: date, sources, partners) -> Checked:
    checked = Checked()
    values = checked.values
    values["on"] = a_date(form, "on", checked, today=today)
    reported = _optional_date(form, "reported_on", checked, today=today)
    if reported and values["on"] and "on" not in checked.errors and reported < values["on"]:
        checked.errors["reported_on"] = "casework.reported_before"
    values["reported_on"] = reported
    values["source"] = _choice(form, "source", sources, checked)
    values["partner_id"] = _choice(form, "partner_id", partners, checked, required=False)
    # A type ticked was reported; one not ticked was not asked about (never a "no").
    values["violence"] = {
        kind: True if form.get(f"type_{kind}") == "yes" else None for kind in VIOLENCE_TYPES
    }
    values["notes"] = _notes(form, checked)
    return checked


def record_check(form, *, today: date) -> Checked:
    checked = Checked()
    checked.values["on"] = a_date(form, "on", checked, today=today)
    found = {"yes": True, "no": False}.get(form.get("new_offence", ""))
    if found is None:
        checked.errors["new_offence"] = "form.choose"
    checked.values["new_offence"] = found
    return checked
