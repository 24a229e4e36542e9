"""One load (`followup import --all DIR`, or several KIND FILE pairs): the files go in
together, each person is planned once, each follow-up written once, in parts of bounded
size, all or nothing."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from followup.imports import load
from followup.models import Event, FollowUp, Interview, Participant, Partner, Staff
from followup.protocol import load_protocols
from followup.synthetic import cohort
from tests.conftest import REPO, Deployment

pytestmark = pytest.mark.usefixtures("frozen")
TODAY = date(2026, 11, 24)


@pytest.fixture
def frozen():
    with freeze_time("2026-11-24 10:00:00"):
        yield


@pytest.fixture
def export(tmp_path) -> Path:
    """A synthetic export of 150 cases at BG and NS: staff, participants, partners, events."""
    protocols = load_protocols(REPO / "schedules", ["undp-serbia", "wwp-europe"])
    data = cohort(protocols, {"BG": "sr-Latn", "NS": "en"}, 150, TODAY, seed=11)
    data.write(tmp_path / "export")
    return tmp_path / "export"


def sqlite_deployment(folder: Path) -> Deployment:
    folder.mkdir()
    deployment = Deployment(folder, f"sqlite:///{folder / 'followup.db'}")
    deployment.write_config()
    assert deployment.run("init").exit_code == 0
    return deployment


FACTS = {
    "followup": "select p.case_id, pt.partner_id, f.checkpoint, f.occurrence, f.due_on,"
    " f.window_opens_on, f.window_closes_on, f.provisional, f.assigned_staff_id, f.status,"
    " f.completed_on from followup f join participant p on p.id = f.participant_id"
    " left join partner pt on pt.id = f.partner_id where f.status != 'cancelled'",
    "interview": "select p.case_id, i.informant, i.checkpoint, i.conducted_on, i.import_key,"
    " (select f.checkpoint || '/' || f.occurrence || '/' || f.status from followup f"
    " where f.id = i.followup_id) from interview i join participant p on p.id = i.participant_id",
    "event": "select p.case_id, e.kind, e.occurred_on, e.import_key from event e"
    " join participant p on p.id = e.participant_id",
    "participant": "select case_id, enrolled_on, admitted_on, programme_start_on, completed_on,"
    " ended_on, end_reason, protocol_revision, facilitator_id from participant",
    "partner": "select partner_id, relationship, consent_on, channel, support_worker_id from partner",
    "alert": "select p.case_id, a.interview_id is null, a.event_id is null from safety_alert a"
    " join participant p on p.id = a.participant_id",
}


def facts(deployment: Deployment) -> dict[str, list]:
    with sqlite3.connect(deployment.folder / "followup.db") as conn:
        return {name: sorted(conn.execute(q).fetchall(), key=repr) for name, q in FACTS.items()}


def test_a_whole_export_in_one_load_ends_as_four_separate_imports_do(tmp_path, export):
    apart = sqlite_deployment(tmp_path / "apart")
    for kind in ("staff", "participants", "partners", "events"):
        assert apart.run("import", kind, str(export / f"{kind}.csv")).exit_code == 0
    together = sqlite_deployment(tmp_path / "together")
    result = together.run("import", "--all", str(export))
    assert result.exit_code == 0, result.err
    assert [line.split(": ", 1)[0] for line in result.out.splitlines()] == [
        str(export / f"{kind}.csv") for kind in ("staff", "participants", "partners", "events")
    ]
    expected, got = facts(apart), facts(together)
    for name in FACTS:
        assert got[name] == expected[name], name
    assert len(got["followup"]) > 500 and len(got["interview"]) > 200


def test_a_load_split_into_many_parts_ends_as_one_part_does(tmp_path, export, monkeypatch):
    whole = sqlite_deployment(tmp_path / "whole")
    assert whole.run("import", "--all", str(export)).exit_code == 0
    monkeypatch.setattr(load, "PART_BYTES", 4096)  # ~40 parts
    parts = sqlite_deployment(tmp_path / "parts")
    result = parts.run("import", "--all", str(export))
    assert result.exit_code == 0, result.err
    assert facts(parts) == facts(whole)


def test_a_fresh_load_writes_each_follow_up_once(tmp_path, export):
    deployment = sqlite_deployment(tmp_path / "fresh")
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
    try:
        assert deployment.run("import", "--all", str(export)).exit_code == 0
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO FOLLOWUP ")]
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE FOLLOWUP ")]
    assert inserts and not updates
    with sqlite3.connect(deployment.folder / "followup.db") as conn:
        completed = conn.execute("select count(*) from followup where status = 'completed'")
        assert completed.fetchone()[0] > 100  # interviews completed them on the way in


def test_loading_the_same_export_again_changes_nothing(deployment, export):
    assert deployment.run("import", "--all", str(export)).exit_code == 0
    before = _counts(deployment)
    again = deployment.run("import", "--all", str(export))
    assert again.exit_code == 0, again.err
    assert " 0 new, 0 updated" in again.out.splitlines()[-1]
    assert _counts(deployment) == before


def _counts(deployment) -> dict:
    with deployment.session() as session:
        return {
            model.__name__: session.execute(
                sa.select(sa.func.count()).select_from(model)
            ).scalar_one()
            for model in (Staff, Participant, Partner, Event, Interview, FollowUp)
        }


def test_a_problem_in_the_last_file_keeps_every_file_out(deployment, export, monkeypatch):
    events = export / "events.csv"
    lines = events.read_text().splitlines()
    lines[5] = lines[5].replace(",interview,", ",graduation,", 1)
    events.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(load, "PART_BYTES", 4096)
    result = deployment.run("import", "--all", str(export))
    assert result.exit_code == 1
    assert f"{events}:6: event: unknown event 'graduation'" in result.err
    assert _counts(deployment) == dict.fromkeys(
        ("Staff", "Participant", "Partner", "Event", "Interview", "FollowUp"), 0
    )


def test_a_repeated_partner_is_found_across_parts(deployment, export, monkeypatch):
    partners = export / "partners.csv"
    lines = partners.read_text().splitlines()
    first = lines[1].split(",")
    last = lines[-1].split(",")
    last[0] = first[0]  # the same partner id, on another case (so likely in another part)
    partners.write_text("\n".join([*lines[:-1], ",".join(last)]) + "\n")
    monkeypatch.setattr(load, "PART_BYTES", 4096)
    result = deployment.run("import", "--all", str(export))
    assert result.exit_code == 1
    assert f"{partners}:{len(lines)}: partner_id: {first[0]!r} appears again (first on row 2)" in (
        result.err
    )


def test_kind_file_pairs_load_together_and_a_kind_given_twice_is_refused(deployment, export):
    pairs = ["participants", str(export / "participants.csv"), "staff", str(export / "staff.csv")]
    result = deployment.run("import", *pairs)
    assert result.exit_code == 0, result.err
    assert result.out.splitlines()[0].startswith(f"{export / 'staff.csv'}: ")
    twice = deployment.run("import", "staff", str(export / "staff.csv"), "staff", "x.csv")
    assert twice.exit_code == 1
    assert "two staff files in one import; give one file per kind" in twice.err


def test_all_needs_a_folder_with_import_files(deployment, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = deployment.run("import", "--all", str(empty))
    assert result.exit_code == 1
    assert f"{empty}: no import files; expected one or more of staff.csv" in result.err
    odd = deployment.run("import", "staff")
    assert odd.exit_code == 2 and "expected KIND FILE" in odd.err


def test_a_big_load_holds_one_part_of_its_rows_at_a_time(deployment, export, monkeypatch):
    """Memory is bounded by the part, not the export: no part holds more than its share."""
    monkeypatch.setattr(load, "PART_BYTES", 16_384)
    held: list[int] = []
    original = load._import_part

    def counting(session, ctx, part, *args):
        held.append(sum(len(rows) for rows in part.values()))
        return original(session, ctx, part, *args)

    monkeypatch.setattr(load, "_import_part", counting)
    assert deployment.run("import", "--all", str(export)).exit_code == 0
    size = sum(p.stat().st_size for p in export.glob("*.csv") if p.name != "staff.csv")
    rows = sum(len(p.read_text().splitlines()) - 1 for p in export.glob("*.csv"))
    assert len(held) == -(-size // 16_384)
    assert max(held) < rows / 4  # each part a fraction of the rows
    assert sum(held) == rows - (len((export / "staff.csv").read_text().splitlines()) - 1)


def test_a_part_waiting_on_disk_holds_no_partner_contact_in_clear(
    deployment, export, monkeypatch, tmp_path
):
    """A load killed mid-way leaves its part files behind: her number must not be in them."""
    monkeypatch.setattr(load, "PART_BYTES", 16_384)
    spill_root = tmp_path / "spill-root"
    spill_root.mkdir()
    monkeypatch.setattr(load.tempfile, "tempdir", str(spill_root))
    partners = (export / "partners.csv").read_text().splitlines()
    phone = partners[1].split(",")[5]
    assert phone.startswith("+")
    seen: list[bytes] = []
    original = load._import_part

    def looking(*args):
        seen.extend(p.read_bytes() for p in spill_root.rglob("*") if p.is_file())
        return original(*args)

    monkeypatch.setattr(load, "_import_part", looking)
    assert deployment.run("import", "--all", str(export)).exit_code == 0
    assert seen, "the load wrote no part files"
    assert not any(phone.encode() in data or b"partner_checkin" in data for data in seen)
