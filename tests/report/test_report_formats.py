"""The formats: HTML that opens offline and parses, tidy CSV, the JSON shape, the text
summary, --out, and an audit line for every export."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from followup.models import Audit
from followup.report.tidy import COLUMNS

from .conftest import report_csv, report_json

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class Balance(HTMLParser):
    """Every element that is opened is closed, in order (SVG's self-closed ones included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(
                f"</{tag}> closes {self.open[-1:] or 'nothing'} at {self.getpos()}"
            )
        else:
            self.open.pop()


@pytest.fixture
def html(imported) -> str:
    result = imported.run("report", "--format", "html", "--by", "site")
    assert result.exit_code == 0, result.err
    return result.out


def test_the_html_report_needs_nothing_from_the_network(html):
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""\b(src|href)\s*=\s*["'](?!#)""", html), "only in-page references"
    assert "@import" not in html and not re.search(r"url\((?!#)", html)
    assert "<script" not in html


def test_the_html_report_is_well_formed(html):
    parser = Balance()
    parser.feed(html)
    parser.close()
    assert parser.problems == [] and parser.open == []
    # Written as polyglot markup: an XML parser reads it too.
    root = ET.fromstring(html.split("\n", 1)[1])
    assert root.tag == "html"


def test_the_html_report_has_curves_funnel_followup_non_violence_and_definitions(html):
    # recidivism, dropout, competing risks; and the core instrument's violence_types score
    assert html.count("<svg") == 4
    for heading in (
        "Cohort and completion",
        "Follow-up",
        "Non-violence",
        "Time to first recidivism",
        "Time to dropout",
        "Definitions used",
    ):
        assert f">{heading}<" in html
    assert "At risk" in html and "log-rank" in html
    assert "no physical or sexual violence" in html


@pytest.mark.browser
def test_the_html_report_opens_offline_in_a_browser(imported, tmp_path):
    if not os.environ.get("FOLLOWUP_TEST_BROWSER"):
        pytest.skip("browser tests are off (set FOLLOWUP_TEST_BROWSER=1)")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    result = imported.run("report", "--format", "html", "--by", "site", "--out", str(page_file))
    assert result.exit_code == 0, result.err
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.route(
            "**/*",
            lambda route: (
                route.abort() if not route.request.url.startswith("file:") else route.continue_()
            ),
        )
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        assert page.locator("svg").count() == 4  # survival, dropout, competing risks, core score
        assert page.locator("svg").first.bounding_box()["width"] > 200
        browser.close()
    assert requests == [page_file.as_uri()]


def test_the_csv_is_tidy_with_the_documented_columns(imported):
    rows = report_csv(imported, "--by", "site")
    assert tuple(rows[0]) == COLUMNS
    keys = [
        (
            r["measure"],
            r["group_by"],
            r["group"],
            r["checkpoint"],
            r["informant"],
            r["violence_type"],
            r["t"],
        )
        for r in rows
    ]
    assert len(keys) == len(set(keys)), "one row per measure, group, checkpoint, informant, type, t"
    measures = {r["measure"] for r in rows}
    assert {
        "cohort_enrolled",
        "completion_rate",
        "followup_rate",
        "followup_missed",
        "non_violence",
        "agreement",
        "recidivism_km",
        "recidivism_logrank_p_value",
        "dropout_km",
        "dropout_cif_dropped_out",
    } <= measures
    by_site = [r for r in rows if r["measure"] == "completion_rate" and r["group_by"] == "site"]
    assert {r["group"] for r in by_site} == {"BG", "NS"}
    assert all(r["suppressed"] in ("true", "false") for r in rows)


def test_the_csv_and_the_json_carry_the_same_numbers(imported):
    report = report_json(imported)
    rows = report_csv(imported)
    overall = next(r for r in rows if r["measure"] == "completion_rate" and not r["group"])
    assert float(overall["value"]) == report["retention"]["completion_rate"]
    assert int(overall["n"]) == report["retention"]["n"]

    def row(measure: str, **keys: str) -> dict[str, str]:
        return next(
            r
            for r in rows
            if r["measure"] == measure
            and r["checkpoint"] == "followup_3m"
            and r["informant"] == "partner"
            and all(r[k] == v for k, v in keys.items())
        )

    followup = report["followup"]["followup_3m"]["partner"]
    for outcome in ("in_window", "late", "unreachable", "refused", "missed", "open"):
        shown = followup[outcome]
        cell = row(f"followup_{outcome}")["count"]
        assert (int(cell) if shown is not None else None) == shown, outcome
    bounds = report["non_violence"]["followup_3m"]["partner"]["bounds"]
    for end in ("worst", "best"):
        cells = row(f"non_violence_{end}", violence_type="definition")
        assert int(cells["n"]) == bounds["ended"]
        assert float(cells["value"]) == bounds[end]["rate"]
        assert [float(cells["ci_low"]), float(cells["ci_high"])] == bounds[end]["ci"]


def test_the_json_has_the_shape_the_design_promises(imported):
    report = report_json(imported, "--by", "site")
    assert set(report) >= {"as_of", "cohort", "retention", "followup", "non_violence", "survival"}
    assert set(report["cohort"]) >= {"enrolled", "admitted", "completed", "dropped_out"}
    assert set(report["retention"]) >= {"completion_rate", "ci", "target"}
    assert report["retention"]["target"] == 0.8
    for by_informant in report["followup"].values():
        for f in by_informant.values():
            assert set(f) >= {"due", "in_window", "late", "missed"}
    for by_informant in report["non_violence"].values():
        for e in by_informant.values():
            assert set(e) >= {"n", "rate", "ci"}
    recidivism = report["survival"]["recidivism"]
    assert recidivism["origin"] == "completion"
    assert set(recidivism["overall"]) >= {"n", "events", "median", "curve"}
    assert set(recidivism["overall"]["curve"][0]) == {
        "t",
        "at_risk",
        "events",
        "survival",
        "ci_low",
        "ci_high",
    }
    assert set(recidivism["groups"]) == {"BG", "NS"}
    assert set(recidivism["logrank"]) >= {"statistic", "df", "p_value"}
    assert set(report["survival"]["dropout"]) >= {"overall", "groups", "logrank"}
    json.dumps(report, allow_nan=False)  # no NaN anywhere


def test_the_text_summary_gives_the_headline_figures(imported):
    result = imported.run("report")
    assert result.exit_code == 0, result.err
    assert result.out.startswith(
        "Outcome report as of 2026-11-24, all sites (counts below 5 suppressed"
    )
    assert "Completion: " in result.out and "target 80%" in result.out
    assert "Time to first recidivism (from completion, source any)" in result.out


def test_out_writes_the_file_and_nothing_to_standard_output(imported, tmp_path):
    target = tmp_path / "outcomes.csv"
    result = imported.run("report", "--format", "csv", "--out", str(target))
    assert result.exit_code == 0, result.err
    assert result.out == ""
    assert f"Wrote the csv report to {target}." in result.err
    assert next(csv.reader(io.StringIO(target.read_text()))) == list(COLUMNS)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_into_a_missing_folder_is_refused_and_not_audited(imported, tmp_path):
    result = imported.run("report", "--out", str(tmp_path / "nowhere" / "r.txt"))
    assert result.exit_code == 2
    assert "does not exist" in result.err
    with imported.session() as session:
        assert (
            session.execute(
                sa.select(sa.func.count()).select_from(Audit).where(Audit.action == "report_export")
            ).scalar()
            == 0
        )


def test_every_export_is_audited_with_its_options(imported):
    for fmt in ("text", "json", "html", "csv"):
        assert imported.run("report", "--format", fmt, "--site", "BG").exit_code == 0
    with imported.session() as session:
        details = [
            json.loads(d)
            for d in session.execute(
                sa.select(Audit.detail).where(Audit.action == "report_export").order_by(Audit.id)
            ).scalars()
        ]
    assert [d["format"] for d in details] == ["text", "json", "html", "csv"]
    assert all(
        d["site"] == "BG" and d["suppress"] is True and d["as_of"] == "2026-11-24" for d in details
    )
