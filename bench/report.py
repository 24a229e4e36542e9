"""Report cost: `followup report --format json` on 1,000,000 participants, against a lower bound.

    .venv/bin/python bench/report.py [--participants N] [--rebuild] [--repeat K]
    .venv/bin/python bench/report.py --instruments [--participants 100000]  (issue 14:
        the instruments section against raw SQL + numpy; see bench/report_instruments.py)

The database (participants with partners, status events, follow-ups, interviews,
recidivism reports and police record checks, five sites, ~80% completion among admitted
men) is written straight into SQLite with executemany (the CSV import would take hours at
this size) and cached as bench/out/report-N.db; later runs reuse it. The people's paths,
interview rates and outcomes are followup.synthetic's, and their follow-ups come from the
real schedule engine (followup.schedule.plan), so the rows look like an imported cohort.

Two bounds are timed, each in its own process, as the report is:
  bound (queries)  the report's own SQL (compiled by SQLAlchemy, run through raw sqlite3)
                   into numpy arrays, plus a numpy Kaplan-Meier: what the database alone
                   costs for this report, so the ratio to it is our Python overhead. The
                   headline ratio (target <= 2x).
  bound (columns)  raw sqlite3 SELECTs of every column the report reads, row level, into
                   numpy arrays, plus the same Kaplan-Meier. Shown for reference only: it
                   is not a floor (it reads more rows than the report's SQL and is slower
                   than the report itself).
Each figure is the best of --repeat runs, wall and CPU (user + system, the child's own,
from os.wait4); peak RSS is the process's own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from followup.db import create_schema, make_engine  # noqa: E402
from followup.protocol import load_protocols  # noqa: E402
from followup.schedule import PartnerState, plan  # noqa: E402
from followup.synthetic import SOURCE_WEIGHTS, SOURCES, _outcomes, _path  # noqa: E402

TODAY = date(2026, 11, 24)
SITES = {"BG": "sr-Latn", "NS": "sr-Latn", "NI": "sr-Latn", "KG": "sr-Latn", "PRE": "sq"}
OUT = REPO / "bench" / "out"
NOW = "2026-11-24 00:00:00.000000"
VIOLENCE = ("physical", "sexual", "psychological", "economic", "coercive", "stalking")


# --- building the database --------------------------------------------------------------


def config_text(db: Path) -> str:
    sites = "\n".join(
        f'[sites.{code}]\nname = "Centre {code}"\ntimezone = "Europe/Belgrade"\nlanguage = "{lang}"\n'
        for code, lang in SITES.items()
    )
    return (
        textwrap.dedent(f"""
        [database]
        url = "sqlite:///{db}"
        [protocols]
        directory = "{REPO / "schedules"}"
        active = ["undp-serbia", "wwp-europe"]
        [analysis]
        indicators = "{REPO / "analysis" / "indicators.toml"}"
        """)
        + sites
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _yes(rng: random.Random, p: float) -> int:
    return 1 if rng.random() < p else 0


class Writer:
    """Rows per table, flushed with executemany every `batch` participants."""

    SQL = {
        "participant": "INSERT INTO participant (id, case_id, site_code, referral_source, enrolled_on,"
        " admitted_on, programme_start_on, completed_on, ended_on, end_reason, facilitator_id,"
        " protocol_id, protocol_revision, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        "partner": "INSERT INTO partner (id, partner_id, participant_id, relationship, consent_on,"
        " do_not_contact, channel, support_worker_id, created_at) VALUES (?,?,?,?,?,0,'phone',?,?)",
        "event": "INSERT INTO event (participant_id, partner_id, kind, occurred_on, reported_on, source,"
        " physical, psychological, new_offence, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        "followup": "INSERT INTO followup (id, participant_id, partner_id, checkpoint, occurrence, due_on,"
        " window_opens_on, window_closes_on, provisional, assigned_staff_id, status, completed_on,"
        " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        "interview": "INSERT INTO interview (followup_id, participant_id, partner_id, informant,"
        " checkpoint, conducted_on, physical, sexual, psychological, economic, coercive, stalking,"
        " recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    }

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: dict[str, list[tuple]] = {table: [] for table in self.SQL}
        self.counts = dict.fromkeys(self.SQL, 0)

    def flush(self) -> None:
        for table, rows in self.rows.items():
            self.conn.executemany(self.SQL[table], rows)
            self.counts[table] += len(rows)
            rows.clear()


def build(db: Path, n: int, seed: int = 7) -> dict[str, int]:
    """Write n participants and everything that follows from them into a new SQLite file."""
    protocols = load_protocols(REPO / "schedules", ["undp-serbia", "wwp-europe"])
    engine = make_engine(f"sqlite:///{db}")
    create_schema(engine)  # the real tables and indexes
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO site VALUES (?, ?, 'Europe/Belgrade', ?)",
        [(code, f"Centre {code}", lang) for code, lang in SITES.items()],
    )
    staff = {}
    for code in SITES:
        for role, roles in (
            ("F1", "facilitator"),
            ("F2", "facilitator"),
            ("PS", "partner_support"),
        ):
            staff[f"{code}-{role}"] = len(staff) + 1
            conn.execute(
                "INSERT INTO staff (id, staff_id, site_code, name, roles, channel, active)"
                " VALUES (?, ?, ?, ?, ?, 'console', 1)",
                (staff[f"{code}-{role}"], f"{code}-{role}", code, f"{code} {role}", roles),
            )
    for protocol in protocols.values():
        conn.execute(
            "INSERT INTO protocol_revision VALUES (?, ?, ?, ?)",
            (protocol.revision, protocol.id, protocol.to_json(), NOW),
        )
    rng = random.Random(seed)
    writer = Writer(conn)
    codes, ids = list(SITES), list(protocols)
    followup_id = 0
    for i in range(1, n + 1):
        site = codes[i % len(codes)]
        protocol = protocols[ids[0] if rng.random() < 0.85 else ids[1]]
        dates, _status = _path(protocol, TODAY, rng)
        ending = next((kind for kind, _ in _status if kind in ("dropped_out", "excluded")), None)
        writer.rows["participant"].append(
            (
                i,
                f"{site}-{i:07d}",
                site,
                rng.choices(SOURCES, SOURCE_WEIGHTS)[0],
                _iso(dates.enrolled_on),
                _iso(dates.admitted_on),
                _iso(dates.programme_start_on),
                _iso(dates.completed_on),
                _iso(dates.ended_on),
                ending if dates.ended_on else None,
                staff[f"{site}-F{1 + i % 2}"],
                protocol.id,
                protocol.revision,
                NOW,
            )
        )
        writer.rows["event"].extend(
            (i, None, kind, _iso(day), None, None, None, None, None, NOW) for kind, day in _status
        )
        partners = []
        if rng.random() < 0.85:
            consent = dates.enrolled_on + timedelta(days=rng.randint(2, 14))
            consent = consent if consent <= TODAY and rng.random() < 0.85 else None
            partners.append(PartnerState(i, consent))
            writer.rows["partner"].append(
                (
                    i,
                    f"P-{i:07d}",
                    i,
                    rng.choices(["current", "ex", "new"], [70, 25, 5])[0],
                    _iso(consent),
                    staff[f"{site}-PS"],
                    NOW,
                )
            )
        for item in plan(protocol, dates, partners):
            followup_id += 1
            is_partner = item.partner_key is not None
            status, done_on = "scheduled", None
            if not item.provisional and item.window_opens_on <= TODAY:
                if rng.random() < (0.65 if is_partner else 0.8):
                    last = min(item.window_closes_on + timedelta(days=14), TODAY)
                    opens = max(item.window_opens_on, dates.enrolled_on)  # as synthetic
                    span = max((last - opens).days, 0)
                    done_on = opens + timedelta(days=rng.randint(0, span))
                    status = "completed"
                    # Partners report more violence than the men do, as in followup.synthetic.
                    rate = 0.12 if is_partner else 0.05
                    writer.rows["interview"].append(
                        (
                            followup_id,
                            i,
                            item.partner_key,
                            "partner" if is_partner else "participant",
                            item.checkpoint,
                            _iso(done_on),
                            _yes(rng, rate),
                            _yes(rng, rate / 3),
                            _yes(rng, rate * 3),
                            _yes(rng, rate),
                            _yes(rng, rate * 2) if rng.random() < 0.9 else None,
                            None,
                            NOW,
                        )
                    )
                elif item.window_closes_on < TODAY and rng.random() < 0.5:
                    status = "missed"
            writer.rows["followup"].append(
                (
                    followup_id,
                    i,
                    item.partner_key,
                    item.checkpoint,
                    item.occurrence,
                    _iso(item.due_on),
                    _iso(item.window_opens_on),
                    _iso(item.window_closes_on),
                    int(item.provisional),
                    staff[f"{site}-{'PS' if is_partner else 'F1'}"],
                    status,
                    _iso(done_on),
                    NOW,
                )
            )
        for row in _outcomes(dates, f"{site}-{i}", TODAY, rng, bool(partners)):
            new_offence = None
            if row["event"] == "record_check":
                new_offence = _yes(rng, 0.03)
            writer.rows["event"].append(
                (
                    i,
                    None,
                    row["event"],
                    row["date"],
                    row.get("reported_on", row["date"]),
                    row.get("source") or "police",
                    1 if row.get("physical") == "yes" else 0,
                    1 if row.get("psychological") == "yes" else None,
                    new_offence,
                    NOW,
                )
            )
        if i % 20_000 == 0:
            writer.flush()
            print(f"\r  {i:,} participants written", end="", file=sys.stderr, flush=True)
    writer.flush()
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    print(file=sys.stderr)
    return writer.counts


def database(n: int, rebuild: bool) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"report-{n}.db"
    ready = OUT / f"report-{n}.json"
    if rebuild or not ready.exists():
        for stale in (db, ready):
            stale.unlink(missing_ok=True)
        start = time.perf_counter()
        counts = build(db, n)
        counts["seconds"] = round(time.perf_counter() - start, 1)
        ready.write_text(json.dumps(counts))
    counts = json.loads(ready.read_text())
    print(
        f"database {db.relative_to(REPO)}: "
        + ", ".join(
            f"{counts[t]:,} {t}s"
            for t in ("participant", "partner", "followup", "interview", "event")
        )
        + f" (built in {counts['seconds']} s, {db.stat().st_size / 2**30:.2f} GiB)"
    )
    (OUT / f"report-{n}.toml").write_text(config_text(db))
    return db


# --- the bounds -------------------------------------------------------------------------

AS_OF = TODAY.isoformat()
DAY = "CAST(julianday({}) - 2440587.5 AS INTEGER)"


def _read(conn: sqlite3.Connection, sql: str, text: set[int] = frozenset()) -> list:
    """Every row of `sql` as one numpy array per column (text columns as object arrays)."""
    import numpy as np

    cursor = conn.execute(sql)
    width = len(cursor.description)
    parts: list[list] = [[] for _ in range(width)]
    while rows := cursor.fetchmany(100_000):
        for i, column in enumerate(zip(*rows, strict=True)):
            parts[i].append(np.array(column, dtype=object if i in text else np.float64))
    return [np.concatenate(p) if p else np.empty(0) for p in parts]


def kaplan_meier(durations, events):
    """Kaplan-Meier with the log-log CI in a dozen lines of numpy."""
    import numpy as np

    times, index = np.unique(durations, return_inverse=True)
    removed = np.bincount(index, minlength=times.size)
    deaths = np.bincount(index[events], minlength=times.size)
    at_risk = durations.size - np.cumsum(removed) + removed
    keep = deaths > 0
    n, d = at_risk[keep].astype(float), deaths[keep].astype(float)
    survival = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(d / (n * (n - d)))
        se = np.sqrt(greenwood) / np.abs(np.log(survival))
        low = survival ** np.exp(1.96 * se)
        high = survival ** np.exp(-1.96 * se)
    return times[keep], survival, low, high


def recidivism_km(pid, completed, event_pid, event_day, recidivism, contact_pid, contact_day):
    import numpy as np

    order = np.argsort(pid)
    pid, completed = pid[order], completed[order]
    first = np.full(pid.size, np.inf)
    where = np.searchsorted(pid, event_pid)
    ok = recidivism & (event_day >= completed[np.minimum(where, pid.size - 1)])
    np.minimum.at(first, where[ok], event_day[ok])
    last = np.full(pid.size, -np.inf)
    np.maximum.at(last, np.searchsorted(pid, contact_pid), contact_day)
    included = ~np.isnan(completed)
    event = np.isfinite(first) & included
    censor = np.where(last >= completed, last - completed, 0.0)
    durations = np.where(event, first - completed, censor)[included]
    return kaplan_meier(durations, event[included])


def bound_columns(db: Path) -> None:
    """Raw sqlite3 reads of every column the report uses, row by row, and a Kaplan-Meier."""
    import numpy as np

    conn = sqlite3.connect(db)
    dates = ", ".join(
        DAY.format(c)
        for c in ("enrolled_on", "admitted_on", "programme_start_on", "completed_on", "ended_on")
    )
    people = _read(
        conn,
        f"SELECT id, site_code, referral_source, end_reason, protocol_revision, {dates}"
        f" FROM participant WHERE enrolled_on <= '{AS_OF}'",
        {1, 2, 3, 4},
    )
    _read(
        conn,
        f"SELECT checkpoint, partner_id, status, {DAY.format('due_on')}, "
        f"{DAY.format('window_closes_on')}, {DAY.format('completed_on')}, provisional "
        f"FROM followup WHERE +due_on <= '{AS_OF}'",
        {0, 2},
    )
    interviews = _read(
        conn,
        f"SELECT participant_id, checkpoint, informant, {DAY.format('conducted_on')}, "
        "physical, sexual, psychological, economic, coercive, stalking "
        f"FROM interview WHERE +conducted_on <= '{AS_OF}'",
        {1, 2},
    )
    events = _read(
        conn,
        f"SELECT participant_id, kind, source, {DAY.format('occurred_on')}, new_offence "
        "FROM event WHERE kind IN ('recidivism', 'record_check') "
        f"AND occurred_on <= '{AS_OF}'",
        {1, 2},
    )
    check = events[1] == "record_check"
    recidivism = ~check | (events[4] == 1)
    contact_pid = np.concatenate([interviews[0], events[0][check]])
    contact_day = np.concatenate([interviews[3], events[3][check]])
    recidivism_km(people[0], people[8], events[0], events[3], recidivism, contact_pid, contact_day)


def report_sql(config: Path) -> list[tuple[str, list]]:
    """The report's own SELECTs, compiled by SQLAlchemy for SQLite, with their parameters."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.orm import Session

    from followup.context import Context
    from followup.report import queries
    from followup.report.build import _checkpoints

    ctx = Context.open(str(config))
    with Session(ctx.engine) as session:
        labels = queries.Labels.read(session.connection(), _checkpoints(ctx, session))
    ctx.engine.dispose()
    statements = []
    for build in (
        queries.people_query,
        queries.interviews_query,
        queries.outcome_events_query,
        queries.followup_outcomes_query,
    ):
        compiled = build(TODAY, None, labels).compile(
            dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
        )
        params = [
            v.isoformat() if isinstance(v, date) else v
            for v in (compiled.params[name] for name in compiled.positiontup)
        ]
        statements.append((compiled.string, params))
    return statements


def bound_queries(db: Path, statements: Path) -> None:
    """The report's SQL run by raw sqlite3 into numpy, and the same Kaplan-Meier: what the
    database and the driver alone cost for this report (compiled beforehand, so this
    process imports nothing but numpy)."""
    import numpy as np

    conn = sqlite3.connect(db)
    arrays = []
    for sql, params in json.loads(statements.read_text()):
        cursor = conn.execute(sql, params)
        chunks = []
        while rows := cursor.fetchmany(100_000):
            chunks.append(np.array(rows, dtype=np.float64))
        arrays.append(np.concatenate(chunks))
    people, interviews, events = arrays[0], arrays[1], arrays[2]
    check = events[:, 1] == 1
    recidivism = ~check | (events[:, 4] == 1)
    contact_pid = np.concatenate([interviews[:, 0], events[check, 0]])
    contact_day = np.concatenate([interviews[:, 3], events[check, 3]])
    recidivism_km(
        people[:, 0], people[:, 8], events[:, 0], events[:, 3], recidivism, contact_pid, contact_day
    )


# --- timing ----------------------------------------------------------------------------


def measured(command: list[str]) -> tuple[float, float, float]:
    """Wall-clock seconds, CPU seconds (user + system) and peak RSS (MiB) of one child
    process, start-up included."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {child.stderr.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024  # Linux reports KiB


def best(command: list[str], repeat: int) -> tuple[float, float, float]:
    """The best wall and the best CPU of `repeat` runs, and the largest peak RSS."""
    runs = [measured(command) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="Build the database again.")
    parser.add_argument(
        "--repeat", type=int, default=3, help="Runs of each measurement; the best counts."
    )
    parser.add_argument(
        "--instruments",
        action="store_true",
        help="Time the instruments section (ten answers per interview) against raw SQL + numpy.",
    )
    parser.add_argument(
        "--bound",
        choices=["columns", "queries", "instrument-section", "instrument-bound"],
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.instruments or (args.bound or "").startswith("instrument-"):
        return _instruments(args)
    db = OUT / f"report-{args.participants}.db"
    config = OUT / f"report-{args.participants}.toml"
    if args.bound == "columns":
        return bound_columns(db)
    statements = OUT / f"report-{args.participants}-sql.json"
    if args.bound == "queries":
        return bound_queries(db, statements)
    database(args.participants, args.rebuild)
    statements.write_text(json.dumps(report_sql(config)))
    env_python = [sys.executable]
    followup = [
        str(Path(sys.executable).with_name("followup")),
        "--config",
        str(config),
        "report",
        "--format",
        "json",
        "--as-of",
        TODAY.isoformat(),
        "--by",
        "site",
        "--out",
        str(OUT / "report.json"),
    ]
    me = [*env_python, __file__, "--participants", str(args.participants), "--bound"]
    report_s, report_cpu, report_mb = best(followup, args.repeat)
    queries_s, queries_cpu, queries_mb = best([*me, "queries"], args.repeat)
    columns_s, columns_cpu, columns_mb = best([*me, "columns"], args.repeat)
    print(
        f"followup report --format json --by site   {report_s:7.2f} s wall {report_cpu:7.2f} s CPU"
        f"   peak RSS {report_mb:7.0f} MiB"
    )
    wall, cpu = report_s / queries_s, report_cpu / queries_cpu
    print(
        f"bound (queries): the report's SQL, raw    {queries_s:7.2f} s wall {queries_cpu:7.2f} s CPU"
        f"   peak RSS {queries_mb:7.0f} MiB   ratio {wall:4.2f}x wall {cpu:4.2f}x CPU"
        f"  (target <= 2x: {'met' if max(wall, cpu) <= 2 else 'NOT met'})"
    )
    print(
        f"bound (columns): raw SELECTs + numpy KM   {columns_s:7.2f} s wall {columns_cpu:7.2f} s CPU"
        f"   peak RSS {columns_mb:7.0f} MiB   ratio {report_s / columns_s:4.2f}x wall "
        f"{report_cpu / columns_cpu:4.2f}x CPU  (reference, not a floor)"
    )
    print(f"peak RSS target < 2048 MiB: {'met' if report_mb < 2048 else 'NOT met'}")


def _instruments(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import report_instruments as bench

    db, config, compiled = bench.paths(args.participants)
    if args.bound == "instrument-section":
        return bench.section(config)
    if args.bound == "instrument-bound":
        return bench.bound(db, compiled)
    base = database(args.participants, args.rebuild)
    bench.main(args.participants, base, args.repeat, args.rebuild)


if __name__ == "__main__":
    main()
