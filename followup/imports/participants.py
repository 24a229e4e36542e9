"""participants.csv: case_id,site,referral_source,enrolled_on,protocol[,facilitator]

New case ids are enrolled into their protocol (empty protocol: the default one).
Re-importing updates the referral source, enrolment date and facilitator of cases already
enrolled (and re-plans them); a different site or protocol is refused, because a
transfer is an event and a protocol change goes through `schedule plan/apply`.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.checks import STATUS_DATES, interview_problem, status_problems
from followup.context import Context
from followup.db import executemany
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Problems, Row, first_seen
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import REFERRAL_SOURCES, Interview, Participant, Partner
from followup.values import parse_choice, parse_date, parse_identifier
from followup.wall import facilitator_refusal

REQUIRED = ("case_id", "site", "referral_source", "enrolled_on", "protocol")
OPTIONAL = ("facilitator",)
UPDATABLE = ("referral_source", "enrolled_on", "facilitator_id")


def check(
    session: Session,
    ctx: Context,
    rows: list[Row],
    problems: Problems,
    progress: Progress,
    batch: Batch,
) -> list[dict]:
    conn = session.connection()
    staff = batch.staff_rows(conn)
    existing = _existing(conn, [row.get("case_id") for row in rows])
    supported = _supported(conn, [old.id for old in existing.values()])
    first_interviews = _FirstInterviews(conn)
    sites = ctx.config.sites
    today = {code: ctx.site_today(code) for code in sites}
    records = []
    for row in rows:
        cells = Cells(row, problems)
        case_id = cells.required("case_id", lambda v: parse_identifier(v, "case id"))
        site = cells.required("site")
        if site and site not in sites:
            cells.fail("site", f"unknown site {site!r}; {ctx.config.path} has {', '.join(sites)}")
            site = None
        source = cells.required(
            "referral_source", lambda v: parse_choice(v, REFERRAL_SOURCES, "referral source")
        )
        enrolled_on = cells.required("enrolled_on", parse_date)
        if enrolled_on and site and enrolled_on > today[site]:
            cells.fail(
                "enrolled_on", f"{enrolled_on} is in the future (today is {today[site]} at {site})"
            )
        protocol_id = cells.optional("protocol") or ctx.config.protocols.default_id
        if protocol_id not in ctx.protocols:
            cells.fail(
                "protocol",
                f"unknown or inactive protocol {protocol_id!r}; active: {', '.join(ctx.protocols)}",
            )
        facilitator_id = None
        worker_key = cells.optional("facilitator")
        if worker_key:
            worker = staff.get(worker_key)
            if worker is None:
                cells.fail(
                    "facilitator", f"unknown staff id {worker_key!r}. Hint: import staff first"
                )
            elif "facilitator" not in worker.roles.split(";"):
                cells.fail("facilitator", f"{worker_key!r} does not have the facilitator role")
            elif site and worker.site_code != site:
                cells.fail("facilitator", f"{worker_key!r} works at {worker.site_code}, not {site}")
            else:
                facilitator_id = worker.id
        old = existing.get(case_id)
        hers = supported.get((old.id, facilitator_id)) if old is not None else None
        if hers:
            cells.fail("facilitator", facilitator_refusal(worker_key, hers))
        if old is not None and site and old.site_code != site:
            cells.fail(
                "site", f"case {case_id} is enrolled at {old.site_code}; record a transfer instead"
            )
        if old is not None and protocol_id != old.protocol_id:
            cells.fail(
                "protocol",
                f"case {case_id} follows {old.protocol_id}; protocols change "
                "through `followup schedule plan/apply`",
            )
        if old is not None and enrolled_on and enrolled_on != old.enrolled_on:
            problem = _enrolment_moved(old, enrolled_on, first_interviews)
            if problem:
                cells.fail("enrolled_on", f"case {case_id}: {problem}")
        if cells.ok:
            records.append(
                (
                    row,
                    {
                        "case_id": case_id,
                        "site_code": site,
                        "referral_source": source,
                        "enrolled_on": enrolled_on,
                        "protocol_id": protocol_id,
                        "facilitator_id": facilitator_id,
                    },
                )
            )
    first_seen(problems, [(row, r["case_id"]) for row, r in records], "case_id")
    return [r for _, r in records]


def _supported(conn, participant_ids: list[int]) -> dict[tuple[int, int], list[str]]:
    """(participant id, staff id) -> the partner ids of his that this member of staff
    supports: they may not also be his facilitator (followup.wall)."""
    partners = Partner.__table__
    found: dict[tuple[int, int], list[str]] = {}
    query = sa.select(
        partners.c.participant_id, partners.c.support_worker_id, partners.c.partner_id
    ).where(partners.c.support_worker_id.is_not(None))
    for row in sorted(
        rows_where_in(conn, query, partners.c.participant_id, participant_ids),
        key=lambda r: r.partner_id,
    ):
        found.setdefault((row.participant_id, row.support_worker_id), []).append(row.partner_id)
    return found


def _existing(conn, case_ids) -> dict:
    table = Participant.__table__
    columns = [
        table.c.id,
        table.c.case_id,
        table.c.site_code,
        table.c.protocol_id,
        *(table.c[name] for name in UPDATABLE),
        *(table.c[name] for name in STATUS_DATES[1:]),
        table.c.end_reason,
    ]
    query = sa.select(*columns)
    return {
        r.case_id: r for r in rows_where_in(conn, query, table.c.case_id, filter(None, case_ids))
    }


class _FirstInterviews:
    """Each participant's earliest interview, read only for those whose enrolment moves."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._days: dict[int, date] | None = None

    def of(self, participant_id: int) -> date | None:
        if self._days is None:
            self._days = {}
        if participant_id not in self._days:
            i = Interview.__table__
            query = sa.select(sa.func.min(i.c.conducted_on)).where(
                i.c.participant_id == participant_id, i.c.voided_at.is_(None)
            )
            self._days[participant_id] = self._conn.execute(query).scalar()
        return self._days[participant_id]


def _enrolment_moved(old, enrolled_on: date, first_interviews: _FirstInterviews) -> str | None:
    """What a new enrolment date would contradict: his status dates, or an interview
    before it (worded as `followup record` words the same two dates)."""
    trial = SimpleNamespace(**{**old._mapping, "enrolled_on": enrolled_on})
    for problem in status_problems(trial):
        if "enrolled_on" in problem.fields:
            return problem.what
    first = first_interviews.of(old.id)
    return interview_problem(first, enrolled_on) if first else None


def write(
    session: Session, ctx: Context, records: list[dict], result: ImportResult, batch: Batch
) -> None:
    """Enrol the new cases, update the others; their follow-ups are planned at the end
    of the part (followup.imports.settle), once their partners and events are in too."""
    table = Participant.__table__
    conn = session.connection()
    revisions = {pid: protocol.revision for pid, protocol in ctx.protocols.items()}
    existing = _existing(conn, [record["case_id"] for record in records])
    new, changed = [], []
    now = ctx.now()
    for record in records:
        old = existing.get(record["case_id"])
        if old is None:
            new.append(
                {**record, "protocol_revision": revisions[record["protocol_id"]], "created_at": now}
            )
        elif any(getattr(old, f) != record[f] for f in UPDATABLE):
            changed.append({"b_id": old.id, **{f: record[f] for f in UPDATABLE}})
        else:
            result.unchanged += 1
    # One prepared insert (followup.db.executemany), then the new ids by case id: cheaper
    # than RETURNING through SQLAlchemy's many-values insert, which converts every value
    # in Python.
    executemany(conn, table.insert(), new)
    query = sa.select(table.c.id)
    ids = [
        row.id for row in rows_where_in(conn, query, table.c.case_id, (r["case_id"] for r in new))
    ]
    executemany(conn, table.update().where(table.c.id == sa.bindparam("b_id")), changed)
    ids += [c["b_id"] for c in changed]
    result.created += len(new)
    result.updated += len(changed)
    batch.plan.update(ids)
