"""Outcomes: the `followup report` in the page, suppressed for evaluators, every view and
download audited, limited to the sites granted."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

import sqlalchemy as sa

from followup.models import Audit


def exports(team) -> list[tuple[str, str]]:
    with team.session() as session:
        rows = session.execute(
            sa.select(Audit.actor, Audit.detail)
            .where(Audit.action == "report_export")
            .order_by(Audit.id)
        ).all()
    return [(actor, json.loads(detail)["format"]) for actor, detail in rows]


def without_clock(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "generated_at"}


def test_the_page_and_the_json_download_show_exactly_what_followup_report_prints(team):
    browser = team.browser("evaluator")
    page = browser.get("/outcomes")
    assert page.status_code == 200
    assert "Outcome report" in page.text and "Small cells are suppressed" in page.text
    download = browser.get("/outcomes/report.json")
    assert download.headers["content-disposition"].startswith('attachment; filename="outcomes-BG-')
    printed = team.deployment.run("report", "--format", "json", "--site", "BG")
    assert printed.exit_code == 0, printed.err
    assert without_clock(download.json()) == without_clock(json.loads(printed.out))


def test_an_evaluator_sees_small_cells_suppressed_and_cannot_turn_suppression_off(team):
    browser = team.browser("evaluator")
    data = browser.get("/outcomes/report.json?unsuppressed=1").json()
    assert data["suppression"]["applied"] is True and data["suppression"]["threshold"] == 5
    assert data["suppression"]["audit"]["passed"] is True
    assert data["cohort"]["enrolled"] is None and data["cohort"]["suppressed"] is True
    page = browser.get("/outcomes?unsuppressed=1").text
    assert "&lt;5" in page and "Not suppressed" not in page
    assert "hidden to protect them" in page  # how many counts were hidden, and why
    assert "Show small counts" not in page


def test_an_administrator_may_see_every_count_and_that_export_is_audited_as_unsuppressed(team):
    browser = team.browser("admin")
    data = browser.get("/outcomes/report.json?unsuppressed=1").json()
    assert data["suppression"]["applied"] is False and data["cohort"]["enrolled"] == 2
    with team.session() as session:
        detail = session.execute(
            sa.select(Audit.detail).where(Audit.action == "report_export")
        ).scalar_one()
    assert json.loads(detail)["suppress"] is False


def test_every_view_and_every_download_is_audited_with_who_and_which_format(team):
    browser = team.browser("evaluator")
    browser.get("/outcomes")
    for fmt in ("csv", "json", "html"):
        response = browser.get(f"/outcomes/report.{fmt}")
        assert response.status_code == 200
        assert response.headers["content-disposition"].endswith(f'.{fmt}"')
    assert exports(team) == [
        ("web:evaluator", "html"),
        ("web:evaluator", "csv"),
        ("web:evaluator", "json"),
        ("web:evaluator", "html"),
    ]


def test_an_evaluator_reads_only_the_sites_granted(team):
    browser = team.browser("evaluator")  # granted: BG, the staff member's own site
    page = browser.get("/outcomes?site=NS")
    assert "You may read outcomes for your granted sites only." in page.text
    assert '<option value="NS"' not in page.text and "All sites" not in page.text
    assert browser.get("/outcomes/report.json?site=NS").status_code == 422
    assert browser.get("/outcomes/report.json").json()["site"] == "BG"


def test_an_evaluator_granted_every_site_may_read_them_together(team):
    from followup.operations.accounts import add_account

    with team.session() as session:
        add_account(
            session,
            team.ctx,
            username="national",
            staff_id="EV1",
            roles=["evaluator"],
            sites=["*"],
            password="correct horse battery",
        )
    browser = team.browser("national")
    assert browser.get("/outcomes/report.json").json()["site"] is None
    assert browser.get("/outcomes/report.json?site=NS").json()["site"] == "NS"


def test_options_the_report_refuses_are_explained_on_the_page_in_its_own_words(team):
    page = team.browser("evaluator").get("/outcomes?by=completion&origin=completion")
    assert page.status_code == 422
    assert "cannot count from completion" in page.text and "--" not in visible(page.text)
    assert 'id="origin-error"' in page.text
    bad = team.browser("evaluator").get("/outcomes?as_of=yesterday")
    assert "Enter a date as YYYY-MM-DD." in bad.text


def visible(html: str) -> str:
    """The page's text as a reader sees it (no markup, comments, scripts or styles)."""
    html = re.sub(r"<!--.*?-->|<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_comparing_by_completion_offers_only_origins_that_work(team):
    page = team.browser("evaluator").get("/outcomes?by=completion")
    assert page.status_code == 200
    origin = re.search(r'<select id="origin".*?</select>', page.text, re.DOTALL).group(0)
    assert re.search(r'<option value="completion"[^>]*disabled', origin)
    assert re.search(r'<option value="end_of_participation" selected', origin)
    assert "Time to first recidivism" in page.text  # the report is made, from the end
    plain = team.browser("evaluator").get("/outcomes?by=site")
    assert not re.search(r'<option value="completion"[^>]*disabled', plain.text)


def test_no_error_the_outcomes_page_or_its_downloads_can_show_names_a_command_line_flag(team):
    from followup.report.build import ReportError
    from followup.web.i18n import catalogue
    from followup.web.routes.outcomes import refused_words

    browser = team.browser("evaluator")
    future = (date.today() + timedelta(days=400)).isoformat()
    asked = [
        "by=completion&origin=completion",
        "by=completion",
        f"as_of={future}",
        "as_of=yesterday",
        "by=nonsense&origin=nonsense&source=nonsense",
        "site=NS",
        "site=XX",
    ]
    for query in asked:
        for path in ("/outcomes", "/outcomes/report.csv"):
            answer = browser.get(f"{path}?{query}")
            assert "--" not in visible(answer.text), (path, query)
    for problem in ("completion_needs_origin", "unknown_site", "not_a_choice", "as_of_future"):
        key = refused_words(ReportError("--x", problem))[1]
        for language in ("en", "sr-Latn"):
            assert "--" not in catalogue(language)[key]
    assert "--" not in catalogue("en")[refused_words(ValueError())[1]]  # type: ignore[arg-type]


def test_a_record_broken_by_hand_leaves_the_page_working_and_counted_in_data_quality(team):
    """An ending before the admission, written in SQL past every check, used to crash
    every report and this page ("durations must be >= 0 days")."""
    from datetime import timedelta

    from followup.models import Participant

    today = team.ctx.site_today("BG")
    admitted = (today - timedelta(days=5)).isoformat()
    assert (
        team.deployment.run("record", "status", "BG-1", "admitted", "--on", admitted).exit_code == 0
    )
    p = Participant.__table__
    with team.session() as session:
        session.execute(
            p.update()
            .where(p.c.case_id == "BG-1")
            .values(ended_on=today - timedelta(days=8), end_reason="dropped_out")
        )
    evaluator = team.browser("evaluator").get("/outcomes")
    assert evaluator.status_code == 200
    assert "<h2>Data quality</h2>" in evaluator.text and "BG-1" not in evaluator.text
    admin = team.browser("admin")
    page = admin.get("/outcomes?unsuppressed=1")
    assert page.status_code == 200 and "BG-1" in page.text
    data = admin.get("/outcomes/report.json?unsuppressed=1").json()["data_quality"]
    assert data["problems"]["status_order"] == {
        "people": 1,
        "description": "status dates out of programme order",
        "left_out_of": ["retention", "survival"],
        "case_ids": ["BG-1"],
    }
