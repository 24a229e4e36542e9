"""Checkpoints in the reader's language everywhere, and never as raw keys.

A checkpoint's label comes from its protocol file, in each language
(followup.protocol.checkpoint_label): the pages, the digest, the report and the calendar
feed all read it there, so the Serbian page and the Serbian digest say the same thing, and
no `followup_3m` or `partner_checkin #3` reaches a reader.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from followup.models import Staff
from followup.protocol import load_protocol
from followup.web.i18n import LANGUAGES

SHIPPED = Path(__file__).resolve().parents[2] / "schedules"
RAW_KEYS = sorted(
    {c.name for path in SHIPPED.glob("*.toml") for c in load_protocol(path).checkpoints}
)
RAW = re.compile(r"\b(" + "|".join(RAW_KEYS) + r")\b")


def visible(html: str) -> str:
    """What a reader sees of a page: no markup, comments, scripts, styles or SVG."""
    html = re.sub(r"<!--.*?-->|<(script|style|svg)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def raw_keys(text: str) -> list[str]:
    return sorted(set(RAW.findall(text)))


def feed_summaries(team, browser) -> str:
    page = browser.post("/account/calendar").text
    address = re.search(r'value="(http://[^"]+/calendar/[^"]+\.ics)"', page).group(1)
    body = team.browser().get(address.split("127.0.0.1:8000", 1)[1]).content
    return "\n".join(
        f"{event['SUMMARY']}\n{event['DESCRIPTION']}"
        for event in Calendar.from_ical(body).walk("VEVENT")
    )


def digests(team, language: str) -> str:
    """Tomorrow morning's dispatch pass, every staff member reading `language`."""
    with team.session() as session:
        session.execute(sa.update(Staff).values(language=language))
        session.commit()
    day = team.ctx.site_today("BG") + timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC)  # 08:30 in Belgrade
    done = team.deployment.run("dispatch", "--once", "--now", morning.isoformat())
    assert done.exit_code == 0, done.err
    return done.out


def test_the_shipped_protocols_label_every_checkpoint_in_every_language():
    for path in SHIPPED.glob("*.toml"):
        for checkpoint in load_protocol(path).checkpoints:
            assert isinstance(checkpoint.label, dict), (path.name, checkpoint.name)
            assert set(checkpoint.label) == set(LANGUAGES), (path.name, checkpoint.name)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_raw_checkpoint_key_reaches_a_page_the_digest_the_report_or_the_calendar_feed(
    team, samples, language
):
    done = team.deployment.run(
        "record", "interview", "BG-1", "--informant", "participant", "--on",
        team.ctx.site_today("BG").isoformat(), "--physical", "no",
    )  # fmt: skip
    assert done.exit_code == 0, done.err
    shown: dict[str, str] = {}
    for login, paths in (
        ("partner_support", ["/followups", f"/followups/{samples['hers']}", "/partners/P-1"]),
        ("facilitator", ["/followups", f"/followups/{samples['his']}", "/participants/BG-1"]),
        ("evaluator", ["/outcomes"]),
    ):
        browser = team.browser(login)
        assert browser.post("/account/language", {"language": language}).status_code == 303
        for path in paths:
            page = browser.get(path)
            assert page.status_code == 200, (login, path)
            shown[f"{login} {path}"] = visible(page.text)
        if login != "evaluator":
            shown[f"{login} calendar feed"] = feed_summaries(team, browser)
    for fmt in ("html", "text"):
        report = team.deployment.run("report", "--format", fmt, "--language", language)
        assert report.exit_code == 0, report.err
        shown[f"report {fmt}"] = visible(report.out) if fmt == "html" else report.out
    shown["digests"] = digests(team, language)
    assert {where: raw_keys(text) for where, text in shown.items() if raw_keys(text)} == {}
    first = {
        "en": "First partner contact",
        "sr-Latn": "Prvi kontakt sa partnerkom",
        "sq": "Kontakti i parë me partneren",
    }
    for where in ("partner_support /followups", "partner_support calendar feed", "digests"):
        assert first[language] in shown[where], where
    intake = {"en": "Intake assessment", "sr-Latn": "Prijemna procena", "sq": "Vlerësimi fillestar"}
    assert intake[language] in shown["facilitator /participants/BG-1"]


def test_the_serbian_page_and_the_serbian_digest_name_a_follow_up_alike(team, samples):
    browser = team.browser("partner_support")
    browser.post("/account/language", {"language": "sr-Latn"})
    page = visible(browser.get("/followups").text)
    label = "Prvi kontakt sa partnerkom: program, njegove granice, njena bezbednost"
    assert label in page
    assert f"BG-1, partnerka: {label}" in digests(team, "sr-Latn")


def test_the_report_speaks_the_language_asked_for_and_its_json_does_not_change(team, samples):
    english = team.deployment.run("report", "--format", "html").out
    serbian = team.deployment.run("report", "--format", "html", "--language", "sr-Latn").out
    albanian = team.deployment.run("report", "--format", "html", "--language", "sq").out
    assert "<h2>Follow-up</h2>" in english and 'lang="en"' in english
    assert "<h2>Praćenje</h2>" in serbian and 'lang="sr-Latn"' in serbian
    assert "<h2>Ndjekja</h2>" in albanian and "Koha deri te dhuna e parë e re" in albanian
    assert "Kaplan-Majerova procena" in serbian  # plot captions too
    assert "Vreme do prvog ponovnog nasilja računa se u danima od" in serbian  # definitions
    assert "Time to first recidivism is counted in days from" in english
    as_json = [
        json.loads(
            team.deployment.run("report", "--format", "json", "--as-of", "2026-01-01", *extra).out
        )
        for extra in ((), ("--language", "sq"))
    ]
    # `generated_at` is the wall clock of each run, and two runs may straddle a second.
    english_json, albanian_json = (
        {key: value for key, value in report.items() if key != "generated_at"} for report in as_json
    )
    assert english_json == albanian_json


def test_the_outcomes_page_is_in_the_readers_language(team):
    browser = team.browser("evaluator")
    browser.post("/account/language", {"language": "sq"})
    page = browser.get("/outcomes").text
    assert "Rezultatet" in page and "Koha deri te dhuna e parë e re" in page
