"""Schema migrations: the history builds exactly the models' schema, and a database made
by the last release upgrades with every row kept."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from freezegun import freeze_time
from sqlmodel import SQLModel

import followup.models  # noqa: F401  (registers the tables)
from followup import migrate
from followup.db import make_engine
from followup.safe_contact import SafeContactPlan
from tests.conftest import REPO, Deployment

RELEASE_0_1_0 = Path(__file__).parent / "fixtures" / "release-0.1.0"


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_the_migrations_build_exactly_the_models_schema(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "head")
    assert _differences(engine) == []
    assert migrate.state(engine).up_to_date
    engine.dispose()


def test_a_new_database_is_built_at_head_and_matches_the_migrations(database_url):
    engine = make_engine(database_url)
    before, after = migrate.create_or_upgrade(engine)
    assert before.empty and after.up_to_date
    assert _differences(engine) == []
    engine.dispose()


def test_the_history_is_one_line_from_the_baseline_to_head():
    history = migrate.history()
    assert history[0][:2] == (migrate.BASELINE, None)
    for (_, _, _), (revision, down, _) in zip(history, history[1:], strict=False):
        assert down is not None, f"{revision} has no parent: the history branched"
    assert history[-1][0] == migrate.head()


# --- a database made by release 0.1.0 ----------------------------------------------


def _release_deployment(tmp_path: Path, monkeypatch) -> Deployment:
    db = tmp_path / "followup.db"
    with gzip.open(RELEASE_0_1_0 / "followup.sql.gz", "rt", encoding="utf-8") as dump:
        conn = sqlite3.connect(db)
        conn.executescript(dump.read())
        conn.close()
    db.chmod(0o600)  # release 0.1.0 made it 0644; init and serve now refuse that
    key = tmp_path / "followup.key"
    shutil.copy(RELEASE_0_1_0 / "throwaway-demo-key.txt", key)
    key.chmod(0o600)
    monkeypatch.setenv("FOLLOWUP_SECRET_KEY", key.read_text().strip())
    config = (REPO / "config.toml").read_text(encoding="utf-8")
    config = config.replace('directory = "schedules"', f'directory = "{REPO / "schedules"}"')
    config = config.replace(
        'indicators = "analysis/indicators.toml"',
        f'indicators = "{REPO / "analysis" / "indicators.toml"}"',
    )
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    return Deployment(tmp_path, f"sqlite:///{db}")


def _row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'alembic_version'"
        )
    ]
    counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    conn.close()
    return counts


def test_a_release_0_1_0_database_upgrades_to_head_with_every_row_kept(tmp_path, monkeypatch):
    deployment = _release_deployment(tmp_path, monkeypatch)
    before = _row_counts(tmp_path / "followup.db")
    assert before["participant"] == 60 and before["followup"] > 500

    result = deployment.run("db", "upgrade")

    assert result.exit_code == 0, result.err
    assert f"upgraded from {migrate.BASELINE} (made before migrations) to" in result.out
    after = _row_counts(tmp_path / "followup.db")
    assert {t: after[t] for t in before} == before
    engine = make_engine(deployment.database_url)
    assert migrate.state(engine).up_to_date
    assert _differences(engine) == []
    engine.dispose()
    due = deployment.run("due", "--days", "30", "--format", "json", "--as-of", "2026-12-01")
    assert due.exit_code == 0, due.err


def test_commands_refuse_a_database_behind_the_code_and_say_how_to_upgrade(tmp_path, monkeypatch):
    deployment = _release_deployment(tmp_path, monkeypatch)

    result = deployment.run("due")

    assert result.exit_code == 1
    assert "the database schema is at revision 0001 (made before migrations)" in result.err
    assert "run `followup db upgrade`" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_init_upgrades_an_older_database_and_says_so(tmp_path, monkeypatch):
    deployment = _release_deployment(tmp_path, monkeypatch)

    result = deployment.run("init")

    assert result.exit_code == 0, result.err
    assert "Database schema upgraded from 0001 (made before migrations)" in result.out


def test_db_current_and_history_say_where_the_schema_is(tmp_path, monkeypatch):
    deployment = _release_deployment(tmp_path, monkeypatch)

    behind = deployment.run("db", "current")
    deployment.run("db", "upgrade")
    current = deployment.run("db", "current")
    history = deployment.run("db", "history")

    assert "made before migrations" in behind.out and "(upgrade needed)" in behind.out
    assert f"database: {migrate.head()}" in current.out
    assert "upgrade needed" not in current.out
    assert f"<base> -> {migrate.BASELINE}" in history.out


def test_a_database_from_a_newer_release_is_refused(deployment):
    engine = deployment.ctx.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")

    result = deployment.run("due")

    assert result.exit_code == 1
    assert "revision ffff, which this version of followup does not know" in result.err


@pytest.mark.parametrize("command_name", ["upgrade", "current"])
def test_db_commands_on_an_empty_database(tmp_path, command_name):
    deployment = Deployment(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    deployment.write_config()

    result = deployment.run("db", command_name)

    if command_name == "upgrade":
        assert result.exit_code == 1
        assert "run `followup init`" in result.err
    else:
        assert result.exit_code == 0
        assert "database: none" in result.out


def test_a_0002_database_upgrades_to_corrections_with_every_interview_and_event_current(
    tmp_path, monkeypatch
):
    """0006_corrections adds record versions and the voided marker: every interview and
    event of an older database stays, current (not voided), and the report still reads them."""
    deployment = _release_deployment(tmp_path, monkeypatch)
    engine = make_engine(deployment.database_url)
    with engine.begin() as conn:
        command.stamp(migrate.alembic_config(conn), migrate.BASELINE)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0002")
    with engine.begin() as conn:
        conn.execute(sa.text("update partner set safe_hours = '10:00-12:00' where id = 1"))
    before = _row_counts(tmp_path / "followup.db")
    assert before["interview"] > 0 and before["event"] > 0 and "record_version" not in before

    result = deployment.run("db", "upgrade")

    assert result.exit_code == 0, result.err
    after = _row_counts(tmp_path / "followup.db")
    assert {t: after[t] for t in before} == before and after["record_version"] == 0
    with engine.connect() as conn:
        for table in ("interview", "event"):
            voided = conn.execute(
                sa.text(f"select count(*) from {table} where voided_at is not null")
            )
            assert voided.scalar_one() == 0
        # 0008_instruments: every interview is a `core` interview whose answers are its
        # columns (no revision, no answer rows to disagree with them).
        kinds = conn.execute(sa.text("select instrument, count(*) from interview group by 1"))
        assert dict(kinds.all()) == {"core": before["interview"]}
        assert after["instrument_answer"] == 0
    assert migrate.state(engine).up_to_date and _differences(engine) == []
    with engine.connect() as conn:
        sealed = conn.execute(sa.text("select plan_sealed from partner where id = 1")).scalar_one()
    her = SafeContactPlan.from_json(deployment.ctx.vault.open(sealed))
    assert her.safe_times_text == "10:00-12:00" and list(her.channels) == ["phone"]
    engine.dispose()
    # The release database was made in November 2026: read it as of then, whatever the
    # suite's clock says (the night run starts on 2026-10-25).
    with freeze_time("2026-11-24 12:00:00"):
        report = deployment.run("report", "--format", "json", "--as-of", "2026-11-01")
    assert report.exit_code == 0, report.err


def _at_attempts_with_safe_hours(tmp_path, monkeypatch) -> tuple[Deployment, sa.Engine]:
    """The release database upgraded to 0007_attempts (the last schema with safe_hours),
    one partner's safe hours set the way the old web form wrote them."""
    deployment = _release_deployment(tmp_path, monkeypatch)
    engine = make_engine(deployment.database_url)
    with engine.begin() as conn:
        command.stamp(migrate.alembic_config(conn), migrate.BASELINE)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0007_attempts")
    with engine.begin() as conn:
        conn.execute(
            sa.text("update partner set safe_hours = '10:00-12:00, 17:00-09:00' where id = 1")
        )
    return deployment, engine


def test_0009_seals_every_partners_channel_and_safe_hours_into_her_plan(tmp_path, monkeypatch):
    deployment, engine = _at_attempts_with_safe_hours(tmp_path, monkeypatch)
    before = _row_counts(tmp_path / "followup.db")

    result = deployment.run("db", "upgrade")

    assert result.exit_code == 0, result.err
    after = _row_counts(tmp_path / "followup.db")
    assert {table: after[table] for table in before} == before
    assert migrate.state(engine).up_to_date and _differences(engine) == []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select id, channel, contact_sealed, plan_sealed from partner order by id")
        ).all()
    vault = deployment.ctx.vault
    first = SafeContactPlan.from_json(vault.open(rows[0].plan_sealed))
    # The old overnight span (the old rule let it end before it started) keeps its meaning.
    assert first.safe_times_text == "10:00-12:00; 17:00-24:00; 00:00-09:00"
    assert first.channels == {"phone": vault.open(rows[0].contact_sealed)["phone"]}
    assert first.is_safe_at(datetime(2026, 12, 1, 23, 0)) and first.confirmed_on is None
    assert all(r.plan_sealed is not None for r in rows if r.channel)
    second = SafeContactPlan.from_json(vault.open(rows[1].plan_sealed))
    assert second.windows == () and set(second.channels) == {rows[1].channel}
    engine.dispose()


def test_0009_without_the_key_stops_with_one_line_and_changes_nothing(tmp_path, monkeypatch):
    deployment, engine = _at_attempts_with_safe_hours(tmp_path, monkeypatch)
    monkeypatch.delenv("FOLLOWUP_SECRET_KEY")
    (tmp_path / "followup.key").rename(tmp_path / "elsewhere.key")

    result = deployment.run("db", "upgrade")

    assert result.exit_code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "set FOLLOWUP_SECRET_KEY or security.key_file" in result.err
    assert migrate.state(engine).current == "0007_attempts"
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("select count(*) from partner where plan_sealed is not null")
            ).scalar_one()
            == 0
        )
        assert conn.execute(
            sa.text("select safe_hours from partner where id = 1")
        ).scalar_one() == ("10:00-12:00, 17:00-09:00")
    engine.dispose()
