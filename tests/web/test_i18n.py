"""English and Serbian (Latin): the same keys, the same placeholders, nothing missing on any page."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from followup.models import (
    CONTACT_CHANNELS,
    INFORMANTS,
    INTERVIEW_MODES,
    REFERRAL_SOURCES,
    RELATIONSHIPS,
    REPORT_SOURCES,
    RISK_LEVELS,
    ROLES,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
)
from followup.operations.alerts import ACTIONS
from followup.operations.caseload import GROUPS, STATUSES
from followup.operations.followups import MISSED_REASONS
from followup.operations.people import PARTNER_EVENTS
from followup.protocol import ANCHORS
from followup.web import i18n
from followup.web.routes.outcomes import BY, ORIGINS
from followup.web.routes.people import NOTICES

WEB = Path(i18n.__file__).resolve().parent

# Keys built from a prefix and a value in templates: every value must have its key.
FAMILIES = {
    "violence.": VIOLENCE_TYPES,
    "subject.": INFORMANTS,
    "mode.": INTERVIEW_MODES,
    "risk.": RISK_LEVELS,
    "channel.": CONTACT_CHANNELS,
    "referral.": REFERRAL_SOURCES,
    "relationship.": RELATIONSHIPS,
    "source.": REPORT_SOURCES,
    "role.": ROLES,
    "anchor.": ANCHORS,
    "event.": (*STATUS_EVENTS, *PARTNER_EVENTS, "recidivism", "record_check", "enrolled"),
    "status.": ("scheduled", "completed", "missed", "cancelled"),
    "pstatus.": (
        "enrolled",
        "admitted",
        "in_programme",
        "completed",
        "dropped_out",
        "excluded",
        "transferred",
    ),
    "timing.": (*GROUPS, *(f"{g}_heading" for g in GROUPS)),
    "answer.": ("yes", "no", "not_asked"),
    "safety.": ("1", "2", "3", "4", "5"),
    "contact.": ("phone", "email", "address"),
    "weekday.": tuple(str(d) for d in range(7)),
    "alerts.kind_": ("interview", "report"),
    "outcomes.by_": BY,
    "outcomes.origin_": ORIGINS,
    "schedules.dropout_": ("stop", "continue"),
    "schedules.action_": ("move", "add", "cancel"),
    "partner.saved_": NOTICES,
    "error.": (
        *(f"{m}{s}" for m in ("not_found", "forbidden", "csrf", "method") for s in ("", "_title")),
        "home",
    ),
    "outcomes.bad_options": ("", "_title"),
    "worklist.status_": STATUSES,
    "worklist.reason_": MISSED_REASONS,
    "alert_action.": ACTIONS,
    "caseload.standing_": ("consent", "withdrawn", "do_not_contact", "none"),
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["sr-Latn"])
def test_every_catalogue_has_the_same_keys_and_placeholders_as_english(language):
    english, other = i18n.catalogue("en"), i18n.catalogue(language)
    assert sorted(set(english) - set(other)) == [], f"missing in {language}"
    assert sorted(set(other) - set(english)) == [], f"in {language} but not in English"
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key


def used_keys() -> set[str]:
    keys = set()
    for path in (WEB / "templates").rglob("*.html"):
        keys |= set(re.findall(r"\bt\('([a-z_]+\.[a-z_0-9]+)'\s*[,)]", path.read_text()))
    for path in WEB.rglob("*.py"):
        found = re.findall(
            r'"((?:account|form|login|password|error|schedules|outcomes|nav)\.[a-z_]+)"',
            path.read_text(),
        )
        keys |= {key for key in found if not key.endswith((".html", ".ics"))}  # template names
    for prefix, values in FAMILIES.items():
        keys |= {prefix + value for value in values}
    return keys


def test_every_key_the_pages_use_is_in_the_catalogues():
    known = set(i18n.catalogue("en"))
    assert sorted(used_keys() - known) == []


def test_no_page_asks_for_a_missing_key_in_either_language(team, samples):
    i18n.MISSING.clear()
    for language in ("en", "sr-Latn"):
        for login in ("partner_support", "supervisor", "evaluator", "manager", "admin"):
            browser = team.browser(login)
            assert browser.post("/account/language", {"language": language}).status_code == 303
            for path in (
                "/followups",
                "/followups?scope=site",
                f"/followups/{samples['hers']}",
                "/participants/BG-1",
                "/partners/P-1",
                "/alerts",
                f"/alerts/{samples['bg_alert']}",
                "/outcomes",
                "/schedules",
                "/audit",
                "/account",
                "/search?q=BG",
                "/no-such-page",
            ):
                browser.get(path)
            browser.post("/followups/999999")
            browser.post(f"/followups/{samples['his']}", {"conducted_on": "soon"})
    assert not i18n.MISSING, sorted(i18n.MISSING)


def test_a_serbian_speaker_gets_the_interface_in_serbian_and_dates_with_serbian_weekdays(team):
    browser = team.browser("facilitator")
    browser.post("/account/language", {"language": "sr-Latn"})
    page = browser.get("/followups").text
    assert "Moja praćenja" in page and 'lang="sr-Latn"' in page
    assert re.search(r"Rok (pon|uto|sre|čet|pet|sub|ned) \d{4}-\d\d-\d\d", page)
    assert browser.post("/account/language", {"language": "xx"}).status_code == 422


def test_the_language_defaults_to_the_staff_members_then_the_sites_and_albanian_falls_back_to_english():
    assert i18n.supported("sr-Latn") == "sr-Latn"
    assert i18n.supported("sq") == "en" and i18n.supported(None) == "en"
