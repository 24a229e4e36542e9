"""Who was reached, who could not be, who was never tried (issue 13, point 7), and the
non-violence bounds for the unknown, on a hand-built cohort whose every figure is worked
out by hand below.

Ten men enrolled at BG, each with one partner; her first contact (`partner_first_contact`,
due on his enrolment, window 14 days) went as follows, as of 2026-11-24:

    P1  reached in the window at the first attempt; no violence reported
    P2  reached in the window; physical violence reported
    P3  reached after the window closed (late); no violence reported
    P4  unreachable: three attempts that did not reach her (window still open)
    P5  unreachable: the window closed after one attempt (read-time rule)
    P6  missed: the window closed and nobody tried
    P7  refused at the first attempt
    P8  cancelled: she withdrew consent before the window closed
    P9  missed: her window had closed (untried) before she withdrew consent
    P10 still open: the window has not closed

Due (not cancelled) 9 = 2 in window + 1 late + 2 unreachable + 1 refused + 2 missed + 1
open; attempted 4 (P1, P4, P5, P7), attempts 6; done 3 of 8 ended. Non-violence: 3
answered, 2 non-violent, so 5 of the 8 ended follow-ups were not reached: worst case 2/8,
best case 7/8.
"""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa
from scipy.stats import binomtest

from followup.models import FollowUp, Partner
from followup.schedule import REFUSED, UNREACHABLE
from followup.stats import attrition_bounds, wilson

from .attacker import findings
from .conftest import report_csv, report_json

CHECKPOINT = "partner_first_contact"

STAFF = """\
staff_id,site,name,roles,phone,email,channel,language
F1,BG,Marko Petrović,facilitator,+381641111111,marko@example.org,console,sr-Latn
PS1,BG,Ana Jovanović,partner_support,+381642222222,ana@example.org,console,
"""

# partner -> his enrolment (her first contact is due that day, its window 14 days)
ENROLLED = {
    "P1": "2026-10-01",
    "P2": "2026-10-01",
    "P3": "2026-10-01",
    "P4": "2026-11-15",
    "P5": "2026-10-01",
    "P6": "2026-10-01",
    "P7": "2026-11-01",
    "P8": "2026-11-18",
    "P9": "2026-10-01",
    "P10": "2026-11-20",
}
# partner -> (interview date, physical violence reported)
INTERVIEWS = {"P1": ("2026-10-05", "no"), "P2": ("2026-10-06", "yes"), "P3": ("2026-10-25", "no")}
# partner -> (status or None to leave it, attempts)
ATTEMPTS = {
    "P1": (None, 1),
    "P4": (UNREACHABLE, 3),
    "P5": (None, 1),
    "P7": (REFUSED, 1),
}
WITHDRAWN = {"P8": "2026-11-20", "P9": "2026-11-01"}


def _case(partner: str) -> str:
    return f"BG-{int(partner[1:]):03d}"


def build_cohort(deployment) -> None:
    participants = ["case_id,site,referral_source,enrolled_on,protocol,facilitator"]
    partners = ["partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker"]
    events = [
        "case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,"
        "economic,coercive,partner_id"
    ]
    for partner, enrolled in ENROLLED.items():
        case = _case(partner)
        participants.append(f"{case},BG,court,{enrolled},undp-serbia,F1")
        number = f"+3816980000{int(partner[1:]):02d}"
        partners.append(f"{partner},{case},current,{enrolled},phone,{number},,PS1")
    for partner, (on, physical) in INTERVIEWS.items():
        events.append(
            f"{_case(partner)},{on},interview,partner,{CHECKPOINT},,{physical},no,no,no,no,{partner}"
        )
    for kind, lines in (
        ("staff", STAFF.splitlines()),
        ("participants", participants),
        ("partners", partners),
        ("events", events),
    ):
        path = deployment.csv(f"{kind}.csv", "\n".join(lines) + "\n")
        result = deployment.run("import", kind, str(path))
        assert result.exit_code == 0, result.err
    for partner, on in WITHDRAWN.items():
        result = deployment.run("record", "consent", partner, "--withdrawn", "--on", on)
        assert result.exit_code == 0, result.err
    # The attempts operation is another engineer's: set the counters as it would.
    with deployment.session() as session:
        for partner, (status, attempts) in ATTEMPTS.items():
            row = _first_contact(session, partner)
            row.attempts = row.unreached_attempts = attempts
            if status:
                row.status = status


def _first_contact(session, partner: str) -> FollowUp:
    return session.execute(
        sa.select(FollowUp)
        .join(Partner, Partner.id == FollowUp.partner_id)
        .where(Partner.partner_id == partner, FollowUp.checkpoint == CHECKPOINT)
    ).scalar_one()


@pytest.fixture
def cohort(deployment):
    build_cohort(deployment)
    return deployment


EXPECTED = {
    "due": 9,
    "in_window": 2,
    "late": 1,
    "unreachable": 2,
    "refused": 1,
    "missed": 2,
    "open": 1,
    "cancelled": 1,
    "attempted": 4,
    "attempts": 6,
    "done": 3,
    "done_or_missed": 8,
}


def close(a: list[float], b: list[float] | tuple[float, float]) -> bool:
    return all(math.isclose(x, y, rel_tol=0, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def test_the_hand_built_cohort_is_what_the_docstring_says(cohort):
    with cohort.session() as session:
        statuses = {p: _first_contact(session, p).status for p in ENROLLED}
    assert statuses["P8"] == "cancelled"  # withdrawn while her window was open
    assert statuses["P9"] == "scheduled"  # closed before the withdrawal: kept, reads missed


def test_each_outcome_is_counted_apart_and_cancelled_stays_out_of_due(cohort):
    f = report_json(cohort, "--no-suppress")["followup"][CHECKPOINT]["partner"]
    assert {key: f[key] for key in EXPECTED} == EXPECTED
    assert f["rate"] == 3 / 8
    assert close(f["ci"], binomtest(3, 8).proportion_ci(method="wilson"))


def test_the_bounds_are_the_hand_computed_worst_and_best_cases(cohort):
    e = report_json(cohort, "--no-suppress")["non_violence"][CHECKPOINT]["partner"]
    assert (e["n"], e["non_violent"], e["no_interview"]) == (3, 2, 5)
    b = e["bounds"]
    assert (b["ended"], b["not_reached"]) == (8, 5)
    assert b["worst"]["rate"] == 2 / 8  # everyone not reached reported violence
    assert b["best"]["rate"] == 7 / 8  # none of them did
    assert close(b["worst"]["ci"], binomtest(2, 8).proportion_ci(method="wilson"))
    assert close(b["best"]["ci"], binomtest(7, 8).proportion_ci(method="wilson"))
    assert b["worst"]["rate"] <= e["rate"] <= b["best"]["rate"]
    # per violence type: physical answered by all three, one reported it
    physical = e["by_type"]["physical"]["bounds"]
    assert (physical["ended"], physical["not_reached"]) == (8, 5)
    assert (physical["worst"]["rate"], physical["best"]["rate"]) == (2 / 8, 7 / 8)


@pytest.mark.parametrize(("k", "answered", "due"), [(0, 0, 1), (2, 3, 8), (7, 7, 7), (40, 57, 90)])
def test_wilson_bounds_match_scipy(k, answered, due):
    b = attrition_bounds(k, answered, due)
    assert b.not_reached == due - answered
    for p, successes in ((b.worst, k), (b.best, k + due - answered)):
        assert p.rate == successes / due
        assert close(
            [p.ci_low, p.ci_high], binomtest(successes, due).proportion_ci(method="wilson")
        )
    assert b.worst == wilson(k, due)  # the report's own Wilson function


def test_more_answered_than_due_is_refused_by_the_bounds():
    with pytest.raises(ValueError, match="answered"):
        attrition_bounds(1, 5, 4)


def test_the_csv_carries_the_new_outcomes_and_the_bounds(cohort):
    rows = report_csv(cohort, "--no-suppress")
    mine = [r for r in rows if r["checkpoint"] == CHECKPOINT and r["informant"] == "partner"]

    def row(measure: str) -> dict[str, str]:
        found = [
            r for r in mine if r["measure"] == measure and r["violence_type"] in ("", "definition")
        ]
        assert len(found) == 1, measure
        return found[0]

    for key in ("in_window", "late", "unreachable", "refused", "missed", "open"):
        assert (row(f"followup_{key}")["n"], row(f"followup_{key}")["count"]) == (
            "9",
            str(EXPECTED[key]),
        ), key
    assert row("followup_cancelled")["count"] == "1"
    assert (row("followup_attempted")["n"], row("followup_attempted")["count"]) == ("9", "4")
    assert (row("followup_attempts")["n"], row("followup_attempts")["count"]) == ("4", "6")
    assert (row("non_violence_not_reached")["n"], row("non_violence_not_reached")["count"]) == (
        "8",
        "5",
    )
    worst, best = row("non_violence_worst"), row("non_violence_best")
    assert (worst["n"], worst["count"], float(worst["value"])) == ("8", "2", 2 / 8)
    assert (best["n"], best["count"], float(best["value"])) == ("8", "7", 7 / 8)
    low, high = binomtest(7, 8).proportion_ci(method="wilson")
    assert close([float(best["ci_low"]), float(best["ci_high"])], [low, high])


def test_the_html_and_text_show_the_outcomes_and_the_bounds(cohort):
    html = cohort.run("report", "--format", "html", "--no-suppress").out
    for words in ("Unreachable", "Refused", "Missed (never tried)", "Cancelled", "Attempts"):
        assert words in html
    assert "Worst case" in html and "Best case" in html
    assert "25.0%" in html and "87.5%" in html  # 2/8 and 7/8
    assert "Bounds for the unknown" in html
    text = cohort.run("report", "--no-suppress").out
    assert "bounds 25.0%" in text and "87.5%" in text
    assert "5 of 8 not reached" in text


def test_the_new_cells_are_suppressed_at_the_threshold_and_the_attacker_finds_nothing(cohort):
    report = report_json(cohort)
    f = report["followup"][CHECKPOINT]["partner"]
    reasons = f["suppressed_reasons"]
    for key in ("unreachable", "refused", "missed", "open", "cancelled", "attempted"):
        assert f[key] is None and reasons[key] == "small", key
    bounds = report["non_violence"][CHECKPOINT]["partner"]["bounds"]
    assert bounds["not_reached"] is None  # 5 is not below 5, but it would give away others
    for end in ("worst", "best"):
        assert bounds[end]["rate"] is None and bounds[end]["ci"] is None
        assert bounds[end]["suppressed_fields"] == ["rate", "ci"]
    assert report["suppression"]["audit"]["passed"]
    assert findings(report) == []


def test_a_count_at_the_threshold_is_shown_and_one_below_is_hidden(make_deployment):
    deployment = make_deployment(extra="[analysis]\nsuppression_threshold = 2\n")
    build_cohort(deployment)
    report = report_json(deployment)
    f = report["followup"][CHECKPOINT]["partner"]
    for key in ("refused", "open", "cancelled"):  # 1 each
        assert f[key] is None and f["suppressed_reasons"][key] == "small", key
    assert f["late"] is None  # 1 as well
    assert f["attempted"] == 4 and f["attempts"] == 6
    assert findings(report) == []
    assert report["suppression"]["audit"]["passed"]


def test_as_of_before_the_windows_close_nothing_is_missed_yet(cohort):
    f = report_json(cohort, "--no-suppress", "--as-of", "2026-10-10")["followup"][CHECKPOINT]
    row = f["partner"]
    # P1, P2 done in the window; P3, P5, P6, P9 still open (window closes 2026-10-15)
    assert (row["due"], row["in_window"], row["open"], row["missed"]) == (6, 2, 4, 0)
    assert row["unreachable"] == 0
