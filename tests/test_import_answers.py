"""`followup import answers FILE`: instrument answers in long form, grouped into
interviews, checked by the instrument's rules, all or nothing, with FILE:ROW problems."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup import answer_store, instrument_store, scoring
from followup.context import SHIPPED_INSTRUMENTS
from followup.imports import load
from followup.instruments import load_instruments
from followup.models import (
    FollowUp,
    InstrumentAnswer,
    Interview,
    InterviewScore,
    Participant,
    SafetyAlert,
)
from tests.conftest import STAFF_CSV

SCHEDULES = Path(__file__).resolve().parents[1] / "schedules"
HEADER = "case_id,partner_id,date,informant,checkpoint,instrument,item,value\n"

# Every item type, a skip rule, a violence type, felt safety, and a banded score that alerts.
INSTRUMENT = """\
id = "import-test"
name = "Import test"

[[items]]
id = "hit"
type = "yes_no"
required = true
counts_as = "physical"
label = "Hit?"

[[items]]
id = "hit_times"
type = "frequency"
label = "How often?"
show_if = { item = "hit", equals = "yes" }
bands = [{ code = "none", midpoint = 0 }, { code = "once", midpoint = 1 }, { code = "often", midpoint = 5 }]

[[items]]
id = "mood"
type = "scale"
min = 1
max = 5
label = "Mood"

[[items]]
id = "kind"
type = "choice"
label = "Kind"
options = [{ code = "calm", value = 0 }, { code = "tense", value = 2 }]

[[items]]
id = "visits"
type = "number"
max = 100
label = "Visits"

[[items]]
id = "last_seen"
type = "date"
label = "Last seen"

[[items]]
id = "note"
type = "text"
label = "Note"

[[items]]
id = "felt_safety"
type = "scale"
min = 1
max = 5
label = "Felt safety"

[[scores]]
id = "harm"
method = "sum"
items = ["hit", "hit_times", "kind"]
max_missing = 1
alert_at = "high"
bands = [{ at_least = 0, label = "low" }, { at_least = 3, label = "high" }]
"""

PARTICIPANTS = """\
    case_id,site,referral_source,enrolled_on,protocol,facilitator
    BG-1,BG,court,2026-01-05,undp-serbia,F1
    BG-2,BG,prosecutor,2026-02-10,,F1
    BG-3,BG,court,2026-11-10,,F1
    """
PARTNERS = """\
    partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker
    P-1,BG-1,current,2026-01-09,phone,+381601234567,,PS1
    P-2,BG-2,ex,,email,,her@example.org,PS1
    P-3,BG-3,current,2026-11-11,phone,+381601234568,,PS1
    """
EVENTS = """\
    case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,economic,coercive
    BG-1,2026-01-12,admitted,,,,,,,,
    BG-1,2026-01-26,programme_start,,,,,,,,
    """
# Three interviews: his intake and her first contact on the same day, and her check-in a
# month later (one of its rows in among the others: rows group by their columns, not order).
GOOD = (
    HEADER
    + """\
BG-1,,2026-01-10,participant,intake_assessment,import-test,hit,no
BG-1,,2026-01-10,participant,intake_assessment,import-test,mood,4
BG-1,,2026-01-10,participant,intake_assessment,import-test,kind,calm
BG-1,,2026-01-10,participant,intake_assessment,import-test,visits,2.5
BG-1,,2026-01-10,participant,intake_assessment,import-test,last_seen,2026-01-03
BG-1,,2026-01-10,participant,intake_assessment,import-test,note,He says it is all her fault
BG-1,,2026-01-10,participant,intake_assessment,import-test,felt_safety,not_applicable
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,hit,yes
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,hit_times,often
BG-1,P-1,2026-02-24,partner,partner_checkin,import-test,hit,no
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,mood,dont_know
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,kind,TENSE
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,visits,refused
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,last_seen,not_asked
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,note,He took my phone again
BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,felt_safety,2
BG-1,P-1,2026-02-24,partner,partner_checkin,import-test,felt_safety,4
"""
)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


def _own_schedules(folder: Path) -> Path:
    """The shipped schedules, with the test instrument asked at his intake and at her
    first contact and check-ins."""
    shutil.copytree(SCHEDULES, folder)
    (folder / "instruments" / "import-test.toml").write_text(INSTRUMENT)
    protocol = folder / "undp-serbia.toml"
    text = protocol.read_text()
    for name in ("intake_assessment", "partner_first_contact", "partner_checkin"):
        line = f'name = "{name}"\n'
        assert line in text
        text = text.replace(line, line + 'instrument = "import-test"\n')
    protocol.write_text(text)
    return folder


def _run(deployment, *args):
    result = deployment.run("import", *args)
    assert result.exit_code == 0, result.err
    return result


@pytest.fixture
def cohort(make_deployment, tmp_path):
    deployment = make_deployment(
        protocols_dir=_own_schedules(tmp_path / "schedules"), active=("undp-serbia",)
    )
    _run(deployment, "staff", str(deployment.csv("staff.csv", STAFF_CSV)))
    _run(deployment, "participants", str(deployment.csv("participants.csv", PARTICIPANTS)))
    _run(deployment, "partners", str(deployment.csv("partners.csv", PARTNERS)))
    _run(deployment, "events", str(deployment.csv("events.csv", EVENTS)))
    return deployment


def answers_file(deployment, text: str, name: str = "answers.csv") -> Path:
    path = deployment.folder / name
    path.write_text(text, encoding="utf-8")
    return path


def import_answers(deployment, text: str):
    return _run(deployment, "answers", str(answers_file(deployment, text)))


def rejected(deployment, text: str) -> list[str]:
    path = answers_file(deployment, text)
    result = deployment.run("import", "answers", str(path))
    assert result.exit_code != 0, result.out
    lines = [line.replace(f"{path}:", "answers.csv:") for line in result.err.splitlines()]
    assert lines[-1].startswith("Error: answers.csv: ") and "nothing was imported" in lines[-1]
    return lines[:-1]


def count(deployment, model) -> int:
    with deployment.session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def interviews(deployment) -> dict[tuple[str, date], Interview]:
    with deployment.session() as session:
        rows = session.execute(sa.select(Interview).where(Interview.instrument != "core"))
        found = {(i.checkpoint, i.conducted_on): i for i in rows.scalars()}
        for interview in found.values():
            session.expunge(interview)
        return found


def stored_answers(deployment, interview: Interview) -> dict[str, str]:
    with deployment.session() as session:
        return answer_store.answers_of(session, deployment.ctx.vault, interview)


# --- a good file ---------------------------------------------------------------------------


def test_a_good_file_becomes_one_interview_per_group_with_every_item_type_and_missing_code(
    cohort,
):
    result = import_answers(cohort, GOOD)
    assert "17 answers row(s): 17 new, 0 updated, 0 already present" in result.out
    found = interviews(cohort)
    assert sorted(found) == [
        ("intake_assessment", date(2026, 1, 10)),
        ("partner_checkin", date(2026, 2, 24)),
        ("partner_first_contact", date(2026, 1, 10)),
    ]
    his = found[("intake_assessment", date(2026, 1, 10))]
    hers = found[("partner_first_contact", date(2026, 1, 10))]
    revision = cohort.ctx.instruments["import-test"].revision
    assert (his.instrument, his.instrument_revision) == ("import-test", revision)
    assert (his.informant, his.partner_id, hers.informant) == ("participant", None, "partner")
    assert hers.partner_id is not None
    assert stored_answers(cohort, his) == {
        "hit": "no",
        "hit_times": "not_applicable",  # hidden by its show_if
        "mood": "4",
        "kind": "calm",
        "visits": "2.5",
        "last_seen": "2026-01-03",
        "note": "He says it is all her fault",
        "felt_safety": "not_applicable",
    }
    assert stored_answers(cohort, hers) == {
        "hit": "yes",
        "hit_times": "often",
        "mood": "dont_know",
        "kind": "tense",
        "visits": "refused",
        "last_seen": "not_asked",
        "note": "He took my phone again",
        "felt_safety": "2",
    }
    # An item with no row is not asked; the columns reports read say what the items mean.
    checkin = found[("partner_checkin", date(2026, 2, 24))]
    assert stored_answers(cohort, checkin)["mood"] == "not_asked"
    assert (hers.physical, hers.felt_safety, his.physical, his.felt_safety) == (
        True,
        2,
        False,
        None,
    )
    assert (checkin.physical, checkin.felt_safety, checkin.sexual) == (False, 4, None)


def test_text_answers_are_sealed(cohort):
    import_answers(cohort, GOOD)
    with cohort.session() as session:
        rows = session.execute(
            sa.select(InstrumentAnswer.value, InstrumentAnswer.value_sealed).where(
                InstrumentAnswer.item == "note"
            )
        ).all()
    assert sorted(value or "sealed" for value, _ in rows) == ["not_asked", "sealed", "sealed"]
    for value, sealed in rows[:0] + [r for r in rows if r[0] is None]:
        assert value is None and sealed and b"phone" not in sealed and b"fault" not in sealed


def test_the_stored_scores_are_the_scores_of_the_stored_answers(cohort):
    import_answers(cohort, GOOD)
    instrument = cohort.ctx.instruments["import-test"]
    found = interviews(cohort)
    for interview in found.values():
        expected = scoring.scores(instrument, stored_answers(cohort, interview))
        with cohort.session() as session:
            stored = answer_store.scores_of(session, interview.id)
            assert [(s.score, s.value, s.band, s.withheld) for s in stored] == [
                (r.score, r.value, r.band, r.withheld) for r in expected
            ]
    hers = found[("partner_first_contact", date(2026, 1, 10))]
    checkin = found[("partner_checkin", date(2026, 2, 24))]
    with cohort.session() as session:
        (her_score,) = answer_store.scores_of(session, hers.id)
        (checkin_score,) = answer_store.scores_of(session, checkin.id)
    assert (her_score.value, her_score.band) == (8.0, "high")  # yes 1 + often 5 + tense 2
    assert checkin_score.value is None and "2 of 3 items missing" in checkin_score.withheld


def test_the_imported_interviews_complete_their_follow_ups(cohort):
    import_answers(cohort, GOOD)
    with cohort.session() as session:
        rows = session.execute(
            sa.select(FollowUp.checkpoint, FollowUp.status, FollowUp.completed_on).where(
                FollowUp.checkpoint.in_(
                    ("intake_assessment", "partner_first_contact", "partner_checkin")
                ),
                FollowUp.participant_id
                == sa.select(Participant.id).where(Participant.case_id == "BG-1").scalar_subquery(),
                FollowUp.status == "completed",
            )
        ).all()
        linked = session.execute(
            sa.select(sa.func.count())
            .select_from(Interview)
            .where(Interview.instrument == "import-test", Interview.followup_id.is_not(None))
        ).scalar_one()
    assert sorted(rows) == [
        ("intake_assessment", "completed", date(2026, 1, 10)),
        ("partner_checkin", "completed", date(2026, 2, 24)),
        ("partner_first_contact", "completed", date(2026, 1, 10)),
    ]
    assert linked == 3


def test_an_interview_whose_answers_fill_no_interview_column_still_completes_its_follow_up(
    cohort,
):
    # No violence type known, no felt safety: an instrument's answers are still answers.
    import_answers(
        cohort,
        HEADER
        + "BG-2,,2026-02-12,participant,intake_assessment,import-test,hit,dont_know\n"
        + "BG-2,,2026-02-12,participant,intake_assessment,import-test,mood,3\n",
    )
    with cohort.session() as session:
        status = session.execute(
            sa.select(FollowUp.status)
            .join(Participant, Participant.id == FollowUp.participant_id)
            .where(Participant.case_id == "BG-2", FollowUp.checkpoint == "intake_assessment")
        ).scalar_one()
    assert status == "completed"


def test_re_importing_the_same_file_adds_nothing(cohort):
    import_answers(cohort, GOOD)
    before = [count(cohort, m) for m in (Interview, InstrumentAnswer, InterviewScore)]
    again = import_answers(cohort, GOOD)
    assert "17 answers row(s): 0 new, 0 updated, 17 already present" in again.out
    assert [count(cohort, m) for m in (Interview, InstrumentAnswer, InterviewScore)] == before


def test_an_interview_imported_before_with_other_answers_is_refused_at_the_changed_row(cohort):
    import_answers(cohort, GOOD)
    changed = GOOD.replace(
        "partner_first_contact,import-test,mood,dont_know",
        "partner_first_contact,import-test,mood,refused",
    )
    problems = rejected(cohort, changed)
    (interview_id,) = [
        i.id for i in interviews(cohort).values() if i.checkpoint == "partner_first_contact"
    ]
    assert problems[0] == (
        f"answers.csv:12: value: this interview was imported before (interview {interview_id}) "
        "with another answer to mood; an import does not change answers. Hint: correct the "
        f"interview instead (followup record correct interview {interview_id}, or its page)"
    )


def test_an_events_interview_in_the_same_load_stays_a_core_interview(cohort):
    events = textwrap.dedent("""\
        case_id,date,event,informant,checkpoint,source,physical,sexual,psychological,economic,coercive
        BG-2,2026-02-12,interview,participant,,,no,no,no,no,no
        """)
    folder = cohort.folder / "load"
    folder.mkdir()
    (folder / "events.csv").write_text(events)
    (folder / "answers.csv").write_text(GOOD)
    _run(cohort, "--all", str(folder))
    with cohort.session() as session:
        kinds = session.execute(
            sa.select(Interview.instrument, Interview.instrument_revision)
        ).all()
    assert sorted(kinds, key=str) == sorted(
        [("core", None)] + [("import-test", cohort.ctx.instruments["import-test"].revision)] * 3,
        key=str,
    )


# --- a whole load -------------------------------------------------------------------------


@pytest.mark.parametrize("part_bytes", [None, 256], ids=["one part", "many parts"])
def test_import_all_reads_answers_csv_after_the_events(
    make_deployment, tmp_path, monkeypatch, part_bytes
):
    if part_bytes:
        monkeypatch.setattr(load, "PART_BYTES", part_bytes)  # a person's rows in one part
    deployment = make_deployment(
        protocols_dir=_own_schedules(tmp_path / "schedules"), active=("undp-serbia",)
    )
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in (
        ("staff.csv", STAFF_CSV),
        ("participants.csv", PARTICIPANTS),
        ("partners.csv", PARTNERS),
        ("events.csv", EVENTS),
    ):
        (folder / name).write_text(textwrap.dedent(text))
    (folder / "answers.csv").write_text(GOOD)
    result = _run(deployment, "--all", str(folder))
    assert result.out.splitlines()[-1].endswith(
        "answers.csv: 17 answers row(s): 17 new, 0 updated, 0 already present"
    )
    found = interviews(deployment)
    assert len(found) == 3 and all(i.followup_id is not None for i in found.values())
    assert count(deployment, InstrumentAnswer) == 24
    assert count(deployment, InterviewScore) == 3


# --- problems -----------------------------------------------------------------------------


def test_every_problem_is_reported_with_its_file_and_row(cohort):
    bad = HEADER + (
        "BG-9,,2026-01-10,participant,intake_assessment,import-test,hit,no\n"  # 2
        "BG-2,P-1,2026-02-12,partner,partner_first_contact,import-test,hit,no\n"  # 3
        "BG-1,P-1,2026-01-11,participant,intake_assessment,import-test,hit,no\n"  # 4
        "BG-1,,2026-01-12,partner,partner_first_contact,import-test,hit,no\n"  # 5
        "BG-1,,2026-01-13,participant,partner_first_contact,import-test,hit,no\n"  # 6
        "BG-1,,2026-01-14,participant,intake_assessment,core,hit,no\n"  # 7
        "BG-1,,2026-01-15,participant,intake_assessment,import-test,hitt,no\n"  # 8
        "BG-1,,2026-01-16,participant,intake_assessment,import-test,hit,maybe\n"  # 9
        "BG-1,,2026-01-17,participant,intake_assessment,import-test,mood,3\n"  # 10
        "BG-1,,2026-01-18,participant,intake_assessment,import-test,hit,no\n"  # 11
        "BG-1,,2026-01-18,participant,intake_assessment,import-test,hit_times,once\n"  # 12
        "BG-1,,2026-12-01,participant,intake_assessment,import-test,hit,no\n"  # 13
        "BG-1,,2026-01-02,participant,intake_assessment,import-test,hit,no\n"  # 14
        "BG-1,,2026-01-19,participant,intake_assessment,import-test,hit,no\n"  # 15
        "BG-1,,2026-01-19,participant,intake_assessment,import-test,hit,yes\n"  # 16
        "BG-1,,2026-01-20,participant,intake_assessment,import-test,hit,\n"  # 17
        "BG-1,,20-01-2026,participant,intake_assessment,import-test,hit,no\n"  # 18
        "BG-1,,2026-01-21,someone,intake_assessment,import-test,hit,no\n"  # 19
        "BG-1,,2026-01-22,participant,intake_assessment,import-test,visits,1000\n"  # 20
        "BG-1,,2026-01-22,participant,intake_assessment,import-test,hit,dont_know\n"  # 21
        "BG-1,,2026-01-23,participant,intake_assessment,import-test,hit,not_asked\n"  # 22
    )
    problems = rejected(cohort, bad)
    assert problems == [
        "answers.csv:2: case_id: case 'BG-9' is not enrolled. Hint: import participants first",
        "answers.csv:3: partner_id: partner 'P-1' is not linked to case BG-2",
        "answers.csv:4: partner_id: a participant's own interview names no partner. Hint: "
        "leave partner_id empty, or write informant partner for her interview",
        "answers.csv:5: partner_id: required for a partner's interview: write her partner_id",
        "answers.csv:6: checkpoint: protocol undp-serbia has no participant checkpoint "
        "'partner_first_contact'; expected one of end_of_programme, followup_3m, followup_6m, "
        "intake_assessment",
        "answers.csv:7: instrument: checkpoint intake_assessment asks import-test of the "
        "participant, not core. Hint: write import-test on this interview's rows",
        "answers.csv:8: item: 'hitt' is not an item of import-test; items are hit, hit_times, "
        "mood, kind, visits, last_seen, note, felt_safety",
        "answers.csv:9: value: hit: expected one of yes, no or a missing code (dont_know, "
        "refused, not_asked, not_applicable), got 'maybe'",
        "answers.csv:10: item: hit has no row in this interview, and it is required: give an "
        "answer or a missing code (e.g. dont_know)",
        "answers.csv:12: value: hit_times: not asked here: it is asked only when hit is yes",
        "answers.csv:13: date: 2026-12-01 is in the future (today is 2026-11-24 at BG)",
        "answers.csv:14: date: case BG-1: interview on 2026-01-02 is before enrolment on "
        "2026-01-05",
        "answers.csv:16: item: hit appears again in this interview (first on row 15)",
        "answers.csv:17: value: required, but empty. Hint: write a missing code (dont_know, "
        "refused, not_asked, not_applicable) for an item without an answer",
        "answers.csv:18: date: expected a date as YYYY-MM-DD, got '20-01-2026'",
        "answers.csv:19: informant: unknown informant 'someone'; expected one of participant, "
        "partner",
        "answers.csv:20: value: visits: expected a number from 0 to 100, got '1000'",
        "answers.csv:22: value: nothing was asked, so this interview does not complete "
        "intake_assessment: answer at least one question, or record it as held with nothing "
        "asked and give the reason",
    ]


def test_a_refused_row_leaves_its_interview_checked_but_not_its_answers(cohort):
    problems = rejected(
        cohort,
        HEADER
        + "BG-9,,2026-01-10,participant,intake_assessment,import-test,hit,\n"
        + "BG-1,,2026-01-10,participant,intake_assessment,Import-Test,hit,\n"
        + "BG-1,,2026-01-10,participant,intake_assessment,import-test,mood,3\n",
    )
    empty = (
        "value: required, but empty. Hint: write a missing code (dont_know, refused, "
        "not_asked, not_applicable) for an item without an answer"
    )
    assert problems == [
        f"answers.csv:2: {empty}",
        "answers.csv:2: case_id: case 'BG-9' is not enrolled. Hint: import participants first",
        f"answers.csv:3: {empty}",  # and nothing about hit having no row
    ]


def test_a_problem_matching_the_follow_up_is_reported_in_the_answers_file(cohort):
    # Her check-in's window has not opened on 12 January (the programme starts on the 26th).
    problems = rejected(
        cohort,
        HEADER + "BG-1,P-1,2026-01-12,partner,partner_checkin,import-test,hit,no\n",
    )
    assert len(problems) == 1 and problems[0].startswith("answers.csv:2: checkpoint: ")
    assert "window" in problems[0]


def test_a_checkpoint_recorded_before_and_an_interview_after_her_withdrawal_are_refused(cohort):
    import_answers(cohort, GOOD)
    withdrawn = cohort.run("record", "consent", "P-1", "--withdrawn", "--on", "2026-03-01")
    assert withdrawn.exit_code == 0, withdrawn.err
    again = HEADER + "BG-1,,2026-01-20,participant,intake_assessment,import-test,hit,no\n"
    assert rejected(cohort, again) == [
        "answers.csv:2: checkpoint: intake_assessment was already recorded on 2026-01-10",
    ]
    after = HEADER + "BG-1,P-1,2026-03-05,partner,partner_checkin,import-test,hit,no\n"
    assert rejected(cohort, after) == [
        "answers.csv:2: date: partner withdrew consent on 2026-03-01; no interview after that",
    ]


def test_her_answers_never_appear_in_a_problem(cohort):
    said = "he broke the door"
    problems = rejected(
        cohort,
        HEADER
        + f"BG-1,P-1,2026-01-10,partner,partner_first_contact,import-test,hit,{said}\n"
        + "BG-1,P-1,2026-01-11,partner,partner_first_contact,import-test,hit,no\n"
        + "BG-1,P-1,2026-01-11,partner,partner_first_contact,import-test,hit_times,once\n"
        + "BG-1,P-1,2026-01-12,partner,partner_first_contact,import-test,hit,no\n"
        + "BG-1,P-1,2026-01-12,partner,partner_first_contact,import-test,mood,9\n",
    )
    assert problems == [
        "answers.csv:2: value: hit: expected one of yes, no or a missing code (dont_know, "
        "refused, not_asked, not_applicable)",
        "answers.csv:4: value: hit_times: not asked here (its show_if hides it)",
        "answers.csv:6: value: mood: expected a whole number from 1 to 5",
    ]
    assert said not in "\n".join(problems)


def test_one_bad_row_writes_nothing(cohort):
    before = [count(cohort, m) for m in (Interview, InstrumentAnswer, InterviewScore, FollowUp)]
    bad = GOOD + "BG-2,,2026-02-12,participant,intake_assessment,import-test,hit,11\n"
    problems = rejected(cohort, bad)
    assert problems == [
        "answers.csv:19: value: hit: expected one of yes, no or a missing code (dont_know, "
        "refused, not_asked, not_applicable), got '11'",
    ]
    after = [count(cohort, m) for m in (Interview, InstrumentAnswer, InterviewScore, FollowUp)]
    assert after == before
    with cohort.session() as session:
        completed = session.execute(
            sa.select(sa.func.count())
            .select_from(FollowUp)
            .where(FollowUp.checkpoint == "partner_first_contact", FollowUp.status == "completed")
        ).scalar_one()
    assert completed == 0


# --- safety alerts ------------------------------------------------------------------------


def test_recent_violence_and_an_alert_band_raise_alerts_and_old_history_does_not(cohort):
    recent = HEADER + (
        # Her first contact four days ago: violence reported.
        "BG-3,P-3,2026-11-20,partner,partner_first_contact,import-test,hit,yes\n"
        "BG-3,P-3,2026-11-20,partner,partner_first_contact,import-test,hit_times,once\n"
        # His intake the same day: his own word raises nothing, but the harm score is high.
        "BG-3,,2026-11-20,participant,intake_assessment,import-test,hit,yes\n"
        "BG-3,,2026-11-20,participant,intake_assessment,import-test,hit_times,once\n"
        "BG-3,,2026-11-20,participant,intake_assessment,import-test,kind,tense\n"
    )
    old = GOOD  # January: her violence and a high band, but history
    import_answers(cohort, old)
    assert count(cohort, SafetyAlert) == 0
    import_answers(cohort, recent)
    with cohort.session() as session:
        alerted = (
            session.execute(
                sa.select(Interview.informant)
                .join(SafetyAlert, SafetyAlert.interview_id == Interview.id)
                .order_by(Interview.informant)
            )
            .scalars()
            .all()
        )
        (his_score,) = answer_store.scores_of(
            session,
            session.execute(
                sa.select(Interview.id).where(
                    Interview.informant == "participant",
                    Interview.conducted_on == date(2026, 11, 20),
                )
            ).scalar_one(),
        )
    assert (his_score.value, his_score.band) == (4.0, "high")  # yes 1 + once 1 + tense 2
    assert alerted == ["participant", "partner"]


def test_the_revision_in_force_is_the_one_answers_are_checked_against(cohort, tmp_path):
    # Applied before the file is edited: the edit changes nothing until `schedule apply`.
    with cohort.session() as session:
        applied = instrument_store.applied(
            session, cohort.ctx.instruments, "import-test", cohort.ctx.now()
        )
    path = tmp_path / "schedules" / "instruments" / "import-test.toml"
    path.write_text(path.read_text().replace("max = 100", "max = 10"))
    cohort._ctx = None
    import_answers(cohort, GOOD)
    (interview,) = [i for i in interviews(cohort).values() if i.checkpoint == "intake_assessment"]
    assert interview.instrument_revision == applied.revision
    assert interview.instrument_revision != cohort.ctx.instruments["import-test"].revision


def test_the_example_in_the_data_docs_is_a_clean_file():
    text = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    example = text.split("```csv\n")[1].split("```")[0]
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for line in example.splitlines()[1:]:
        case_id, partner_id, _, _, _, instrument, item, value = line.split(",")
        groups.setdefault((partner_id, instrument), {})[item] = value
    shipped = load_instruments(SHIPPED_INSTRUMENTS)
    assert [
        (g, scoring.check_answers(shipped[g[1]], given).problems) for g, given in groups.items()
    ] == [
        (("", "core"), {}),
        (("P-0042", "partner-followup"), {}),
    ]
