"""partners.csv: partner_id,case_id,relationship,consent_on,channel,phone,email[,support_worker,safe_hours]

Phone and e-mail are sealed (encrypted) before they are written. Re-importing updates a
partner's details (matched by partner_id) and re-plans her follow-ups; a different
case_id is refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.context import Context
from followup.db import executemany
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Problems, Row, first_seen
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import CONTACT_CHANNELS, RELATIONSHIPS, Participant, Partner
from followup.values import (
    parse_choice,
    parse_date,
    parse_email,
    parse_identifier,
    parse_phone,
    parse_safe_hours,
)
from followup.wall import support_worker_refusal

REQUIRED = ("partner_id", "case_id", "relationship", "consent_on", "channel", "phone", "email")
OPTIONAL = ("support_worker", "safe_hours")
UPDATABLE = ("relationship", "consent_on", "channel", "support_worker_id", "safe_hours")


def check(
    session: Session,
    ctx: Context,
    rows: list[Row],
    problems: Problems,
    progress: Progress,
    batch: Batch,
) -> list[dict]:
    conn = session.connection()
    p = Participant.__table__
    people = {
        r.case_id: r
        for r in rows_where_in(
            conn,
            sa.select(p.c.id, p.c.case_id, p.c.site_code, p.c.facilitator_id),
            p.c.case_id,
            filter(None, (row.get("case_id") for row in rows)),
        )
    }
    staff = batch.staff_rows(conn)
    t = Partner.__table__
    existing = {
        r.partner_id: r
        for r in rows_where_in(
            conn,
            sa.select(t.c.partner_id, t.c.participant_id),
            t.c.partner_id,
            filter(None, (row.get("partner_id") for row in rows)),
        )
    }
    records = []
    for row in rows:
        cells = Cells(row, problems)
        partner_id = cells.required("partner_id", lambda v: parse_identifier(v, "partner id"))
        case_id = cells.required("case_id")
        person = people.get(case_id) if case_id else None
        if case_id and person is None:
            cells.fail(
                "case_id", f"case {case_id!r} is not enrolled. Hint: import participants first"
            )
        relationship = (
            cells.optional("relationship", lambda v: parse_choice(v, RELATIONSHIPS, "relationship"))
            or "current"
        )
        consent_on = cells.optional("consent_on", parse_date)
        channel = cells.optional("channel", lambda v: parse_choice(v, CONTACT_CHANNELS, "channel"))
        phone = cells.optional("phone", parse_phone)
        email = cells.optional("email", parse_email)
        safe_hours = cells.optional("safe_hours", parse_safe_hours)
        if channel in ("phone", "sms") and not phone and cells.ok:
            cells.fail("phone", f"needed for the {channel} channel")
        if channel == "email" and not email and cells.ok:
            cells.fail("email", "needed for the email channel")
        worker_id = None
        worker_key = cells.optional("support_worker")
        if worker_key:
            worker = staff.get(worker_key)
            if worker is None:
                cells.fail(
                    "support_worker", f"unknown staff id {worker_key!r}. Hint: import staff first"
                )
            elif "partner_support" not in worker.roles.split(";"):
                cells.fail(
                    "support_worker", f"{worker_key!r} does not have the partner_support role"
                )
            elif person is not None and worker.site_code != person.site_code:
                cells.fail(
                    "support_worker",
                    f"{worker_key!r} works at {worker.site_code}, not {person.site_code}",
                )
            elif person is not None and worker.id == person.facilitator_id:
                cells.fail("support_worker", support_worker_refusal(worker_key, case_id))
            else:
                worker_id = worker.id
        old = existing.get(partner_id)
        if old is not None and person is not None and old.participant_id != person.id:
            cells.fail(
                "case_id",
                f"partner {partner_id} is linked to another case; a partner belongs to one case",
            )
        if cells.ok:
            contact = {k: v for k, v in (("phone", phone), ("email", email)) if v}
            records.append(
                (
                    row,
                    {
                        "partner_id": partner_id,
                        "participant_id": person.id,
                        "relationship": relationship,
                        "consent_on": consent_on,
                        "channel": channel,
                        "support_worker_id": worker_id,
                        "safe_hours": safe_hours,
                        "contact": contact,
                    },
                )
            )
    # A load reports (and leaves out) a repeated partner id as it reads the file
    # (followup.imports.load), whichever part each lands in.
    first_seen(problems, [(row, r["partner_id"]) for row, r in records], "partner_id")
    return [r for _, r in records]


def write(
    session: Session, ctx: Context, records: list[dict], result: ImportResult, batch: Batch
) -> None:
    """Add the new partners, update the others; their follow-ups are planned at the end
    of the part (followup.imports.settle)."""
    table = Partner.__table__
    conn = session.connection()
    vault = ctx.vault  # fail before writing anything if there is no key
    existing = {
        r.partner_id: r
        for r in rows_where_in(
            conn, sa.select(table), table.c.partner_id, (r["partner_id"] for r in records)
        )
    }
    new, changed, touched = [], [], set()
    now = ctx.now()
    for record in records:
        contact = record.pop("contact")
        old = existing.get(record["partner_id"])
        if old is None:
            new.append(
                {
                    **record,
                    "do_not_contact": False,
                    "contact_sealed": vault.seal(contact),
                    "created_at": now,
                }
            )
            touched.add(record["participant_id"])
            continue
        differs = any(getattr(old, f) != record[f] for f in UPDATABLE)
        if differs or (vault.open(old.contact_sealed) or {}) != contact:
            changed.append(
                {
                    "b_id": old.id,
                    **{f: record[f] for f in UPDATABLE},
                    "contact_sealed": vault.seal(contact),
                }
            )
            touched.add(record["participant_id"])
        else:
            result.unchanged += 1
    executemany(conn, table.insert(), new)
    executemany(conn, table.update().where(table.c.id == sa.bindparam("b_id")), changed)
    result.created += len(new)
    result.updated += len(changed)
    batch.plan.update(touched)
