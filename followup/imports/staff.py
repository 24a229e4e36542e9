"""staff.csv: staff_id,site,name,roles,phone,email,channel,language

Re-importing updates each staff member's details (matched by staff_id)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.config import CHANNELS, LANGUAGES
from followup.context import Context
from followup.db import executemany
from followup.imports.csvfile import Cells, Problems, Row, first_seen
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import ROLES, Staff
from followup.values import (
    parse_choice,
    parse_email,
    parse_identifier,
    parse_name,
    parse_phone,
    parse_roles,
    parse_yes_no,
)
from followup.wall import HER_ROLES, recorded_breaches

REQUIRED = ("staff_id", "site", "name", "roles", "phone", "email", "channel", "language")
OPTIONAL = ("active",)
FIELDS = ("site_code", "name", "roles", "phone", "email", "channel", "language", "active")


def check(
    session: Session, ctx: Context, rows: list[Row], problems: Problems, progress: Progress
) -> list[dict]:
    records = []
    sites = ctx.config.sites
    breaches = {b.staff_id: b for b in reversed(recorded_breaches(session))}
    for row in rows:
        cells = Cells(row, problems)
        staff_id = cells.required("staff_id", lambda v: parse_identifier(v, "staff id"))
        site = cells.required("site")
        if site and site not in sites:
            cells.fail("site", f"unknown site {site!r}; {ctx.config.path} has {', '.join(sites)}")
        name = cells.required("name", parse_name)
        roles = cells.required("roles", lambda v: parse_roles(v, ROLES))
        phone = cells.optional("phone", parse_phone)
        email = cells.optional("email", parse_email)
        channel = cells.optional("channel", lambda v: parse_choice(v, CHANNELS, "channel"))
        language = cells.optional("language", lambda v: _language(v))
        active = cells.optional("active", parse_yes_no)
        channel = channel or ctx.config.channels.default
        breach = breaches.get(staff_id)
        opening = sorted(HER_ROLES.intersection(roles.split(";"))) if roles else []
        if breach is not None and opening:
            cells.fail(
                "roles",
                f"{breach}, so they may not hold {' or '.join(opening)}. Hint: give her "
                "another partner-support worker (partners file) first",
            )
        if cells.ok and channel == "sms" and not phone:
            cells.fail("phone", "needed for the sms channel")
        if cells.ok and channel == "email" and not email:
            cells.fail("email", "needed for the email channel")
        if cells.ok:
            records.append(
                (
                    row,
                    {
                        "staff_id": staff_id,
                        "site_code": site,
                        "name": name,
                        "roles": roles,
                        "phone": phone,
                        "email": email,
                        "channel": channel,
                        "language": language or sites[site].language,
                        "active": True if active is None else active,
                    },
                )
            )
        progress.advance()
    first_seen(problems, [(row, r["staff_id"]) for row, r in records], "staff_id")
    return [r for _, r in records]


def _language(value: str) -> str:
    for known in LANGUAGES:
        if value.lower() == known.lower():
            return known
    raise ValueError(f"unknown language {value!r}; expected one of {', '.join(LANGUAGES)}")


def write(
    session: Session, ctx: Context, records: list[dict], result: ImportResult, progress: Progress
) -> None:
    table = Staff.__table__
    conn = session.connection()
    existing = {r.staff_id: r for r in conn.execute(sa.select(table))}
    new, changed = [], []
    for record in records:
        old = existing.get(record["staff_id"])
        if old is None:
            new.append(record)
        elif any(getattr(old, f) != record[f] for f in FIELDS):
            changed.append({"b_staff_id": record["staff_id"], **{f: record[f] for f in FIELDS}})
        else:
            result.unchanged += 1
    executemany(conn, table.insert(), new)
    executemany(conn, table.update().where(table.c.staff_id == sa.bindparam("b_staff_id")), changed)
    result.created, result.updated = len(new), len(changed)
    progress.advance(len(records))
