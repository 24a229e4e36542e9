"""Safety alerts: new violence reported, so the people protecting her hear at once.

A partner interview that records any violence (yes to any type), and any recidivism
report, raises a `SafetyAlert` and queues an immediate message to her partner-support
worker and the site's supervisors, by their fastest channel, whatever the quiet hours
— all in the transaction that records the report, so there is never a report without
its alert. A recidivism report that names no partner goes to the workers of all his
partners. The messages say which case and where to look; never what was reported.

Imports: an events file is history as much as news. Only reports dated within the last
`IMPORT_ALERT_DAYS` days (reported-on for recidivism, the interview date for partner
interviews, in the centre's own calendar) raise alerts when imported, so loading years
of records does not flood anyone's phone; older ones are recorded without an alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.audit import audit
from followup.context import Context
from followup.db import utcnow
from followup.dispatch.outbox import Message, enqueue
from followup.dispatch.routing import fastest
from followup.models import (
    VIOLENCE_TYPES,
    Event,
    Interview,
    Participant,
    Partner,
    SafetyAlert,
    Staff,
)

IMPORT_ALERT_DAYS = 14
# At raising time the dispatcher's channels are unknown; it re-routes if one is not set up.
ASSUMED_CHANNELS = frozenset({"sms", "email"})


def violence_reported(values: Mapping[str, object]) -> bool:
    """Yes to any type of violence. Not asked (None) is not a yes."""
    return any(values.get(kind) is True for kind in VIOLENCE_TYPES)


def after_interview(session: Session, ctx: Context, interview: Interview) -> SafetyAlert | None:
    if interview.informant != "partner" or not violence_reported(vars(interview)):
        return None
    return raise_alert(
        session,
        ctx,
        participant_id=interview.participant_id,
        partner_id=interview.partner_id,
        interview_id=interview.id,
    )


def after_recidivism(session: Session, ctx: Context, event: Event) -> SafetyAlert:
    return raise_alert(
        session,
        ctx,
        participant_id=event.participant_id,
        partner_id=event.partner_id,
        event_id=event.id,
    )


def raise_alert(
    session: Session,
    ctx: Context,
    *,
    participant_id: int,
    partner_id: int | None = None,
    interview_id: int | None = None,
    event_id: int | None = None,
    now: datetime | None = None,
    directory: _Directory | None = None,
) -> SafetyAlert:
    now = now or utcnow()
    directory = directory or _Directory(session)
    alert = SafetyAlert(
        participant_id=participant_id,
        partner_id=partner_id,
        interview_id=interview_id,
        event_id=event_id,
        raised_at=now,
    )
    session.add(alert)
    session.flush()
    recipients = directory.recipients(participant_id, partner_id)
    enqueue(
        session,
        [
            Message(
                key=f"alert:{alert.id}:{person.id}",
                kind="alert",
                staff_id=person.id,
                channel=fastest(person, ASSUMED_CHANNELS),
                not_before=now,
                alert_id=alert.id,
            )
            for person in recipients
        ],
        now=now,
    )
    case_id = directory.person(participant_id)[0]
    audit(
        session,
        ctx.actor,
        "safety_alert",
        "participant",
        case_id,
        alert=alert.id,
        told=[p.staff_id for p in recipients],
    )
    return alert


class _Directory:
    """Who is told, looked up once per site and per person: an import may raise
    thousands of alerts in one transaction, and staff do not change within it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._people: dict[int, tuple[str, str]] = {}
        self._supervisors: dict[str, list[Staff]] = {}

    def person(self, participant_id: int) -> tuple[str, str]:
        """(case_id, site_code)"""
        if participant_id not in self._people:
            row = self.session.execute(
                sa.select(Participant.case_id, Participant.site_code).where(
                    Participant.id == participant_id
                )
            ).one()
            self._people[participant_id] = (row.case_id, row.site_code)
        return self._people[participant_id]

    def recipients(self, participant_id: int, partner_id: int | None) -> list[Staff]:
        """Her partner-support worker (all his partners' when none is named) and the site's
        supervisors, active ones only, each once, in staff-id order."""
        whose = (
            Partner.id == partner_id
            if partner_id is not None
            else Partner.participant_id == participant_id
        )
        worker_ids = {
            i
            for i in self.session.execute(
                sa.select(Partner.support_worker_id).where(whose)
            ).scalars()
            if i
        }
        site = self.person(participant_id)[1]
        if site not in self._supervisors:
            self._supervisors[site] = [
                p
                for p in self.session.execute(
                    sa.select(Staff).where(Staff.active.is_(True), Staff.site_code == site)
                ).scalars()
                if "supervisor" in p.role_set
            ]
        workers = (
            self.session.execute(
                sa.select(Staff).where(Staff.active.is_(True), Staff.id.in_(worker_ids))
            )
            .scalars()
            .all()
            if worker_ids
            else []
        )
        chosen = {p.id: p for p in [*workers, *self._supervisors[site]]}
        return sorted(chosen.values(), key=lambda p: p.staff_id)


def after_import(
    session: Session, ctx: Context, events: Iterable[Mapping], interviews: Iterable[Mapping]
) -> int:
    """Alerts for an events import: recidivism rows, and partner interviews reporting
    violence, dated within the last IMPORT_ALERT_DAYS days. Returns how many were raised."""
    recent: dict[str, str] = {}  # import_key -> "event" | "interview"
    site_of = {}
    for row in events:
        if row["kind"] == "recidivism":
            recent[row["import_key"]] = "event"
            site_of[row["import_key"]] = (
                row["participant_id"],
                row["reported_on"] or row["occurred_on"],
            )
    for row in interviews:
        if row["informant"] == "partner" and violence_reported(row):
            recent[row["import_key"]] = "interview"
            site_of[row["import_key"]] = (row["participant_id"], row["conducted_on"])
    if not recent:
        return 0
    sites = dict(
        session.execute(
            sa.select(Participant.id, Participant.site_code).where(
                Participant.id.in_(sorted({p for p, _ in site_of.values()}))
            )
        ).all()
    )
    recent = {
        key: kind
        for key, kind in recent.items()
        if _is_recent(ctx, sites[site_of[key][0]], site_of[key][1])
    }
    raised = 0
    directory = _Directory(session)
    for kind, model in (("event", Event), ("interview", Interview)):
        keys = sorted(k for k, v in recent.items() if v == kind)
        for start in range(0, len(keys), 1000):
            rows = session.execute(
                sa.select(model.id, model.participant_id, model.partner_id)
                .where(model.import_key.in_(keys[start : start + 1000]))
                .order_by(model.id)
            ).all()
            for row in rows:
                raise_alert(
                    session,
                    ctx,
                    participant_id=row.participant_id,
                    partner_id=row.partner_id,
                    directory=directory,
                    **{f"{kind}_id": row.id},
                )
                raised += 1
    return raised


def _is_recent(ctx: Context, site_code: str, on: date) -> bool:
    return on >= ctx.site_today(site_code) - timedelta(days=IMPORT_ALERT_DAYS)
