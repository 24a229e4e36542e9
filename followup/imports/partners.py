"""partners.csv: partner_id,case_id,relationship,consent_on,channel,phone,email
[,support_worker,allowed_channels,safe_times,voicemail_ok,may_name_organisation,code_word,
if_someone_else_answers,plan_confirmed_on] (`safe_hours` is read as an old name of
`safe_times`).

Phone and e-mail are sealed (encrypted) before they are written, and so is her
safe-contact plan (followup.safe_contact; docs/data.md). Re-importing updates a
partner's details (matched by partner_id) and re-plans her follow-ups; a different
case_id is refused. Which plan a row leaves is followup.her_plan.plan_from_file: an
unchanged plan is not written again, an empty plan_confirmed_on keeps the date already
recorded, and a plan her worker changed on or after the row's date is kept (the import
lists the row).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.context import Context
from followup.db import executemany
from followup.her_plan import plan_from_file, seal_plan
from followup.imports.batch import Batch, rows_where_in
from followup.imports.csvfile import Cells, Problems, Row, first_seen
from followup.imports.progress import Progress
from followup.imports.result import ImportResult
from followup.models import CONTACT_CHANNELS, RELATIONSHIPS, Participant, Partner
from followup.safe_contact import (
    CHANNEL_DETAIL,
    SafeContactPlan,
    parse_channels,
    parse_plan_text,
    parse_safe_times,
)
from followup.values import (
    parse_choice,
    parse_date,
    parse_email,
    parse_identifier,
    parse_phone,
    parse_yes_no,
)
from followup.wall import support_worker_refusal

REQUIRED = ("partner_id", "case_id", "relationship", "consent_on", "channel", "phone", "email")
PLAN_COLUMNS = (
    "allowed_channels",
    "safe_times",
    "voicemail_ok",
    "may_name_organisation",
    "code_word",
    "if_someone_else_answers",
    "plan_confirmed_on",
)
OPTIONAL = ("support_worker", *PLAN_COLUMNS, "safe_hours")
UPDATABLE = ("relationship", "consent_on", "channel", "support_worker_id")


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
        plan = _plan(cells, channel, {"phone": phone, "email": email})
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
                        "contact": contact,
                        "plan": plan,
                        "says_plan": any(row.get(c) for c in (*PLAN_COLUMNS, "safe_hours")),
                        "row": row.number,
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
        plan = record.pop("plan")
        says_plan, number = record.pop("says_plan"), record.pop("row")
        old = existing.get(record["partner_id"])
        if old is None:
            new.append(
                {
                    **record,
                    "do_not_contact": False,
                    "contact_sealed": vault.seal(contact),
                    "created_at": now,
                    **_sealed_plan(vault, plan),
                }
            )
            touched.add(record["participant_id"])
            continue
        old_plan = (
            SafeContactPlan.from_json(vault.open(old.plan_sealed)) if old.plan_sealed else None
        )
        from_file = plan
        outcome = plan_from_file(old_plan, from_file, says_plan)
        plan = outcome.plan
        if plan is old_plan and old_plan is not None:
            record["channel"] = old.channel  # her plan's first channel, as her worker left it
        if outcome.kept_worker_change:
            result.note(
                number,
                "plan_confirmed_on",
                f"partner {record['partner_id']}: her worker changed or confirmed her plan "
                f"on {old_plan.worker_changed_on}, "
                + (
                    f"on or after this row's date ({from_file.confirmed_on})"
                    if from_file.confirmed_on
                    else "and this row gives no date"
                )
                + "; her worker's plan was kept. Hint: to replace it, put the day the new "
                "plan was confirmed with her (after that change) in plan_confirmed_on",
            )
        differs = any(getattr(old, f) != record[f] for f in UPDATABLE)
        new_contact = (vault.open(old.contact_sealed) or {}) != contact
        new_plan = plan is not old_plan
        if differs or new_contact or new_plan:
            changed.append(
                {
                    "b_id": old.id,
                    **{f: record[f] for f in UPDATABLE},
                    "contact_sealed": vault.seal(contact) if new_contact else old.contact_sealed,
                    **(
                        _sealed_plan(vault, plan)
                        if new_plan
                        else {
                            "plan_sealed": old.plan_sealed,
                            "plan_confirmed_on": old.plan_confirmed_on,
                        }
                    ),
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


def _plan(cells: Cells, channel: str | None, contact: dict) -> SafeContactPlan | None:
    """Her safe-contact plan from the row's plan columns (None: the row says nothing about
    contacting her). A channel she allows needs its number or address in the row."""
    safe_times = cells.optional("safe_times", parse_safe_times)
    if not cells.row.get("safe_times"):  # the old name, still in files in the wild
        safe_times = cells.optional("safe_hours", parse_safe_times)
    allowed = cells.optional("allowed_channels", parse_channels) or ((channel,) if channel else ())
    voicemail_ok = cells.optional("voicemail_ok", _yes_no) or False
    may_name = cells.optional("may_name_organisation", _yes_no) or False
    code_word = cells.optional("code_word", lambda v: parse_plan_text(v, "code word")) or ""
    if_else = (
        cells.optional("if_someone_else_answers", lambda v: parse_plan_text(v, "the cell")) or ""
    )
    confirmed_on = cells.optional("plan_confirmed_on", parse_date)
    for allowed_channel in allowed:
        detail = CHANNEL_DETAIL[allowed_channel]
        if detail in contact and not contact[detail] and cells.ok:
            cells.fail(detail, f"needed for the {allowed_channel} channel")
    if not cells.ok:
        return None
    if not (allowed or safe_times or code_word or if_else or confirmed_on):
        return None
    return SafeContactPlan(
        channels={c: contact.get(CHANNEL_DETAIL[c]) or "" for c in allowed},
        windows=safe_times or (),
        voicemail_ok=voicemail_ok,
        may_name_organisation=may_name,
        code_word=code_word,
        if_someone_else_answers=if_else,
        confirmed_on=confirmed_on,
    )


def _yes_no(text: str) -> bool:
    try:
        answer = parse_yes_no(text)
    except ValueError:
        answer = None
    if answer is None:
        raise ValueError(f"expected yes or no, got {text!r}")
    return answer


def _sealed_plan(vault, plan: SafeContactPlan | None) -> dict:
    if plan is None:
        return {"plan_sealed": None, "plan_confirmed_on": None}
    return seal_plan(vault, plan)
