"""Dispatch cost: one pass with 1,000 reminders due, at 10,000 and at 1,000,000 enrolled.

    .venv/bin/python bench/dispatch.py [--due 1000] [--sizes 10000,1000000] [--repeat 3]
                                       [--postgres postgresql+psycopg://postgres@127.0.0.1/postgres]

For each size, a database is built directly with executemany (not through the CSV
import): the participants, and per participant a completed follow-up in the past and a
pending one months ahead — plus, for the first `--due` of them, a follow-up due on the
morning measured. The staff is the same at every size (200 workers at two centres), so
the only thing that grows is who is enrolled. The pass runs at 08:00:30 in Belgrade:
it plans the reminders, the escalations and the daily digests, then renders and
"sends" every message through the console channel writing to /dev/null, so what is
timed is our own cost, not a network's. Printed: the median pass time per size and
the ratio (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from followup.channels.console import ConsoleChannel  # noqa: E402
from followup.context import Context  # noqa: E402
from followup.db import create_schema, executemany, transaction  # noqa: E402
from followup.dispatch.run import run_pass  # noqa: E402
from followup.dispatch.sender import ChannelSet, Sender  # noqa: E402
from followup.models import DispatchWatermark, FollowUp, Outbox, Participant, Staff  # noqa: E402

DAY = date(2026, 3, 23)  # a Monday
AT = datetime(2026, 3, 23, 7, 0, 30, tzinfo=UTC)  # 08:00:30 in Belgrade
SITES = ("BG", "NS")
WORKERS = 200
CHUNK = 50_000


def config_text(url: str) -> str:
    sites = "".join(
        f'[sites.{code}]\nname = "Centre {code}"\ntimezone = "Europe/Belgrade"\nlanguage = "sr-Latn"\n\n'
        for code in SITES
    )
    return (
        textwrap.dedent(f"""
        [database]
        url = "{url}"
        [protocols]
        directory = "{REPO / "schedules"}"
        active = ["undp-serbia"]
        [dispatch]
        batch_size = 500
        """)
        + sites
    )


def build(ctx: Context, people: int, due: int) -> None:
    """The schema and rows, written in bulk."""
    create_schema(ctx.engine)
    rng = random.Random(people)
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        revision = ctx.protocol("undp-serbia").revision
        conn = session.connection()
        executemany(
            conn,
            Staff.__table__.insert(),
            [
                {
                    "staff_id": f"W{n:04d}",
                    "site_code": SITES[n % 2],
                    "name": f"Worker {n}",
                    "roles": "facilitator",
                    "phone": None,
                    "email": None,
                    "channel": "console",
                    "language": "sr-Latn",
                    "active": True,
                    "channel_problem": None,
                }
                for n in range(WORKERS)
            ],
        )
        staff = conn.execute(sa.select(Staff.id).order_by(Staff.id)).scalars().all()
    for start in range(0, people, CHUNK):
        with transaction(ctx.engine) as session:
            conn = session.connection()
            ids = range(start + 1, min(start + CHUNK, people) + 1)
            executemany(
                conn,
                Participant.__table__.insert(),
                [
                    {
                        "id": i,
                        "case_id": f"{SITES[i % 2]}-{i:07d}",
                        "site_code": SITES[i % 2],
                        "referral_source": "court",
                        "enrolled_on": DAY - timedelta(days=rng.randint(200, 900)),
                        "facilitator_id": staff[i % WORKERS],
                        "protocol_id": "undp-serbia",
                        "protocol_revision": revision,
                        "created_at": AT,
                    }
                    for i in ids
                ],
            )
            rows = []
            for i in ids:
                worker = staff[i % WORKERS]
                past = DAY - timedelta(days=rng.randint(30, 300))
                ahead = DAY + timedelta(days=rng.randint(30, 400))
                rows.append(_followup(i, "intake_assessment", past, worker, "completed"))
                rows.append(_followup(i, "followup_6m", ahead, worker, "scheduled"))
                if i <= due:
                    rows.append(_followup(i, "followup_3m", DAY, worker, "scheduled"))
            executemany(conn, FollowUp.__table__.insert(), rows)
    # Statistics, as a database in use has them; on PostgreSQL also the vacuum that
    # autovacuum would otherwise be doing after the bulk load, in the middle of the timing.
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if conn.dialect.name == "sqlite" else "VACUUM ANALYZE")


def _followup(participant: int, checkpoint: str, due: date, worker: int, status: str) -> dict:
    return {
        "participant_id": participant,
        "partner_id": None,
        "checkpoint": checkpoint,
        "occurrence": 1,
        "due_on": due,
        "window_opens_on": due - timedelta(days=14),
        "window_closes_on": due + timedelta(days=28),
        "provisional": False,
        "assigned_staff_id": worker,
        "status": status,
        "completed_on": due if status == "completed" else None,
        "cancelled_reason": None,
        "updated_at": AT,
    }


def one_pass(ctx: Context, sink) -> tuple[float, int]:
    """Time one dispatch pass from a clean outbox; returns (seconds, messages sent)."""
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(Outbox))
        conn.execute(sa.delete(DispatchWatermark))
    channels = ChannelSet(ctx, environ={}, channels={"console": ConsoleChannel(sink)})
    sender = Sender(ctx, channels, worker="bench")
    started = time.perf_counter()
    outcome = run_pass(ctx, sender, clock=lambda: AT)
    return time.perf_counter() - started, outcome.sent.sent


def measure(url: str, people: int, due: int, repeat: int, folder: Path) -> float:
    config = folder / f"config-{people}.toml"
    config.write_text(config_text(url))
    ctx = Context.open(str(config))
    started = time.perf_counter()
    build(ctx, people, due)
    print(f"  {people:>9,} enrolled: built in {time.perf_counter() - started:6.1f} s", flush=True)
    times = []
    with open(os.devnull, "w") as sink:
        for _ in range(repeat):
            seconds, sent = one_pass(ctx, sink)
            times.append(seconds)
    expected = due + WORKERS  # a reminder each, and each worker's digest
    assert sent == expected, f"sent {sent}, expected {expected}"
    median = statistics.median(times)
    print(
        f"  {people:>9,} enrolled: one pass {median * 1000:8.1f} ms (median of {repeat}; "
        f"{sent} messages: {due} reminders, {WORKERS} digests)",
        flush=True,
    )
    ctx.engine.dispose()
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, default=1000, help="reminders due in the pass")
    parser.add_argument(
        "--sizes", default="10000,1000000", help="enrolled participants, comma-separated"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="passes per size (the median is shown)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL (a server URL; "
        "throwaway databases are created there) instead of SQLite files",
    )
    args = parser.parse_args()
    os.environ.setdefault("FOLLOWUP_SECRET_KEY", Fernet.generate_key().decode())
    sizes = [int(s) for s in args.sizes.split(",")]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"One dispatch pass with {args.due:,} reminders due, on {backend}:")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for people in sizes:
            if args.postgres:
                admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
                name = f"followup_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                try:
                    url = (
                        sa.engine.make_url(args.postgres)
                        .set(database=name)
                        .render_as_string(hide_password=False)
                    )
                    results[people] = measure(url, people, args.due, args.repeat, folder)
                finally:
                    with admin.connect() as conn:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.dispose()
            else:
                url = f"sqlite:///{folder / f'followup-{people}.db'}"
                results[people] = measure(url, people, args.due, args.repeat, folder)
    small, large = results[sizes[0]], results[sizes[-1]]
    ratio = large / small
    print(
        f"Ratio {sizes[-1]:,} / {sizes[0]:,} enrolled: {ratio:.2f}x "
        f"({'within' if ratio <= 1.5 else 'ABOVE'} the 1.5x target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
