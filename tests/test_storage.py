"""Storage contract, on SQLite and PostgreSQL from the same test functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from followup.db import create_schema, make_engine, transaction
from followup.models import Audit, FollowUp


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def test_a_naive_datetime_is_refused(engine):
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        transaction(engine) as session,
    ):
        session.add(Audit(actor="t", action="x", at=datetime(2026, 3, 29, 1, 30)))


def test_instants_come_back_in_utc_whatever_zone_they_went_in_with(engine):
    belgrade_summer = timezone(timedelta(hours=2))
    with transaction(engine) as session:
        session.add(
            Audit(actor="t", action="x", at=datetime(2026, 3, 29, 3, 30, tzinfo=belgrade_summer))
        )
    with transaction(engine) as session:
        at = session.execute(sa.select(Audit.at)).scalar_one()
    assert at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert at.utcoffset() == timedelta(0)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    create_schema(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_due_and_report_filters_are_indexed(engine):
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("followup")}
    assert {
        "ix_followup_status_due",
        "ix_followup_assigned_status_due",
        "ux_followup_participant_slot",
        "ux_followup_partner_slot",
    } <= indexes
    assert {ix["name"] for ix in sa.inspect(engine).get_indexes("participant")} >= {
        "ix_participant_site_code"
    }


def test_one_person_cannot_have_the_same_follow_up_twice(staffed):
    staffed.run(
        "enrol", "BG-1", "--site", "BG", "--referral-source", "court", "--enrolled-on", "2026-01-05"
    )
    with pytest.raises(sa.exc.IntegrityError), staffed.session() as session:
        first = session.execute(sa.select(FollowUp).limit(1)).scalar_one()
        session.add(
            FollowUp(
                participant_id=first.participant_id,
                checkpoint=first.checkpoint,
                occurrence=first.occurrence,
                due_on=first.due_on,
                window_opens_on=first.window_opens_on,
                window_closes_on=first.window_closes_on,
            )
        )


@pytest.mark.parametrize(
    "value",
    [
        date(2026, 1, 5),
        date(1999, 12, 31),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, 0, 7, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 10, 25, 2, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_the_bulk_writer_stores_dates_and_instants_exactly_as_sqlalchemy_does(value):
    from sqlalchemy.dialects import sqlite

    from followup.db import UTCDateTime, bind_processor

    dialect = sqlite.dialect()
    type_ = UTCDateTime() if isinstance(value, datetime) else sa.Date()
    ours = bind_processor(type_, dialect)(value)
    theirs = type_.dialect_impl(dialect).bind_processor(dialect)(value)
    assert ours == theirs


def test_the_bulk_writer_round_trips_on_each_backend(engine):
    from followup.db import executemany

    table = Audit.__table__
    with engine.begin() as conn:
        executemany(
            conn,
            table.insert(),
            [
                {
                    "at": datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2))),
                    "actor": "a",
                    "action": "x",
                    "entity": None,
                    "entity_id": None,
                    "detail": None,
                }
            ],
        )
        executemany(
            conn,
            table.update()
            .where(table.c.id == sa.bindparam("b_id"))
            .values(action=sa.bindparam("b_action"), actor="fixed"),
            [{"b_id": 1, "b_action": "y"}],
        )
        row = conn.execute(sa.select(table)).one()
    assert (row.at, row.actor, row.action) == (
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        "fixed",
        "y",
    )


def test_a_sqlite_transaction_that_reads_then_writes_waits_for_a_concurrent_writer(tmp_path):
    import threading

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = make_engine(url)
    create_schema(engine)
    other = make_engine(url)
    started, finished = threading.Event(), threading.Event()

    def writer():
        with transaction(other) as session:
            session.add(Audit(actor="other", action="w"))
            session.flush()
            started.set()
            finished.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(5)
    threading.Timer(0.2, finished.set).start()  # the other writer commits while we wait
    with transaction(engine) as session:  # blocks on the lock, then reads and writes
        session.execute(sa.select(Audit)).all()
        session.add(Audit(actor="me", action="w"))
    thread.join()
    with transaction(engine) as session:
        assert sorted(session.execute(sa.select(Audit.actor)).scalars()) == ["me", "other"]
    engine.dispose()
    other.dispose()
