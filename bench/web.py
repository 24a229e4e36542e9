"""The My follow-ups page for one staff member, at 10,000 and at 1,000,000 enrolled.

    .venv/bin/python bench/web.py [--sizes 10000,1000000] [--outcome-sizes 10000,100000]
                                  [--pages followups,outcomes] [--repeat 20] [--rebuild]

For each size a database is built directly with executemany (not through the CSV
import) under bench/out/web-N.db and reused by later runs (--rebuild makes it again).
Caseloads are what a centre has: a facilitator follows 40 men and a partner-support
worker their partners, so staff grow with enrolment and one person's page should cost
the same at any size. Per man: five follow-ups (two done, one due about now, two ahead)
and, for the 85% with a partner, five of hers. The page is requested through the whole
app (session cookie, guard, query, template) with FastAPI's TestClient, logged in as
facilitator F-000000 and as partner-support worker P-000000 (whose page also writes
its audit line). Printed: the median time per size and page, and the ratio between
the sizes (target: at most 1.5x).

The Outcomes page, at 10,000 and 100,000 participants (--outcome-sizes), on the report
benchmark's database (bench/report.py: statuses, interviews, recidivism reports and
police checks, five sites; built once under bench/out/report-N.db and shared with it),
for an evaluator granted every site. Per size: the app's startup (the report libraries
imported then), the first load after login (the report built and its plots drawn), a
warm load (the same options again: the kept report), a filter change (grouped by
referral source: another report built) and that filter warm. Wall and CPU time (the whole
process: the app runs in TestClient's thread) are printed; targets: warm <= 1 s at 10,000
and <= 3x that at 100,000.

Sizes are measured in alternating order, every size warmed first (round 1 small to large,
round 2 large to small, ...), so neither size pays the process's own warm-up (imports,
caches) and the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import statistics
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from followup.context import Context  # noqa: E402
from followup.db import create_schema, executemany, transaction  # noqa: E402
from followup.http import create_app  # noqa: E402
from followup.models import FollowUp, Participant, Partner, Staff, UserAccount  # noqa: E402
from followup.operations.accounts import add_account  # noqa: E402

OUT = REPO / "bench" / "out"
SITES = ("BG", "NS")
CASELOAD = 40
CHUNK = 50_000
PASSWORD = "bench password"
AT = datetime(2026, 1, 1, tzinfo=UTC)
# participant checkpoints (name, days from "today" of the build, status)
HIS = (
    ("intake_assessment", -300, "completed"),
    ("end_of_programme", -120, "completed"),
    ("followup_3m", -2, "scheduled"),
    ("followup_6m", 90, "scheduled"),
    ("followup_6m", 400, "scheduled"),
)
HERS = (
    ("partner_first_contact", -300, "completed"),
    ("partner_checkin", -200, "completed"),
    ("followup_3m", 3, "scheduled"),
    ("followup_6m", 95, "scheduled"),
    ("followup_6m", 410, "scheduled"),
)


def config_text(path: Path) -> str:
    sites = "".join(
        f'[sites.{code}]\nname = "Centre {code}"\ntimezone = "Europe/Belgrade"\nlanguage = "en"\n\n'
        for code in SITES
    )
    return (
        textwrap.dedent(f"""
        [database]
        url = "sqlite:///{path}"
        [protocols]
        directory = "{REPO / "schedules"}"
        active = ["undp-serbia"]
        """)
        + sites
    )


def build(ctx: Context, people: int, today: date) -> None:
    create_schema(ctx.engine)
    rng = random.Random(people)
    teams = (people + CASELOAD - 1) // CASELOAD
    with transaction(ctx.engine) as session:
        ctx.sync_sites(session)
        ctx.register_protocols(session)
        conn = session.connection()
        staff = [_staff(f"F-{n:06d}", n, "facilitator") for n in range(teams)]
        staff += [_staff(f"P-{n:06d}", n, "partner_support") for n in range(teams)]
        executemany(conn, Staff.__table__.insert(), staff)
        ids = dict(conn.execute(sa.select(Staff.staff_id, Staff.id)).all())
        add_account(
            session,
            ctx,
            username="facilitator",
            staff_id="F-000000",
            roles=["facilitator"],
            password=PASSWORD,
            language="en",
        )
        add_account(
            session,
            ctx,
            username="worker",
            staff_id="P-000000",
            roles=["partner_support"],
            password=PASSWORD,
            language="en",
        )
    revision = ctx.protocol("undp-serbia").revision
    for start in range(0, people, CHUNK):
        with transaction(ctx.engine) as session:
            conn = session.connection()
            numbers = range(start + 1, min(start + CHUNK, people) + 1)
            men, women, rows = [], [], []
            for i in numbers:
                team = (i - 1) // CASELOAD
                facilitator, worker = ids[f"F-{team:06d}"], ids[f"P-{team:06d}"]
                men.append(
                    {
                        "id": i,
                        "case_id": f"{SITES[team % 2]}-{i:07d}",
                        "site_code": SITES[team % 2],
                        "referral_source": "court",
                        "enrolled_on": today - timedelta(days=rng.randint(320, 700)),
                        "facilitator_id": facilitator,
                        "protocol_id": "undp-serbia",
                        "protocol_revision": revision,
                        "created_at": AT,
                    }
                )
                rows += [
                    _followup(
                        i,
                        None,
                        name,
                        today + timedelta(days=days + rng.randint(-3, 3)),
                        facilitator,
                        status,
                        n,
                    )
                    for n, (name, days, status) in enumerate(HIS)
                ]
                if rng.random() < 0.85:
                    women.append(
                        {
                            "id": i,
                            "partner_id": f"W-{i:07d}",
                            "participant_id": i,
                            "relationship": "current",
                            "consent_on": today - timedelta(days=300),
                            "channel": "phone",
                            "plan_confirmed_on": today - timedelta(days=30),
                            "support_worker_id": worker,
                            "do_not_contact": False,
                            "created_at": AT,
                        }
                    )
                    rows += [
                        _followup(
                            i,
                            i,
                            name,
                            today + timedelta(days=days + rng.randint(-3, 3)),
                            worker,
                            status,
                            n,
                        )
                        for n, (name, days, status) in enumerate(HERS)
                    ]
            executemany(conn, Participant.__table__.insert(), men)
            executemany(conn, Partner.__table__.insert(), women)
            executemany(conn, FollowUp.__table__.insert(), rows)
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def _staff(staff_id: str, n: int, role: str) -> dict:
    return {
        "staff_id": staff_id,
        "site_code": SITES[n % 2],
        "name": f"Worker {staff_id}",
        "roles": role,
        "phone": None,
        "email": None,
        "channel": "console",
        "language": "en",
        "active": True,
        "channel_problem": None,
    }


def _followup(
    participant: int,
    partner: int | None,
    checkpoint: str,
    due: date,
    worker: int,
    status: str,
    occurrence: int,
) -> dict:
    return {
        "participant_id": participant,
        "partner_id": partner,
        "checkpoint": checkpoint,
        "occurrence": occurrence,
        "due_on": due,
        "window_opens_on": due - timedelta(days=7),
        "window_closes_on": due + timedelta(days=14),
        "provisional": False,
        "assigned_staff_id": worker,
        "status": status,
        "completed_on": due if status == "completed" else None,
        "cancelled_reason": None,
        "updated_at": AT,
    }


def deployment(people: int, rebuild: bool) -> Context:
    OUT.mkdir(parents=True, exist_ok=True)
    db, marker, config = (OUT / f"web-{people}.{ext}" for ext in ("db", "json", "toml"))
    config.write_text(config_text(db))
    if rebuild or not marker.exists() or not db.exists():
        for stale in (db, marker, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        ctx = Context.open(str(config))
        started = time.perf_counter()
        build(ctx, people, ctx.site_today("BG"))
        seconds = time.perf_counter() - started
        marker.write_text(
            json.dumps(
                {
                    "people": people,
                    "built_on": ctx.site_today("BG").isoformat(),
                    "seconds": round(seconds, 1),
                }
            )
        )
        print(
            f"  {people:>9,} enrolled: built {db.relative_to(REPO)} in {seconds:6.1f} s", flush=True
        )
    else:
        print(
            f"  {people:>9,} enrolled: reusing {db.relative_to(REPO)} (built {json.loads(marker.read_text())['built_on']})",
            flush=True,
        )
    return Context.open(str(config))


def logged_in(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.status_code
    return client


def followups_count(client: TestClient) -> int:
    response = client.get("/followups")
    assert response.status_code == 200
    return len(re.findall(r'<li class="(?:overdue|today|week|upcoming)">', response.text))


def timed(client: TestClient, path: str) -> tuple[float, float]:
    """Wall and CPU seconds of one GET (CPU: the whole process, app thread included)."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert response.status_code == 200, (path, response.status_code)
    return wall, cpu


def alternating(sizes: list[int], rounds: int):
    """(round, size) in alternating order: small to large, then large to small, ..."""
    for r in range(rounds):
        for size in sizes if r % 2 == 0 else list(reversed(sizes)):
            yield r, size


def bench_followups(sizes: list[int], repeat: int, rebuild: bool) -> None:
    clients: dict[tuple[int, str], TestClient] = {}
    contexts = []
    for people in sizes:  # build, and warm every size before any is measured
        ctx = deployment(people, rebuild)
        contexts.append(ctx)
        with transaction(ctx.engine) as session:
            assert (
                session.execute(sa.select(sa.func.count()).select_from(UserAccount)).scalar_one()
                == 2
            )
        app = create_app(ctx)
        for who, username in (("facilitator", "facilitator"), ("partner support", "worker")):
            client = logged_in(app, username)
            client.get("/followups")  # warm: templates compiled, protocol revision loaded
            clients[people, who] = client
    times: dict[tuple[int, str], list[float]] = {key: [] for key in clients}
    for _round, people in alternating(sizes, repeat):
        for who in ("facilitator", "partner support"):
            times[people, who].append(timed(clients[people, who], "/followups")[0])
    medians = {key: statistics.median(values) for key, values in times.items()}
    for (people, who), seconds in medians.items():
        items = followups_count(clients[people, who])
        print(
            f"  {people:>9,} enrolled: My follow-ups for one {who:<15} {seconds * 1000:7.1f} ms "
            f"(median of {repeat}, sizes alternated; {items} follow-ups listed)",
            flush=True,
        )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for who in ("facilitator", "partner support"):
            ratio = medians[large, who] / medians[small, who]
            print(f"ratio {large:,} / {small:,} ({who}): {ratio:.2f}x (target <= 1.5x)")
    for ctx in contexts:
        ctx.engine.dispose()


# --- the Outcomes page ---------------------------------------------------------------------

EVALUATOR = "evaluator"
FILTER = "/outcomes?by=referral_source"


def _report_bench():
    """bench/report.py, whose database the Outcomes page reads (bench is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcomes_deployment(people: int, rebuild: bool) -> Context:
    report_bench = _report_bench()
    db = report_bench.database(people, rebuild)
    config = OUT / f"report-{people}.toml"
    ctx = Context.open(str(config))
    with transaction(ctx.engine) as session:
        found = session.execute(
            sa.select(UserAccount.id).where(UserAccount.username == EVALUATOR)
        ).first()
        if found is None:
            session.execute(
                Staff.__table__.insert().values(
                    staff_id="BG-EV",
                    site_code="BG",
                    name="Evaluator BG",
                    roles="evaluator",
                    channel="console",
                    language="en",
                    active=True,
                )
            )
            session.flush()
            add_account(
                session,
                ctx,
                username=EVALUATOR,
                staff_id="BG-EV",
                roles=["evaluator"],
                password=PASSWORD,
                language="en",
            )
    print(f"  {people:>9,} enrolled: Outcomes on {db.relative_to(REPO)}", flush=True)
    return ctx


def _ms(wall: float, cpu: float) -> str:
    return f"{wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms CPU"


def bench_outcomes(sizes: list[int], repeat: int, rebuild: bool) -> None:
    from contextlib import ExitStack

    with ExitStack() as stack:
        clients: dict[int, TestClient] = {}
        for people in sizes:
            ctx = outcomes_deployment(people, rebuild)
            stack.callback(ctx.engine.dispose)
            app = create_app(ctx)
            wall, cpu = time.perf_counter(), time.process_time()
            stack.enter_context(TestClient(app))  # runs the app's startup: the warm-up
            started = time.perf_counter() - wall, time.process_time() - cpu
            client = logged_in(app, EVALUATOR)
            clients[people] = client
            first = timed(client, "/outcomes")
            changed = timed(client, FILTER)
            print(
                f"  {people:>9,} enrolled: Outcomes startup {_ms(*started)}; "
                f"first load after login {_ms(*first)}; filter change {_ms(*changed)}",
                flush=True,
            )
        warm: dict[tuple[int, str], list[tuple[float, float]]] = {
            (people, path): [] for people in sizes for path in ("/outcomes", FILTER)
        }
        for _round, people in alternating(sizes, repeat):
            for path in ("/outcomes", FILTER):
                warm[people, path].append(timed(clients[people], path))
        medians = {
            key: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for key, got in warm.items()
        }
        for (people, path), (wall, cpu) in medians.items():
            what = "Outcomes warm" if path == "/outcomes" else "filter warm  "
            target = " (target <= 1000 ms)" if people == sizes[0] and path == "/outcomes" else ""
            print(
                f"  {people:>9,} enrolled: {what} {_ms(wall, cpu)} "
                f"(median of {repeat}, sizes alternated){target}",
                flush=True,
            )
        if len(sizes) >= 2:
            small, large = sizes[0], sizes[-1]
            ratio = medians[large, "/outcomes"][0] / medians[small, "/outcomes"][0]
            cpu_ratio = medians[large, "/outcomes"][1] / medians[small, "/outcomes"][1]
            print(
                f"ratio {large:,} / {small:,} (Outcomes warm): {ratio:.2f}x wall, "
                f"{cpu_ratio:.2f}x CPU (target <= 3x)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,1000000", help="enrolled participants, comma-separated"
    )
    parser.add_argument(
        "--outcome-sizes",
        default="10000,100000",
        help="participants for the Outcomes page, comma-separated",
    )
    parser.add_argument(
        "--pages", default="followups,outcomes", help="which pages: followups, outcomes or both"
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="requests per page and size (the median is shown)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    args = parser.parse_args()
    pages = args.pages.split(",")
    if "followups" in pages:
        bench_followups([int(s) for s in args.sizes.split(",")], args.repeat, args.rebuild)
    if "outcomes" in pages:
        bench_outcomes([int(s) for s in args.outcome_sizes.split(",")], args.repeat, args.rebuild)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
