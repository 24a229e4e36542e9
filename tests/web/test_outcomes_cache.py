"""The Outcomes page keeps what it built by (options, data version): a second look costs
a lookup, still audited; any write to data a report reads shows at once, whoever makes
it (the CLI in another connection, SQL through the engine); the libraries are imported
when the server starts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from followup import data_version
from followup.models import Audit, Participant


def exports(team) -> int:
    with team.session() as session:
        return session.execute(
            sa.select(sa.func.count()).select_from(Audit).where(Audit.action == "report_export")
        ).scalar_one()


def version(team) -> int:
    with team.session() as session:
        return data_version.current(session.connection())


def cohort(browser) -> dict:
    return browser.get("/outcomes/report.json?unsuppressed=1").json()["cohort"]


def test_a_second_look_with_the_same_options_is_kept_and_still_audited_as_an_export(team):
    cache = team.app.state.report_cache
    browser = team.browser("evaluator")
    first = browser.get("/outcomes")
    second = browser.get("/outcomes")
    assert first.status_code == second.status_code == 200
    assert cache.built == 1
    assert exports(team) == 2
    browser.get("/outcomes?by=site")
    assert cache.built == 2  # other options, another report
    browser.get("/outcomes")
    assert cache.built == 2 and exports(team) == 4


def test_a_status_recorded_by_the_cli_between_two_looks_shows_on_the_second(team):
    admin = team.browser("admin")
    assert cohort(admin)["admitted"] == 0
    admitted = (team.ctx.site_today("BG") - timedelta(days=5)).isoformat()
    recorded = team.deployment.run("record", "status", "BG-1", "admitted", "--on", admitted)
    assert recorded.exit_code == 0, recorded.err
    assert cohort(admin)["admitted"] == 1


def test_a_row_changed_in_sql_through_the_engine_shows_on_the_next_look(team):
    admin = team.browser("admin")
    before = admin.get("/outcomes/report.json?unsuppressed=1").json()
    assert before["cohort"]["enrolled"] == 2
    p = Participant.__table__
    with team.session() as session:
        session.execute(
            p.update()
            .where(p.c.case_id == "BG-1")
            .values(enrolled_on=team.ctx.site_today("BG") + timedelta(days=1))
        )
    after = admin.get("/outcomes/report.json?unsuppressed=1").json()
    assert after["cohort"]["enrolled"] == 1, "a cached report outlived the write"


def test_page_views_logins_and_their_audit_lines_leave_the_data_version_alone(team):
    team.browser("evaluator").get("/outcomes")
    start = version(team)
    browser = team.browser("admin")
    for path in ("/outcomes", "/outcomes/report.csv", "/audit", "/account"):
        assert browser.get(path).status_code == 200
    assert version(team) == start
    assert team.app.state.report_cache.built == 1 + 1  # the admin's view: other suppression


def test_a_write_rolled_back_leaves_the_data_version_and_a_committed_one_moves_it(team):
    start = version(team)
    p = Participant.__table__
    with pytest.raises(RuntimeError), team.session() as session:
        session.execute(p.update().values(referral_source="police"))
        raise RuntimeError("undone: the transaction rolls back")
    assert version(team) == start
    with team.session() as session:
        session.execute(p.update().where(p.c.case_id == "BG-1").values(referral_source="police"))
    assert version(team) == start + 1


def test_the_suppressed_and_the_unsuppressed_report_are_kept_apart(team):
    assert cohort(team.browser("admin"))["enrolled"] == 2
    evaluator = team.browser("evaluator").get("/outcomes/report.json").json()
    assert evaluator["cohort"]["suppressed"] is True and evaluator["cohort"]["enrolled"] is None


def test_the_report_libraries_are_imported_when_the_server_starts(team, monkeypatch):
    from followup.report import cache

    started = []
    monkeypatch.setattr(cache, "warm_up", lambda: started.append(True))
    with TestClient(team.app) as client:
        assert started == [True]
        assert client.get("/healthz").status_code == 200


def test_only_writes_to_tables_a_report_may_read_count():
    counts = data_version.writes_read_data
    assert counts("INSERT INTO followup (participant_id) VALUES (?)")
    assert counts("UPDATE participant SET ended_on=? WHERE participant.id = ?")
    assert counts("DELETE FROM event WHERE id = %(id)s")
    assert counts("INSERT INTO some_table_added_later (x) VALUES (1)")
    assert counts("WITH x AS (SELECT 1) UPDATE interview SET notes_sealed = NULL")
    assert not counts("SELECT * FROM participant")
    assert not counts("INSERT INTO audit (actor, action) VALUES (?, ?)")
    assert not counts("UPDATE web_session SET last_seen_at=? WHERE web_session.id = ?")
    assert not counts("DELETE FROM login_failure WHERE at < ?")
    assert not counts("SAVEPOINT sa_savepoint_1")
    assert not counts("PRAGMA foreign_keys=ON")


def test_a_kept_report_is_built_again_after_ten_minutes_whatever_the_version(team, monkeypatch):
    """A hand edit in psql bumps no version; no report outlives ten minutes."""
    from followup.report import cache as cache_module

    browser = team.browser("evaluator")
    browser.get("/outcomes")
    clock = [cache_module.time.monotonic() + cache_module.MAX_AGE_SECONDS + 1]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    browser.get("/outcomes")
    assert team.app.state.report_cache.built == 2
