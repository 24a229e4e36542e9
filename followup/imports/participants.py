"""participants.csv: case_id,site,referral_source,enrolled_on,protocol[,facilitator]

New case ids are enrolled into their protocol (empty protocol: the default one).
Re-importing updates the referral source, enrolment date and facilitator of cases already
enrolled (and re-plans them); a different site or protocol is refused, because a
transfer is an event and a protocol change goes through `schedule plan/apply`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.context import Context
from followup.db import executemany
from followup.enrol import protocol_for_enrolment
from followup.imports.csvfile import Cells, Problems, Row, first_seen
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import REFERRAL_SOURCES, Participant, Staff
from followup.replan import replan
from followup.values import parse_choice, parse_date, parse_identifier

REQUIRED = ("case_id", "site", "referral_source", "enrolled_on", "protocol")
OPTIONAL = ("facilitator",)
UPDATABLE = ("referral_source", "enrolled_on", "facilitator_id")


def check(
    session: Session, ctx: Context, rows: list[Row], problems: Problems, progress: Progress
) -> list[dict]:
    conn = session.connection()
    staff = {
        r.staff_id: r
        for r in conn.execute(
            sa.select(Staff.__table__.c.id, Staff.staff_id, Staff.site_code, Staff.roles)
        )
    }
    existing = _existing(conn)
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
        progress.advance()
    first_seen(problems, [(row, r["case_id"]) for row, r in records], "case_id")
    return [r for _, r in records]


def _existing(conn) -> dict:
    table = Participant.__table__
    columns = [
        table.c.id,
        table.c.case_id,
        table.c.site_code,
        table.c.protocol_id,
        *(table.c[name] for name in UPDATABLE),
    ]
    return {r.case_id: r for r in conn.execute(sa.select(*columns))}


def write(
    session: Session, ctx: Context, records: list[dict], result: ImportResult, progress: Progress
) -> None:
    table = Participant.__table__
    conn = session.connection()
    ctx.register_protocols(session)
    revisions = {pid: protocol.revision for pid, protocol in ctx.protocols.items()}
    existing = _existing(conn)
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
    ids = [row.id for row in conn.execute(table.insert().returning(table.c.id), new)] if new else []
    executemany(conn, table.update().where(table.c.id == sa.bindparam("b_id")), changed)
    ids += [c["b_id"] for c in changed]
    result.created, result.updated = len(new), len(changed)
    progress.stage("planning follow-ups", len(ids))
    result.people_replanned = replan(
        session,
        ids,
        protocol_for_enrolment(ctx, session),
        reason="re-imported",
        now=now,
        on_chunk=progress.advance,
    )
