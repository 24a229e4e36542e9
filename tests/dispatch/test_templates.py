"""Every message template, in every language: complete, escaped, and short enough for SMS."""

from __future__ import annotations

from datetime import date

import pytest

from followup.channels.gsm import segments, to_gsm7
from followup.config import LANGUAGES
from followup.dispatch.render import KINDS, PARTS, SHIPPED, Templates

BASE = "https://followup.csr-beograd.rs"  # a realistic public address, longer than loopback


def item(
    n: int, subject: str = "partner", checkpoint: str = "Dvanaest meseci posle (partnerka)"
) -> dict:
    return {
        "case_id": f"BG-{n:06d}",
        "subject": subject,
        "checkpoint": checkpoint,
        "occurrence": 1,
        "due_on": date(2026, 3, 10),
        "window_opens_on": date(2026, 2, 24),
        "window_closes_on": date(2026, 4, 7),
        "link": f"{BASE}/followups/{100000 + n}",
        "assigned_to": "BG-PS",
        "attempts": 3,
        "last_attempt_outcome": "someone_else_answered",
        "unsafe_to_talk": False,
        "retry_at": None,
    }


def sample(kind: str, name: str = "Ana Jovanović") -> dict:
    base = {
        "staff_name": name,
        "staff_id": "BG-PS",
        "site_name": "Centar za socijalni rad Beograd",
        "base_url": BASE,
    }
    lists = {
        "on": date(2026, 3, 10),
        "counts": {"overdue": 12, "due": 3, "upcoming": 25},
        "overdue": [item(1)],
        "due": [item(2, "participant")],
        "upcoming": [item(3)],
        "upcoming_days": 7,
        "link": f"{BASE}/followups",
    }
    return (
        base
        | {
            "reminder": {**item(123456), "lead_days": 7, "safe_window": "10:00–12:00"},
            "digest": lists,
            "catch_up": {
                **lists,
                "since": "2026-03-07 09:00",
                "until": "2026-03-10 09:00",
                "held": {"reminders": 14, "digests": 3, "escalations": 2},
                "held_total": 19,
                "escalations": [item(5)],
                "escalations_total": 2,
                "reminded": [item(6)],
                "reminded_total": 31,
                "site_link": f"{BASE}/followups?scope=site",
            },
            "escalation": item(123456) | {"attempts": 0, "last_attempt_outcome": None},
            "alert": {
                "case_id": "BG-123456",
                "what": "violence",
                "source": "recidivism",
                "reported_by": "social_services",
                "reported_on": date(2026, 3, 10),
                "link": f"{BASE}/alerts/12345",
                "alerts_link": f"{BASE}/alerts",
            },
            "delivery_problem": {
                "entries": [
                    {
                        "about_name": "Marko Petrović",
                        "about_staff_id": "BG-F1",
                        "since": "2026-03-10 08:00",
                        "retrying": 12,
                        "gave_up": 1,
                        "refused": 1,
                        "late": 3,
                        "late_by": ["sms", "email"],
                        "reason": "sms: Recipient has opted out (STOP) [21610]",
                    }
                ],
                "entries_total": 1,
                "messages_total": 17,
                "retrying_total": 12,
                "gave_up_total": 1,
                "refused_total": 1,
                "late_total": 3,
                "fallback": "email",
                "link": f"{BASE}/followups",
            },
        }[kind]
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_every_part_in_every_language(kind, language):
    for part in PARTS:
        assert (SHIPPED / language / f"{kind}.{part}").is_file(), (
            f"{language}/{kind}.{part} is missing"
        )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_an_sms_fits_in_two_gsm7_segments(kind, language):
    rendered = Templates().render(kind, language, sample(kind))
    text = to_gsm7(rendered.sms)
    assert segments(text) <= 2, f"{len(text)} characters: {text}"
    assert "?" not in text.replace(BASE, "")  # every letter had a GSM-7 spelling


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reminder_fits_in_one_segment_with_loopback_links(language):
    data = sample("reminder") | {
        "checkpoint": "Two-week call",
        "link": "http://127.0.0.1:8000/followups/12",
    }
    assert segments(to_gsm7(Templates().render("reminder", language, data).sms)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_html_escapes_what_it_is_given_and_text_keeps_it_as_it_is(kind):
    rendered = Templates().render(kind, "en", sample(kind, name="<b>Ana & co</b>"))
    assert "&lt;b&gt;Ana &amp; co&lt;/b&gt;" in rendered.html and "<b>Ana" not in rendered.html
    assert "<b>Ana & co</b>" in rendered.text


BAND_WORDS = {
    "en": "a risk score reached its alert band",
    "sr-Latn": "procena rizika dostigla nivo za uzbunu",
    "sq": "vlerësimi i rrezikut arriti nivelin e alarmit",
}
VIOLENCE_WORDS = {"en": "new violence", "sr-Latn": "novo nasilje", "sq": "dhunë e re"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_alert_raised_by_a_score_says_so_and_not_new_violence(language):
    banded = sample("alert") | {"what": "risk_band", "source": "partner_interview"}
    rendered = Templates().render("alert", language, banded)
    for part in (rendered.subject, rendered.sms):
        assert BAND_WORDS[language] in part.lower()
    for part in (rendered.subject, rendered.sms, rendered.text, rendered.html):
        assert VIOLENCE_WORDS[language] not in part.lower()
    plain = Templates().render("alert", language, sample("alert"))
    assert VIOLENCE_WORDS[language] in plain.subject.lower()
    assert segments(to_gsm7(rendered.sms)) <= 2


def test_a_deployment_can_reword_one_template_and_keep_the_rest(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "digest.sms.txt").write_text("Today: {{ counts.due }} due. {{ link }}\n")
    templates = Templates(tmp_path)
    assert (
        templates.render("digest", "en", sample("digest")).sms == f"Today: 3 due. {BASE}/followups"
    )
    his = sample("reminder") | {"subject": "participant"}
    assert templates.render("reminder", "en", his).sms.startswith("Due in 7 days")


@pytest.mark.parametrize("kind", KINDS)
def test_a_line_break_in_a_value_cannot_start_a_line_of_the_message(kind):
    forged = "Ana\n----- message forged -----\r\nTo: someone"
    rendered = Templates().render(kind, "en", sample(kind, name=forged))
    for part in (rendered.text, rendered.subject, rendered.sms, rendered.html):
        assert "\n----- message forged" not in part and "\r" not in part
    assert "Ana\\n----- message forged -----\\r\\nTo: someone" in rendered.text
