"""The definitions, case by case: censoring, the as-of date, sources, origins, missing
answers, follow-up outcomes and who counts in the completion rate."""

from __future__ import annotations

from datetime import date

import pytest

from followup.report.build import ReportOptions, person_times

from .conftest import report_json

PARTICIPANTS = """\
    case_id,site,referral_source,enrolled_on,protocol,facilitator
    A,BG,court,2025-09-01,undp-serbia,F1
    B,BG,court,2025-09-01,undp-serbia,F1
    C,BG,police,2025-09-01,undp-serbia,F1
    D,BG,police,2025-09-01,undp-serbia,F1
    E,BG,prosecutor,2025-09-01,undp-serbia,F1
    F,BG,prosecutor,2025-09-01,undp-serbia,F1
    """
PARTNERS = """\
    partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
    P-A,A,current,2025-09-05,phone,+381601234501,,PS1
    P-B,B,current,2025-09-05,phone,+381601234502,,PS1
    P-C,C,current,2025-09-05,phone,+381601234503,,PS1
    """
HEADER = (
    "case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,"
    "economic,coercive,new_offence,reported_on\n"
)
STATUS = "".join(
    f"{case},2025-09-10,admitted,,,,,,,,,,\n{case},2025-09-20,programme_start,,,,,,,,,,\n"
    f"{case},2026-03-10,completed,,,,,,,,,,\n"
    for case in "ABCDEF"
)
EVENTS = (
    HEADER
    + STATUS
    + """\
A,2026-03-15,interview,participant,end_of_programme,,no,no,no,no,no,,
A,2026-06-10,interview,partner,followup_3m,,no,,no,no,no,,
B,2026-04-01,interview,participant,end_of_programme,,no,no,no,no,no,,
B,2026-06-10,interview,partner,followup_3m,,no,no,yes,no,no,,
B,2026-09-06,record_check,,,,,,,,,no,
C,2026-03-20,interview,participant,end_of_programme,,no,no,no,no,no,,
C,2026-05-09,recidivism,,,partner,yes,,,,,,2026-05-12
C,2026-06-10,interview,partner,followup_3m,,yes,no,yes,no,yes,,
D,2025-09-05,interview,participant,intake_assessment,,no,no,no,no,no,,
E,2026-01-10,recidivism,,,police,yes,,,,,,
E,2026-04-09,interview,participant,end_of_programme,,no,no,no,no,no,,
F,2026-04-20,interview,participant,end_of_programme,,no,no,no,no,no,,
F,2026-07-08,record_check,,,,,,,,,yes,
"""
)


def imported_csv(deployment, kind: str, text: str) -> None:
    result = deployment.run("import", kind, str(deployment.csv(f"{kind}.csv", text)))
    assert result.exit_code == 0, result.err


@pytest.fixture
def cases(staffed):
    imported_csv(staffed, "participants", PARTICIPANTS)
    imported_csv(staffed, "partners", PARTNERS)
    imported_csv(staffed, "events", EVENTS)
    return staffed


def recidivism(deployment, **options) -> dict[str, tuple[float, bool]]:
    with deployment.session() as session:
        times = person_times(deployment.ctx, session, ReportOptions(**options))["recidivism"]
    return {
        case: (float(t), bool(e))
        for case, t, e in zip("ABCDEF", times.durations, times.events, strict=True)
    }, times.no_contact


def test_a_man_without_recidivism_is_censored_at_his_last_follow_up_contact(cases):
    times, no_contact = recidivism(cases)
    assert times["A"] == (92, False)  # his partner's interview, after his own
    assert times["B"] == (180, False)  # a police record check that found nothing is a contact
    assert times["E"] == (30, False)  # violence before completion is not after the origin


def test_recidivism_is_dated_on_the_day_of_the_violence_not_the_report(cases):
    times, _ = recidivism(cases)
    assert times["C"] == (60, True)  # violence on 9 May, reported on 12 May
    assert times["F"] == (120, True)  # a record check finding a new offence


def test_a_man_with_no_contact_after_the_origin_is_censored_at_zero_and_counted(cases):
    times, no_contact = recidivism(cases)
    assert times["D"] == (0, False)
    assert no_contact == 1
    report = report_json(cases, "--no-suppress")["survival"]["recidivism"]["overall"]
    assert report["no_contact_after_origin"] == 1
    assert report["censored_at_last_contact"] == 3


def test_nothing_after_the_as_of_date_is_counted_and_censoring_never_passes_it(cases):
    times, _ = recidivism(cases, as_of=date(2026, 6, 30))
    assert times["B"] == (92, False)  # the September record check is after the as-of date
    assert times["F"] == (41, False)  # so is the record check that found an offence
    assert times["C"] == (60, True)
    assert all(t <= (date(2026, 6, 30) - date(2026, 3, 10)).days for t, _ in times.values())


@pytest.mark.parametrize(
    ("source", "events", "censored"),
    [
        ("police", {"F"}, {"C": 92}),
        ("partner", {"C"}, {"F": 120}),
        ("participant", set(), {"C": 92, "F": 120}),
    ],
)
def test_only_the_chosen_source_counts_as_recidivism(cases, source, events, censored):
    times, _ = recidivism(cases, source=source)
    assert {case for case, (_, event) in times.items() if event} == events
    for case, days in censored.items():
        assert times[case] == (days, False)


def test_from_admission_violence_during_the_programme_counts(cases):
    times, _ = recidivism(cases, origin="admission")
    assert times["E"] == ((date(2026, 1, 10) - date(2025, 9, 10)).days, True)
    assert times["C"] == ((date(2026, 5, 9) - date(2025, 9, 10)).days, True)


def test_the_json_counts_match_the_cases(cases):
    overall = report_json(cases, "--no-suppress")["survival"]["recidivism"]["overall"]
    assert (overall["n"], overall["events"], overall["censored"]) == (6, 2, 4)
    assert [(p["t"], p["at_risk"], p["events"]) for p in overall["curve"]] == [
        (60, 4, 1),
        (120, 2, 1),
    ]


def test_a_missing_answer_is_missing_never_non_violent(cases):
    partner = report_json(cases, "--no-suppress")["non_violence"]["followup_3m"]["partner"]
    # A did not say whether there was sexual violence: not counted at all.
    assert (partner["n"], partner["non_violent"], partner["violent"], partner["not_asked"]) == (
        2,
        1,
        1,
        1,
    )
    assert partner["rate"] == 0.5
    assert partner["by_type"]["physical"]["n"] == 3
    assert partner["by_type"]["sexual"]["n"] == 2
    assert partner["by_type"]["psychological"]["none_reported"] == 1


def test_his_and_her_answers_are_paired_per_checkpoint(cases):
    # Same checkpoint needed: no man here has an interview at followup_3m, so no pair.
    assert report_json(cases, "--no-suppress")["agreement"] == {}


def test_cohort_funnel_counts_where_everyone_stands(cases):
    cohort = report_json(cases, "--no-suppress")["cohort"]
    assert cohort["enrolled"] == cohort["admitted"] == cohort["completed"] == 6
    assert cohort["in_programme"] == cohort["dropped_out"] == 0
    earlier = report_json(cases, "--no-suppress", "--as-of", "2025-09-15")["cohort"]
    assert (earlier["admitted"], earlier["in_programme"], earlier["completed"]) == (6, 6, 0)


RETENTION = """\
    case_id,site,referral_source,enrolled_on,protocol,facilitator
    H,BG,court,2026-01-01,undp-serbia,F1
    I,BG,court,2026-01-01,undp-serbia,F1
    J,BG,court,2026-01-01,undp-serbia,F1
    K,NS,self,2026-08-20,undp-serbia,F2
    L,NS,self,2026-01-01,undp-serbia,F2
    """
RETENTION_EVENTS = (
    HEADER
    + """\
H,2026-01-05,admitted,,,,,,,,,,
H,2026-01-19,programme_start,,,,,,,,,,
I,2026-01-05,admitted,,,,,,,,,,
I,2026-01-19,programme_start,,,,,,,,,,
I,2026-06-30,completed,,,,,,,,,,
J,2026-01-05,admitted,,,,,,,,,,
J,2026-02-01,transferred,,,,,,,,,,
K,2026-09-01,admitted,,,,,,,,,,
L,2026-01-05,admitted,,,,,,,,,,
L,2026-02-01,dropped_out,,,,,,,,,,
"""
)


@pytest.mark.parametrize(
    ("as_of", "n", "completed", "no_end"),
    [
        # H: first session 19 Jan + 24 weeks = 6 July, + 28 days' grace = 3 August.
        ("2026-08-02", 2, 1, 0),  # I completed, L dropped out; H has not had time yet
        ("2026-08-03", 3, 1, 1),  # H is now past his expected end with nothing recorded
        ("2026-06-29", 1, 0, 0),  # only L: I completes the next day
    ],
)
def test_only_men_whose_programme_has_had_time_to_end_count_in_the_completion_rate(
    staffed, as_of, n, completed, no_end
):
    imported_csv(staffed, "participants", RETENTION)
    imported_csv(staffed, "events", RETENTION_EVENTS)
    retention = report_json(staffed, "--no-suppress", "--as-of", as_of)["retention"]
    # J (transferred) never counts; K was admitted in September and is far from his end.
    assert (retention["n"], retention["completed"], retention["no_end_recorded"]) == (
        n,
        completed,
        no_end,
    )
    assert retention["not_completed"] == n - completed
    assert retention["completion_rate"] == (completed / n if n else None)
    assert sum(g["n"] for g in retention["by_site"].values()) == n


FOLLOWUP = """\
    case_id,site,referral_source,enrolled_on,protocol,facilitator
    M,BG,court,2026-10-01,undp-serbia,F1
    N,BG,court,2026-10-01,undp-serbia,F1
    """
FOLLOWUP_EVENTS = (
    HEADER
    + """\
M,2026-10-26,interview,participant,intake_assessment,,no,no,no,no,no,,
N,2026-10-05,interview,participant,intake_assessment,,no,no,no,no,no,,
"""
)


@pytest.mark.parametrize(
    ("as_of", "outcomes"),
    [
        # intake_assessment: due on enrolment, window closes 21 days later (22 October)
        (
            "2026-10-10",
            {"in_window": 1, "late": 0, "unreachable": 0, "refused": 0, "missed": 0, "open": 1},
        ),
        (
            "2026-10-25",
            {"in_window": 1, "late": 0, "unreachable": 0, "refused": 0, "missed": 1, "open": 0},
        ),
        (
            "2026-11-24",
            {"in_window": 1, "late": 1, "unreachable": 0, "refused": 0, "missed": 0, "open": 0},
        ),
    ],
)
def test_follow_up_outcomes_are_read_as_they_stood_on_the_as_of_date(staffed, as_of, outcomes):
    imported_csv(staffed, "participants", FOLLOWUP)
    imported_csv(staffed, "events", FOLLOWUP_EVENTS)
    intake = report_json(staffed, "--no-suppress", "--as-of", as_of)["followup"][
        "intake_assessment"
    ]
    assert intake["participant"] == {
        "due": 2,
        **outcomes,
        "cancelled": 0,
        "attempted": 0,
        "attempts": 0,
        "done": outcomes["in_window"] + outcomes["late"],
        "done_or_missed": outcomes["in_window"] + outcomes["late"] + outcomes["missed"],
        "rate": pytest.approx(intake["participant"]["rate"]),
        "ci": intake["participant"]["ci"],
    }
    done = outcomes["in_window"] + outcomes["late"]
    assert intake["participant"]["rate"] == done / (done + outcomes["missed"])
