"""The command line: exact error text, exit status, --config and $FOLLOWUP_CONFIG."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ("due", "--as-of", "2026-13-01"),
            2,
            "Error: Invalid value for '--as-of': expected a date as YYYY-MM-DD, got '2026-13-01' (see `followup due --help`)",
        ),
        (
            ("due", "--days", "-1"),
            2,
            "Error: Invalid value for '--days': -1 is not in the range x>=0. (see `followup due --help`)",
        ),
        (
            ("due", "--format", "xml"),
            2,
            "Error: Invalid value for '--format': 'xml' is not one of 'text', 'json'. (see `followup due --help`)",
        ),
        (
            ("due", "--site", "ZZ"),
            1,
            "Error: {config}: sites.ZZ: no such site. Hint: one of BG, NS",
        ),
        (
            ("import", "visits", "x.csv"),
            2,
            "Error: Invalid value for 'KIND': 'visits' is not one of 'staff', 'participants', 'partners', 'events'. (see `followup import --help`)",
        ),
        (
            (
                "enrol",
                "BG-1",
                "--site",
                "XX",
                "--referral-source",
                "court",
                "--enrolled-on",
                "2026-01-01",
            ),
            1,
            "Error: site 'XX' is not in {config}. Hint: one of BG, NS",
        ),
        (
            (
                "enrol",
                "BG-1",
                "--site",
                "BG",
                "--referral-source",
                "judge",
                "--enrolled-on",
                "2026-01-01",
            ),
            1,
            "Error: unknown referral source 'judge'; expected one of prosecutor, court, social_work_centre, police, self, other",
        ),
        (
            ("enrol", "BG 1", "--site", "BG", "--referral-source", "court"),
            2,
            "Error: Invalid value for CASE_ID: case id 'BG 1' must be 1-64 letters, digits, '-', '_', '.' or '/', starting with a letter or digit (see `followup enrol --help`)",
        ),
        (
            ("enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--protocol", "nope"),
            1,
            'Error: {config}: protocols.active: protocol "nope" is not active. Hint: use one of undp-serbia, wwp-europe or add it to protocols.active',
        ),
        (
            ("record", "status", "BG-1", "graduated", "--on", "2026-01-01"),
            2,
            "Error: Invalid value for 'EVENT': 'graduated' is not one of 'admitted', 'programme_start', 'completed', 'dropped_out', 'excluded', 'transferred'. (see `followup record status --help`)",
        ),
        (
            (
                "record",
                "interview",
                "BG-1",
                "--informant",
                "partner",
                "--on",
                "2026-01-01",
                "--physical",
                "maybe",
            ),
            2,
            "Error: Invalid value for '--physical': expected yes, no or empty (not asked), got 'maybe' (see `followup record interview --help`)",
        ),
        (
            ("record", "consent", "P-1", "--on", "2026-01-01"),
            2,
            "Error: say --given or --withdrawn (see `followup record consent --help`)",
        ),
    ],
)
def test_bad_input_gives_one_line_and_a_non_zero_exit(staffed, args, status, message):
    result = staffed.run(*args)
    assert result.exit_code == status
    assert result.err == message.format(config=staffed.path) + "\n"
    assert "Traceback" not in result.err


def test_a_missing_config_file_says_how_to_point_at_one(tmp_path):
    from tests.conftest import Deployment

    ghost = Deployment(tmp_path, "sqlite://")
    result = ghost.run("due")
    assert (result.exit_code, result.err) == (
        1,
        f"Error: {ghost.path}: file not found. Hint: pass --config PATH or set FOLLOWUP_CONFIG\n",
    )


def test_a_database_without_tables_asks_for_init(tmp_path):
    from tests.conftest import Deployment

    fresh = Deployment(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    fresh.write_config()
    result = fresh.run("due")
    assert result.err == (
        f"Error: {fresh.path}: database.url: the database has no followup tables. "
        "Hint: run `followup init` first\n"
    )


def test_config_comes_from_the_environment_and_the_subcommand_option(staffed, monkeypatch):
    from followup.cli import main

    monkeypatch.setenv("FOLLOWUP_CONFIG", str(staffed.path))
    main(["due", "--format", "json"])  # returns normally: exit status 0
    monkeypatch.setenv("FOLLOWUP_CONFIG", str(staffed.folder / "elsewhere.toml"))
    main(["due", "--config", str(staffed.path), "--format", "json"])
    with pytest.raises(SystemExit) as failed:
        main(["due"])
    assert failed.value.code == 1


def test_enrol_then_due_lists_the_intake_for_his_facilitator(staffed):
    result = staffed.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--facilitator", "F1"
    )
    assert result.exit_code == 0, result.err
    assert result.out.startswith("Enrolled BG-1 at BG on 2026-11-24 (undp-serbia, revision ")
    listed = json.loads(staffed.run("due", "--format", "json", "--staff", "F1").out)
    assert [(i["checkpoint"], i["status"], i["assigned_to"]) for i in listed] == [
        ("intake_assessment", "due", "F1")
    ]
    assert set(listed[0]) >= {
        "case_id",
        "subject",
        "checkpoint",
        "due_on",
        "window_opens_on",
        "window_closes_on",
        "status",
        "assigned_to",
    }
    text = staffed.run("due", "--staff", "F1").out
    assert text.splitlines()[0].split() == [
        "STATUS",
        "DUE",
        "WINDOW",
        "CASE",
        "SUBJECT",
        "CHECKPOINT",
        "ASSIGNED",
        "SITE",
    ]
    assert "intake_assessment" in text


def test_notes_can_come_from_stdin_and_never_echo(staffed):
    staffed.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--enrolled-on", "2026-11-01"
    )
    result = staffed.run(
        "record",
        "interview",
        "BG-1",
        "--informant",
        "participant",
        "--on",
        "2026-11-20",
        "--notes",
        "-",
        stdin="he said something private",
    )
    assert result.exit_code == 0, result.err
    assert "private" not in result.out + result.err


def test_his_facilitator_cannot_be_recorded_as_the_interviewer_of_his_partner(staffed):
    staff = staffed.csv(
        "more-staff.csv",
        "staff_id,site,name,roles,phone,email,channel,language\n"
        "FP1,BG,Goran Pavlović,facilitator;partner_support,,goran@example.org,console,en\n",
    )
    partners = staffed.csv(
        "partners.csv",
        "partner_id,case_id,relationship,consent_on,channel,phone,email,support_worker\n"
        "P-1,BG-1,current,2026-11-01,phone,+381601234567,,PS1\n",
    )
    for args in (
        ("import", "staff", str(staff)),
        ("enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--enrolled-on",
         "2026-10-20", "--facilitator", "FP1"),
        ("import", "partners", str(partners)),
    ):  # fmt: skip
        result = staffed.run(*args)
        assert result.exit_code == 0, result.err
    interview = ("record", "interview", "BG-1", "--informant", "partner", "--on", "2026-11-20")
    result = staffed.run(*interview, "--by", "FP1")
    assert (result.exit_code, result.err) == (
        1,
        "Error: FP1 is the facilitator of case BG-1; the man's facilitator must never be his "
        "partner's worker, nor interview her. Hint: name her partner-support worker\n",
    )
    assert staffed.run(*interview, "--by", "PS1").exit_code == 0
