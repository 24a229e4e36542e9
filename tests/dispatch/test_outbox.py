"""The outbox contract, on SQLite and PostgreSQL: one row per key, leases, forward only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from followup.dispatch import outbox
from followup.dispatch.outbox import Message, claim, enqueue
from followup.models import Outbox, Staff

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
LEASE = 120


@pytest.fixture
def team(staffed):
    with staffed.session() as session:
        ids = dict(session.execute(sa.select(Staff.staff_id, Staff.id)).all())
    return staffed, ids


def message(
    staff_id: int, key: str = "reminder:1:7:2026-03-17", at: datetime = T0, kind: str = "reminder"
) -> Message:
    return Message(
        key=key,
        kind=kind,
        staff_id=staff_id,
        channel="console",
        not_before=at,
        payload={"lead_days": 7, "due_on": "2026-03-17"},
    )


def rows(deployment) -> list[Outbox]:
    with deployment.session() as session:
        return session.execute(sa.select(Outbox).order_by(Outbox.id)).scalars().all()


def test_queueing_a_key_twice_keeps_one_row_and_is_not_an_error(team):
    deployment, staff = team
    with deployment.session() as session:
        assert enqueue(session, [message(staff["F1"])], now=T0) == ["reminder:1:7:2026-03-17"]
    with deployment.session() as session:
        assert enqueue(
            session, [message(staff["F1"]), message(staff["F1"], key="digest:1:2026-03-10")], now=T0
        ) == ["digest:1:2026-03-10"]
    assert [r.key for r in rows(deployment)] == ["reminder:1:7:2026-03-17", "digest:1:2026-03-10"]


def test_a_key_already_sent_is_not_queued_again(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    [row_id] = claim(deployment.ctx.engine, "a", T0, limit=10, lease_seconds=LEASE)
    with deployment.ctx.engine.begin() as conn:
        outbox.mark_sent(conn, row_id, "a", channel="console", provider_id=None, now=T0)
    with deployment.session() as session:
        assert enqueue(session, [message(staff["F1"])], now=T0 + timedelta(days=1)) == []
    assert [(r.status, r.attempts) for r in rows(deployment)] == [("sent", 1)]


def test_queueing_rolls_back_with_the_change_that_caused_it(team):
    deployment, staff = team
    with pytest.raises(RuntimeError), deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
        raise RuntimeError("the recording failed")
    assert rows(deployment) == []


def test_a_message_is_not_claimed_before_its_time(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"], at=T0)], now=T0)
    engine = deployment.ctx.engine
    assert claim(engine, "a", T0 - timedelta(seconds=1), limit=10, lease_seconds=LEASE) == []
    assert len(claim(engine, "a", T0, limit=10, lease_seconds=LEASE)) == 1


def test_a_lease_holds_until_it_ends_and_is_taken_over_one_second_later(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    engine = deployment.ctx.engine
    [row_id] = claim(engine, "crashed", T0, limit=10, lease_seconds=LEASE)
    assert (
        claim(engine, "b", T0 + timedelta(seconds=LEASE - 1), limit=10, lease_seconds=LEASE) == []
    )
    assert claim(engine, "b", T0 + timedelta(seconds=LEASE), limit=10, lease_seconds=LEASE) == []
    assert claim(engine, "b", T0 + timedelta(seconds=LEASE + 1), limit=10, lease_seconds=LEASE) == [
        row_id
    ]
    [row] = rows(deployment)
    assert (row.claimed_by, row.attempts, row.in_doubt) == ("b", 2, True)


def test_a_settled_retry_is_not_in_doubt_when_claimed_again(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    engine = deployment.ctx.engine
    [row_id] = claim(engine, "a", T0, limit=10, lease_seconds=LEASE)
    with engine.begin() as conn:
        outbox.mark_retry(
            conn,
            row_id,
            "a",
            error="sms: Twilio is unavailable (HTTP 503)",
            next_attempt_at=T0 + timedelta(seconds=30),
            now=T0,
        )
    assert claim(engine, "b", T0 + timedelta(seconds=29), limit=10, lease_seconds=LEASE) == []
    assert claim(engine, "b", T0 + timedelta(seconds=30), limit=10, lease_seconds=LEASE) == [row_id]
    [row] = rows(deployment)
    assert (row.attempts, row.in_doubt, row.last_error) == (
        2,
        False,
        "sms: Twilio is unavailable (HTTP 503)",
    )


def test_safety_alerts_are_claimed_before_older_reminders(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(
            session,
            [
                message(staff["F1"], key=f"reminder:{n}:0:2026-03-10", at=T0 - timedelta(hours=1))
                for n in range(3)
            ],
            now=T0,
        )
        enqueue(session, [message(staff["PS1"], key="alert:1:2", kind="alert")], now=T0)
    claimed = claim(deployment.ctx.engine, "a", T0, limit=1, lease_seconds=LEASE)
    assert [r.key for r in rows(deployment) if r.id in claimed] == ["alert:1:2"]


def test_two_senders_claiming_at_once_never_hold_the_same_message(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(
            session,
            [message(staff["F1"], key=f"reminder:{n}:0:2026-03-10") for n in range(200)],
            now=T0,
        )
    engine = deployment.ctx.engine
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def sender(name: str) -> None:
        start.wait()
        while ids := claim(engine, name, T0, limit=7, lease_seconds=LEASE):
            claimed[name].extend(ids)

    threads = [threading.Thread(target=sender, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 200


def test_handing_back_unsent_claims_makes_them_due_again_without_an_attempt(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    engine = deployment.ctx.engine
    ids = claim(engine, "stopping", T0, limit=10, lease_seconds=LEASE)
    outbox.release(engine, "stopping", ids, T0)
    assert claim(engine, "next", T0, limit=10, lease_seconds=LEASE) == ids
    [row] = rows(deployment)
    assert (row.attempts, row.in_doubt) == (1, False)


def test_a_status_moves_forward_only(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    engine = deployment.ctx.engine
    [row_id] = claim(engine, "a", T0, limit=10, lease_seconds=LEASE)
    with engine.begin() as conn:
        assert outbox.mark_sent(conn, row_id, "a", channel="sms", provider_id="SM1", now=T0)
        assert outbox.advance_by_callback(conn, "SM1", outbox.DELIVERED, None, T0) is not None
        assert outbox.advance_by_callback(conn, "SM1", outbox.FAILED, "late", T0) is None
        assert outbox.advance_by_callback(conn, "SM1", outbox.SENT, None, T0) is None
        assert not outbox.mark_sent(conn, row_id, "a", channel="sms", provider_id="SM2", now=T0)
    [row] = rows(deployment)
    assert (row.status, row.provider_id) == ("delivered", "SM1")


def test_a_retry_that_may_have_reached_the_provider_stays_in_doubt_even_when_handed_back(team):
    deployment, staff = team
    with deployment.session() as session:
        enqueue(session, [message(staff["F1"])], now=T0)
    engine = deployment.ctx.engine
    [row_id] = claim(engine, "a", T0, limit=10, lease_seconds=LEASE)
    with engine.begin() as conn:
        outbox.mark_retry(
            conn,
            row_id,
            "a",
            error="sms: Twilio timed out [timeout]",
            next_attempt_at=T0 + timedelta(seconds=30),
            now=T0,
            maybe_sent=True,
        )
    later = T0 + timedelta(seconds=30)
    assert claim(engine, "b", later, limit=10, lease_seconds=LEASE) == [row_id]
    outbox.release(engine, "b", [row_id], later)  # shutting down before trying it
    assert claim(engine, "c", later, limit=10, lease_seconds=LEASE) == [row_id]
    [row] = rows(deployment)
    assert (row.attempts, row.in_doubt) == (2, True)
