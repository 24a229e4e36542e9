"""English, Serbian (Latin) and Albanian: the same keys, the same placeholders, nothing missing
on any page."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from followup import config
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
from followup.vocab import ATTEMPT_OUTCOMES
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
    "attempts.outcome_": ATTEMPT_OUTCOMES,
    "attempts.recorded_": ("scheduled", "unreachable", "refused"),
    "attempts.status_": ("unreachable", "refused"),
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
    "calendar.": ("window",),
    "report_options.": (
        "completion_needs_origin",
        "as_of_future",
        "unknown_site",
        "not_a_choice",
        "refused",
    ),
    "worklist.status_": STATUSES,
    "worklist.reason_": MISSED_REASONS,
    "alert_action.": ACTIONS,
    "caseload.standing_": ("consent", "withdrawn", "do_not_contact", "none"),
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_interface_speaks_every_language_a_site_or_a_staff_member_may_have():
    assert set(i18n.LANGUAGES) == set(config.LANGUAGES)
    assert {path.stem for path in (WEB / "i18n").glob("*.toml")} == set(i18n.LANGUAGES)


@pytest.mark.parametrize("language", ["sr-Latn", "sq"])
def test_every_catalogue_has_the_same_keys_and_placeholders_as_english(language):
    english, other = i18n.catalogue("en"), i18n.catalogue(language)
    assert sorted(set(english) - set(other)) == [], f"missing in {language}"
    assert sorted(set(other) - set(english)) == [], f"in {language} but not in English"
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key
        assert other[key].strip(), key


def test_each_catalogue_is_translated_not_copied():
    """A catalogue that is English under another name would pass the key test: most of its
    longer texts must differ from the English ones."""
    english = i18n.catalogue("en")
    for language in ("sr-Latn", "sq"):
        other = i18n.catalogue(language)
        long = [key for key, text in english.items() if len(text) > 12]
        same = [key for key in long if other[key] == english[key]]
        assert len(same) <= len(long) // 20, (language, same)


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
    for language in i18n.LANGUAGES:
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


def test_an_albanian_speaker_gets_the_interface_in_albanian(team):
    browser = team.browser("facilitator")
    assert browser.post("/account/language", {"language": "sq"}).status_code == 303
    page = browser.get("/followups").text
    assert "Ndjekjet e mia" in page and 'lang="sq"' in page
    assert re.search(r"Afati (Hën|Mar|Mër|Enj|Pre|Sht|Die) \d{4}-\d\d-\d\d", page)


def test_the_language_defaults_to_the_staff_members_then_the_sites_then_english():
    assert i18n.supported("sr-Latn") == "sr-Latn" and i18n.supported("sq") == "sq"
    assert i18n.supported("xx") == "en" and i18n.supported(None) == "en"
