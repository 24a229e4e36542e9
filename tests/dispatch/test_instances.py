"""Three dispatchers on one PostgreSQL, one killed mid-run: nothing lost, nothing sent twice.

10,000 follow-ups fall due on Monday morning for 100 workers on SMS. Three `followup
worker` processes (their clocks started at 08:00:30 Belgrade time) plan and send them
through one standalone Twilio-compatible server that records every message it accepts.
One worker is SIGKILLed mid-batch once 3,000 messages are out: its leases run out (5 s)
and the others take its claimed messages over, asking the server first whether the one
it had in hand got through. Needs PostgreSQL (FOLLOWUP_TEST_POSTGRES_URL); required in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from followup.models import FollowUp, Outbox, Participant, ProtocolRevision, Staff
from tests.support.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    read_record,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DUE = date(2026, 3, 23)
PEOPLE, WORKERS = 10_000, 100
START = "2026-03-23T08:00:30+01:00"


@pytest.fixture
def database_url(postgres_url) -> str:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return postgres_url


@pytest.fixture
def sim_extra() -> str:
    return "[dispatch]\ninterval_seconds = 1\nlease_seconds = 5\nbatch_size = 50\n"


@pytest.fixture
def due_monday(sim):
    """10,000 participants, each with one call due on 23 March, among 100 SMS workers."""
    with sim.ctx.engine.begin() as conn:
        revision = conn.execute(sa.select(ProtocolRevision.revision)).scalar_one()
        conn.execute(
            Staff.__table__.insert(),
            [
                {
                    "staff_id": f"W{n:03d}",
                    "site_code": "BG",
                    "name": f"Worker {n}",
                    "roles": "facilitator",
                    "phone": f"+3816410{n:05d}",
                    "email": None,
                    "channel": "sms",
                    "language": "en",
                    "active": True,
                    "channel_problem": None,
                }
                for n in range(WORKERS)
            ],
        )
        staff = (
            conn.execute(sa.select(Staff.id).where(Staff.staff_id.like("W%")).order_by(Staff.id))
            .scalars()
            .all()
        )
        conn.execute(
            Participant.__table__.insert(),
            [
                {
                    "case_id": f"BG-{n:05d}",
                    "site_code": "BG",
                    "referral_source": "court",
                    "enrolled_on": DUE - timedelta(days=14),
                    "facilitator_id": staff[n % WORKERS],
                    "protocol_id": "sim",
                    "protocol_revision": revision,
                }
                for n in range(PEOPLE)
            ],
        )
        people = conn.execute(sa.select(Participant.id, Participant.facilitator_id)).all()
        conn.execute(
            FollowUp.__table__.insert(),
            [
                {
                    "participant_id": p.id,
                    "partner_id": None,
                    "checkpoint": "call",
                    "occurrence": 1,
                    "due_on": DUE,
                    "window_opens_on": DUE - timedelta(days=2),
                    "window_closes_on": DUE + timedelta(days=3),
                    "provisional": False,
                    "assigned_staff_id": p.facilitator_id,
                    "status": "scheduled",
                }
                for p in people
            ],
        )
    return sim


def start(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def test_three_dispatchers_one_killed_mid_run_lose_nothing_and_send_nothing_twice(
    due_monday, tmp_path
):
    record = tmp_path / "sent.jsonl"
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_twilio", "--port", "0", "--record", str(record)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    workers: list[subprocess.Popen] = []
    try:
        base = fake.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert base.startswith("http://127.0.0.1:")
        env = {
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "TWILIO_FROM": DEFAULT_FROM,
            "FOLLOWUP_TWILIO_API_BASE": base,
        }
        command = ["-m", "followup", "--config", str(due_monday.path), "worker", "--now", START]
        workers = [start(command, tmp_path / f"worker{n}.log", env) for n in range(3)]

        engine = due_monday.ctx.engine
        victim = Outbox.claimed_by.like(f"%:{workers[0].pid}:%")

        def holding() -> int:
            """Messages the first worker has claimed and not yet settled."""
            with engine.connect() as conn:
                return conn.execute(
                    sa.select(sa.func.count()).where(victim, Outbox.status == "pending")
                ).scalar_one()

        # Killed mid-batch, so that it dies holding claims the others must take over.
        wait_until(
            lambda: lines(record) >= 3_000 and holding() > 0,
            180,
            "3,000 messages out with the first worker holding a batch",
            tmp_path,
        )
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        with engine.connect() as conn:
            orphaned = set(
                conn.execute(
                    sa.select(Outbox.id).where(victim, Outbox.status == "pending")
                ).scalars()
            )
        expected = PEOPLE + WORKERS  # a reminder per follow-up, a digest per worker

        def finished() -> bool:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(
                        sa.select(Outbox.status, sa.func.count()).group_by(Outbox.status)
                    ).all()
                )
            return counts == {"sent": expected}

        wait_until(finished, 180, "every message sent", tmp_path)
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers[1:]]
        assert codes == [0, 0], f"exit codes {codes}; logs: {tails(tmp_path)}"
    finally:
        for process in [*workers, fake]:
            if process.poll() is None:
                process.kill()
                process.wait()

    accepted = list(read_record(record))
    twice = {key: n for key, n in Counter((m["to"], m["body"]) for m in accepted).items() if n > 1}
    assert twice == {}, f"{len(twice)} sent twice, e.g. {next(iter(twice))}; {tails(tmp_path)}"
    assert len(accepted) == expected
    with engine.connect() as conn:
        ours = set(conn.execute(sa.select(Outbox.provider_id)).scalars())
        taken_over = dict(
            conn.execute(sa.select(Outbox.id, Outbox.attempts).where(Outbox.id.in_(orphaned))).all()
        )
    assert ours == {m["sid"] for m in accepted}  # each row holds the id of the one that went
    # Every message the killed worker held went out later, by another worker's claim.
    assert orphaned and all(n > 1 for n in taken_over.values()), taken_over


def lines(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


def wait_until(condition, seconds: float, what: str, logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; logs: {tails(logs)}")
        time.sleep(0.2)


def tails(logs: Path) -> dict[str, str]:
    """The end of each worker's log, for a failure message."""
    return {p.name: p.read_text()[-2000:] for p in sorted(logs.glob("worker*.log"))}
