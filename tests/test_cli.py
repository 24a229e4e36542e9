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
            "Error: Invalid value for 'KIND': 'visits' is not one of 'staff', 'participants', 'partners', 'events', 'answers', 'attempts'. (see `followup import --help`)",
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
                "--safe-to-talk",
                "yes",
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
        "ATTEMPTS",
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
        "--physical",
        "no",
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
    interview = (
        "record",
        "interview",
        "BG-1",
        "--informant",
        "partner",
        "--safe-to-talk",
        "yes",
        "--on",
        "2026-11-20",
    )
    result = staffed.run(*interview, "--by", "FP1")
    assert (result.exit_code, result.err) == (
        1,
        "Error: FP1 is the facilitator of case BG-1; the man's facilitator must never be his "
        "partner's worker, nor interview her. Hint: name her partner-support worker\n",
    )
    assert staffed.run(*interview, "--by", "PS1").exit_code == 0


# --- input hygiene: control characters in arguments ----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("enrol", "BG-1\nBG-2", "--site", "BG", "--referral-source", "court"),
            "Error: argument 'BG-1\\nBG-2' contains a control character (U+000A LF, a line "
            "break) at "
            "position 5; remove it",
        ),
        (
            ("enrol", "BG-1", "--site", "BG\r", "--referral-source", "court"),
            "Error: --site contains a control character (U+000D CR, a line break) at "
            "position 3; remove it",
        ),
        (
            ("due", "--staff=F1\x1b[2J"),
            "Error: --staff contains a control character (U+001B ESC) at position 3; remove it",
        ),
        (
            ("record", "consent", "P-1\x00", "--given", "--on", "2026-01-01"),
            "Error: argument 'P-1\\x00' contains a control character (U+0000 NUL) at position 4; "
            "remove it",
        ),
    ],
)
def test_control_characters_in_arguments_are_refused_before_anything_runs(staffed, args, message):
    result = staffed.run(*args)
    assert (result.exit_code, result.err) == (2, message + "\n")
    assert result.out == ""


def test_notes_keep_their_line_breaks_but_not_other_control_characters(staffed):
    staffed.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--enrolled-on", "2026-11-01"
    )
    interview = ("record", "interview", "BG-1", "--informant", "participant", "--physical")
    interview = (*interview, "no", "--on")
    kept = staffed.run(*interview, "2026-11-20", "--notes", "first line\nsecond line")
    assert kept.exit_code == 0, kept.err
    refused = staffed.run(*interview, "2026-11-21", "--notes", "a\x00b")
    assert (refused.exit_code, refused.err) == (
        2,
        "Error: --notes contains a control character (U+0000 NUL) at position 2; remove it\n",
    )
    piped = staffed.run(*interview, "2026-11-21", "--notes", "-", stdin="x" * 10_001)
    assert piped.exit_code == 2
    assert "--notes is 10001 characters long; at most 10000 are allowed" in piped.err


# --- files are private ----------------------------------------------------------------------


@pytest.fixture
def open_umask():
    """The umask a careless shell has (0022): files would be created 0644."""
    import os

    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_wal_and_shm_files_and_reports_are_created_0600(tmp_path, open_umask):
    from tests.conftest import Deployment

    deployment = Deployment(tmp_path, f"sqlite:///{tmp_path / 'followup.db'}")
    deployment.write_config()
    assert deployment.run("init").exit_code == 0
    database = tmp_path / "followup.db"
    with deployment.session() as session:  # a connection open: the -wal and -shm exist
        session.execute(__import__("sqlalchemy").text("select 1"))
        files = [database, tmp_path / "followup.db-wal", tmp_path / "followup.db-shm"]
        assert [(f.name, mode(f)) for f in files] == [(f.name, 0o600) for f in files]
    report = tmp_path / "report.json"
    result = deployment.run("report", "--format", "json", "--out", str(report))
    assert result.exit_code == 0, result.err
    assert mode(report) == 0o600
    deployment._ctx.engine.dispose()


def test_an_engine_creates_a_new_sqlite_file_0600_even_outside_the_cli(tmp_path, open_umask):
    from followup.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.connect():
        pass
    engine.dispose()
    assert mode(tmp_path / "new.db") == 0o600


@pytest.mark.parametrize("command", [("init",), ("serve",), ("worker",)])
def test_init_serve_and_worker_refuse_a_database_others_can_read_with_the_chmod_to_run(
    tmp_path, command
):
    from tests.conftest import Deployment

    database = tmp_path / "followup.db"
    deployment = Deployment(tmp_path, f"sqlite:///{database}")
    deployment.write_config()
    assert deployment.run("init").exit_code == 0
    database.chmod(0o644)
    result = deployment.run(*command)
    assert (result.exit_code, result.err) == (
        1,
        f"Error: {database}: the database can be read by other users (mode 644). "
        f"Hint: chmod 600 {database}\n",
    )
    database.chmod(0o600)
    assert deployment.run("init").exit_code == 0


# --- start-up checks ------------------------------------------------------------------------


def test_an_unreachable_database_is_one_line_naming_the_url_without_its_password(tmp_path):
    from tests.conftest import Deployment

    url = "postgresql+psycopg://followup:s3cret-pw@127.0.0.1:1/followup"
    deployment = Deployment(tmp_path, url)
    deployment.write_config()
    for command in (("due",), ("init",), ("dispatch", "--once")):
        result = deployment.run(*command)
        assert result.exit_code == 1
        assert result.err.startswith(
            f"Error: {deployment.path}: database.url: cannot reach the database "
            "postgresql+psycopg://followup:***@127.0.0.1:1/followup ("
        )
        assert result.err.endswith("Hint: check that the server is running and the URL is right\n")
        assert result.err.count("\n") == 1
        assert "s3cret" not in result.err and "bug" not in result.err


def test_a_sqlite_database_in_a_missing_folder_is_reported_as_unreachable(tmp_path):
    from tests.conftest import Deployment

    deployment = Deployment(tmp_path, f"sqlite:///{tmp_path / 'gone' / 'followup.db'}")
    deployment.write_config()
    result = deployment.run("due")
    assert (result.exit_code, result.err) == (
        1,
        f"Error: {deployment.path}: database.url: cannot reach the database "
        f"sqlite:///{tmp_path / 'gone' / 'followup.db'} (unable to open database file). "
        "Hint: check that the server is running and the URL is right\n",
    )


def test_a_database_that_goes_away_mid_command_is_one_line_not_a_bug(staffed, monkeypatch):
    import sqlalchemy.exc

    def gone(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError(
            "SELECT 1", {}, Exception("server closed the connection unexpectedly\nmore")
        )

    monkeypatch.setattr("followup.operations.caseload.due_items", gone)
    result = staffed.run("due")
    assert (result.exit_code, result.err) == (
        1,
        "Error: the database stopped answering (server closed the connection unexpectedly); "
        "the transaction was rolled back, nothing is half-written. Hint: check that it is "
        "running, then run the command again\n",
    )
