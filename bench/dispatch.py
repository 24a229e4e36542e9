"""Dispatch and `due` cost with a realistic backlog, at 10,000 to 1,000,000 enrolled.

    .venv/bin/python bench/dispatch.py [--sizes 10000,100000,1000000] [--due-share 0.03]
        [--per-worker 50] [--repeat 3] [--profile]
        [--postgres postgresql+psycopg://postgres@127.0.0.1/postgres]

For each size a database is built directly with the driver's executemany of prepared
tuples (not through the CSV import): per participant a completed intake, an overdue
pending follow-up for 60% of them (a window that closed 2 to 20 months ago, never
interviewed, as the synthetic cohort leaves about 0.6 per man), a pending 6-month
follow-up ahead; per partner (85%) a completed first contact and, for 35%, an overdue
pending check-in; for the first `--due-share` of the participants (3%: about ten
follow-ups per man over two years, reminded twice) a follow-up due on the morning measured. Staff grows with the cohort: one worker per `--per-worker` participants
(facilitators for the men, partner-support workers for the partners, by site) and a
supervisor per site, so every worker has a backlog of the same size at every size.

Measured:

- one dispatch pass at 08:00:30 in Belgrade on a Monday, from a clean outbox: it plans
  the reminders, the escalations (to the supervisors) and every worker's daily digest,
  then renders and "sends" each message through the console channel to /dev/null, so
  what is timed is our own cost. With staff growing with the cohort, the digests grow
  with it (one per worker), and so do the reminders (`--due-share`): what is due grows
  with the cohort in the same mix, so the cost that must stay flat is the cost per
  message. Printed: wall and CPU per pass and per message, and the ratios of
  the largest size to the smallest (target: per message at most 1.5x).
- `followup due --format json --site BG --limit 100`, in this process (the command as
  a user runs it, minus the interpreter's start-up), output to /dev/null; and the
  same for the page at --offset 10000. Target: at most 1.5x.

CPU is this process's (on PostgreSQL the server's own CPU is not in it).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
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
from followup.db import create_schema, transaction  # noqa: E402
from followup.dispatch.run import run_pass  # noqa: E402
from followup.dispatch.sender import ChannelSet, Sender  # noqa: E402
from followup.models import DispatchWatermark, Outbox  # noqa: E402

DAY = date(2026, 3, 23)  # a Monday
AT = datetime(2026, 3, 23, 7, 0, 30, tzinfo=UTC)  # 08:00:30 in Belgrade
SITES = ("BG", "NS")
CHUNK = 50_000
PARTNER_RATE = 0.85
OVERDUE_RATE = 0.6  # the man's follow-ups left pending after their window closed
PARTNER_OVERDUE_RATE = 0.35


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


class Writer:
    """INSERTs of prepared tuples through the driver's own executemany."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def value(self, v):
        if self.sqlite and isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        if self.sqlite and isinstance(v, date):
            return v.isoformat()
        return v

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join([self.mark] * len(columns))})"
        )
        if self.sqlite:  # dates as the text SQLAlchemy stores; the rest as they are
            rows = [tuple(self.value(v) for v in row) for row in rows]
        cursor = self.conn.connection.driver_connection.cursor()
        cursor.executemany(sql, rows)
        cursor.close()


STAFF = ("staff_id", "site_code", "name", "roles", "channel", "language", "active")
PARTICIPANT = (
    "id",
    "case_id",
    "site_code",
    "referral_source",
    "enrolled_on",
    "facilitator_id",
    "protocol_id",
    "protocol_revision",
    "created_at",
)
PARTNER = (
    "id",
    "partner_id",
    "participant_id",
    "relationship",
    "consent_on",
    "do_not_contact",
    "support_worker_id",
    "contact_sealed",
    "created_at",
)
FOLLOWUP = (
    "participant_id",
    "partner_id",
    "checkpoint",
    "occurrence",
    "due_on",
    "window_opens_on",
    "window_closes_on",
    "provisional",
    "assigned_staff_id",
    "status",
    "completed_on",
    "updated_at",
)


def followup(
    participant: int, partner: int | None, checkpoint: str, due: date, worker: int, done: bool
) -> tuple:
    return (
        participant,
        partner,
        checkpoint,
        1,
        due,
        due - timedelta(days=14),
        due + timedelta(days=28),
        False,
        worker,
        "completed" if done else "scheduled",
        due if done else None,
        AT,
    )


def build(ctx: Context, people: int, due: int, per_worker: int) -> dict[str, int]:
    """The schema and rows, written in bulk; returns what was written."""
    create_schema(ctx.engine)
    rng = random.Random(people)
    workers = max(len(SITES) * 2, people // per_worker)
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        revision = ctx.protocol("undp-serbia").revision
        conn = session.connection()
        staff = [
            (f"W{n:06d}", SITES[n % 2], f"Worker {n}", role, "console", "sr-Latn", True)
            for n in range(workers)
            for role in ["facilitator" if (n // 2) % 2 == 0 else "partner_support"]
        ]
        staff += [
            (f"SV-{code}", code, f"Supervisor {code}", "supervisor", "console", "sr-Latn", True)
            for code in SITES
        ]
        Writer(conn).insert("staff", STAFF, staff)
        rows = conn.execute(sa.text("SELECT id, site_code, roles FROM staff ORDER BY id")).all()
    team = {
        (code, role): [r.id for r in rows if r.site_code == code and r.roles == role]
        for code in SITES
        for role in ("facilitator", "partner_support")
    }
    written = {"staff": len(staff), "participants": people, "partners": 0, "followups": 0}
    sealed = ctx.vault.seal({"phone": "+381690000000"})
    for start in range(1, people + 1, CHUNK):
        participants, partners, followups = [], [], []
        for i in range(start, min(start + CHUNK, people + 1)):
            site = SITES[i % 2]
            facilitators = team[(site, "facilitator")]
            worker = facilitators[(i // 2) % len(facilitators)]
            enrolled = DAY - timedelta(days=rng.randint(60, 900))
            participants.append(
                (
                    i,
                    f"{site}-{i:07d}",
                    site,
                    "court",
                    enrolled,
                    worker,
                    "undp-serbia",
                    revision,
                    AT,
                )
            )
            followups.append(
                followup(i, None, "intake_assessment", enrolled + timedelta(14), worker, True)
            )
            if rng.random() < OVERDUE_RATE:
                late = DAY - timedelta(days=rng.randint(45, 600))
                followups.append(followup(i, None, "followup_3m", late, worker, False))
            ahead = DAY + timedelta(days=rng.randint(30, 400))
            followups.append(followup(i, None, "followup_6m", ahead, worker, False))
            if i <= due:
                followups.append(followup(i, None, "end_of_programme", DAY, worker, False))
            if rng.random() < PARTNER_RATE:
                supporters = team[(site, "partner_support")]
                support = supporters[(i // 2) % len(supporters)]
                partners.append(
                    (
                        i,
                        f"P-{i:07d}",
                        i,
                        "current",
                        enrolled + timedelta(7),
                        False,
                        support,
                        sealed,  # as an imported partner's: the key check opens the first
                        AT,
                    )
                )
                contact = enrolled + timedelta(days=10)
                followups.append(followup(i, i, "partner_first_contact", contact, support, True))
                if rng.random() < PARTNER_OVERDUE_RATE:
                    late = DAY - timedelta(days=rng.randint(45, 600))
                    followups.append(followup(i, i, "partner_checkin", late, support, False))
        with transaction(ctx.engine) as session:
            writer = Writer(session.connection())
            writer.insert("participant", PARTICIPANT, participants)
            writer.insert("partner", PARTNER, partners)
            writer.insert("followup", FOLLOWUP, followups)
        written["partners"] += len(partners)
        written["followups"] += len(followups)
    # Statistics, as a database in use has them; on PostgreSQL also the vacuum that
    # autovacuum would otherwise be doing after the bulk load, in the middle of the timing.
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if conn.dialect.name == "sqlite" else "VACUUM ANALYZE")
    return written


@contextlib.contextmanager
def timed():
    """(wall seconds, CPU seconds) of the block, in a list filled on exit."""
    spent: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield spent
    spent.extend([time.perf_counter() - wall, time.process_time() - cpu])


def one_pass(ctx: Context, sink, profile: cProfile.Profile | None = None):
    """One dispatch pass from a clean outbox: ((wall, cpu), messages sent)."""
    with ctx.engine.begin() as conn:
        conn.execute(sa.delete(Outbox))
        conn.execute(sa.delete(DispatchWatermark))
    channels = ChannelSet(ctx, environ={}, channels={"console": ConsoleChannel(sink)})
    sender = Sender(ctx, channels, worker="bench")
    with timed() as spent:
        if profile is not None:
            profile.enable()
        outcome = run_pass(ctx, sender, clock=lambda: AT)
        if profile is not None:
            profile.disable()
    channels.close()
    return tuple(spent), outcome


def due_command(config: Path, *args: str) -> tuple[float, float]:
    """`followup due …` in this process, its output thrown away: (wall, cpu)."""
    from followup.cli import main

    with timed() as spent, contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["--config", str(config), "due", *args])
        except SystemExit as exit:
            if exit.code:
                raise
    return tuple(spent)


def median_of(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples))


def measure(url: str, people: int, args, folder: Path) -> dict[str, tuple[float, float]]:
    config = folder / f"config-{people}.toml"
    config.write_text(config_text(url))
    ctx = Context.open(str(config))
    with timed() as spent:
        written = build(ctx, people, round(people * args.due_share), args.per_worker)
    print(
        f"  {people:>9,} enrolled: built in {spent[0]:6.1f} s ({written['staff']:,} staff, "
        f"{written['partners']:,} partners, {written['followups']:,} follow-ups)",
        flush=True,
    )
    passes, sent = [], None
    with open(os.devnull, "w") as sink:
        for _ in range(args.repeat):
            spent, outcome = one_pass(ctx, sink)
            passes.append(spent)
            if sent is not None:
                assert outcome.sent.sent == sent, "passes differ"
            sent = outcome.sent.sent
        if args.profile and people == max(int(s) for s in args.sizes.split(",")):
            profile = cProfile.Profile()
            one_pass(ctx, sink, profile)
            stats = pstats.Stats(profile, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)
    planned = outcome.planned
    wall, cpu = median_of(passes)
    print(
        f"  {people:>9,} enrolled: one pass {wall * 1000:9.1f} ms wall, {cpu * 1000:9.1f} ms CPU "
        f"(median of {args.repeat}); {sent:,} messages ({planned.reminders:,} reminders, "
        f"{planned.digests:,} digests, {planned.escalations:,} escalations): "
        f"{wall / sent * 1000:.2f} ms wall, {cpu / sent * 1000:.2f} ms CPU per message",
        flush=True,
    )
    result = {"pass": (wall, cpu), "message": (wall / sent, cpu / sent)}
    ctx.engine.dispose()
    common = ("--format", "json", "--site", "BG", "--as-of", DAY.isoformat())
    for name, extra in (
        ("due", ("--limit", "100")),
        ("due_deep", ("--limit", "100", "--offset", "10000")),
    ):
        due_command(config, *common, *extra)  # warm: the first opens the caches
        result[name] = median_of([due_command(config, *common, *extra) for _ in range(5)])
        print(
            f"  {people:>9,} enrolled: due --site BG {' '.join(extra):<28} "
            f"{result[name][0] * 1000:8.1f} ms wall, {result[name][1] * 1000:8.1f} ms CPU "
            "(median of 5)",
            flush=True,
        )
    return result


def ratio_line(label: str, small: tuple, large: tuple, sizes: list[int], target: float | None):
    wall, cpu = large[0] / small[0], large[1] / small[1]
    verdict = ""
    if target is not None:
        verdict = f"  ({'within' if max(wall, cpu) <= target else 'ABOVE'} the {target}x target)"
    print(
        f"  {label:<34} {sizes[-1]:,} / {sizes[0]:,}: {wall:6.2f}x wall, {cpu:6.2f}x CPU{verdict}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--due-share",
        type=float,
        default=0.03,
        help="share of the participants with a follow-up due on the morning measured "
        "(so the mix of reminders and digests is the same at every size)",
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="enrolled participants, comma-separated"
    )
    parser.add_argument(
        "--per-worker", type=int, default=50, help="participants per member of staff"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="passes per size (the median is shown)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one pass at the largest size"
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
    print(
        f"Dispatch with a backlog ({args.due_share:.0%} of the men due, a worker per "
        f"{args.per_worker} participants) and due --limit 100, on {backend}:"
    )
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
                    results[people] = measure(url, people, args, folder)
                finally:
                    with admin.connect() as conn:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.dispose()
            else:
                url = f"sqlite:///{folder / f'followup-{people}.db'}"
                results[people] = measure(url, people, args, folder)
    small, large = results[sizes[0]], results[sizes[-1]]
    print("Ratios:")
    ratio_line("dispatch pass (grows with staff)", small["pass"], large["pass"], sizes, None)
    ratio_line("dispatch, per message", small["message"], large["message"], sizes, 1.5)
    ratio_line("due --limit 100", small["due"], large["due"], sizes, 1.5)
    ratio_line("due --limit 100 --offset 10000", small["due_deep"], large["due_deep"], sizes, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
