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
of records does not flood anyone's phone; older ones are recorded without an alert. An
answers import follows the same rule, for the same partner interviews and for any
interview with a score in its `alert_at` band.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.audit import audit_line, audit_lines
from followup.context import Context
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
ALERTS = SafetyAlert.__table__
# At raising time the dispatcher's channels are unknown; it re-routes if one is not set up.
ASSUMED_CHANNELS = frozenset({"sms", "email"})


def violence_reported(values: Mapping[str, object]) -> bool:
    """Yes to any type of violence. Not asked (None) is not a yes."""
    return any(values.get(kind) is True for kind in VIOLENCE_TYPES)


@dataclass(frozen=True)
class Report:
    """What an alert is about: a partner interview or a recidivism report (ids only)."""

    participant_id: int
    partner_id: int | None = None
    interview_id: int | None = None
    event_id: int | None = None


def after_interview(
    session: Session, ctx: Context, interview: Interview, *, reason: str | None = None
) -> int | None:
    """One alert for a partner interview that reports violence, or whose instrument puts a
    score in its alert band (`reason`, e.g. "risk-checklist: high", written to the audit
    line). His own interviews raise none, as before instruments: what he says is not her
    report, and his facilitator is never told about her."""
    if interview.informant != "partner":
        return None
    if not violence_reported(vars(interview)) and reason is None:
        return None
    report = Report(interview.participant_id, interview.partner_id, interview_id=interview.id)
    return raise_alerts(session, ctx, [report], reason=reason)[0]


def after_recidivism(session: Session, ctx: Context, event: Event) -> int:
    report = Report(event.participant_id, event.partner_id, event_id=event.id)
    return raise_alerts(session, ctx, [report])[0]


def raise_alerts(
    session: Session,
    ctx: Context,
    reports: Sequence[Report],
    *,
    now: datetime | None = None,
    reason: str | None = None,
) -> list[int]:
    """A SafetyAlert per report, its messages queued and audited, in the caller's
    transaction. Returns the alert ids, in the order of `reports`. Written in bulk: an
    import may raise thousands at once. `reason`: besides violence, why (a score's alert
    band, "INSTRUMENT: BAND"), audited; never what she said."""
    if not reports:
        return []
    now = now or ctx.now()
    directory = _Directory(session, (r.participant_id for r in reports))
    conn = session.connection()
    ids = list(
        conn.execute(
            ALERTS.insert().returning(ALERTS.c.id, sort_by_parameter_order=True),
            [{**vars(report), "raised_at": now} for report in reports],
        ).scalars()
    )
    messages: list[Message] = []
    lines = []  # the audit trail's, written together
    for alert_id, report in zip(ids, reports, strict=True):
        recipients = directory.recipients(report.participant_id, report.partner_id)
        messages.extend(
            Message(
                key=f"alert:{alert_id}:{person.id}",
                kind="alert",
                staff_id=person.id,
                channel=fastest(person, ASSUMED_CHANNELS),
                not_before=now,
                alert_id=alert_id,
            )
            for person in recipients
        )
        lines.append(
            audit_line(
                ctx.actor,
                "safety_alert",
                "participant",
                directory.person(report.participant_id)[0],
                alert=alert_id,
                told=[p.staff_id for p in recipients],
                **({"reason": reason} if reason else {}),
            )
        )
    audit_lines(session, lines)
    enqueue(session, messages, now=now)
    return ids


class _Directory:
    """Who is told, read in bulk: an import may raise thousands of alerts in one
    transaction, and neither staff nor partners change within it."""

    def __init__(self, session: Session, participant_ids: Iterable[int] = ()) -> None:
        self.session = session
        self._people: dict[int, tuple[str, str]] = {}  # id -> (case_id, site_code)
        self._facilitators: dict[int, int | None] = {}  # id -> his facilitator's staff id
        self._partners: dict[int, dict[int, int | None]] = {}  # his partners' workers
        self._staff: dict[int, Staff] | None = None  # active staff by id
        self._load(participant_ids)

    def _load(self, participant_ids: Iterable[int]) -> None:
        wanted = sorted(set(participant_ids) - self._people.keys())
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for row in self.session.execute(
                sa.select(
                    Participant.id,
                    Participant.case_id,
                    Participant.site_code,
                    Participant.facilitator_id,
                ).where(Participant.id.in_(chunk))
            ):
                self._people[row.id] = (row.case_id, row.site_code)
                self._facilitators[row.id] = row.facilitator_id
                self._partners[row.id] = {}
            for row in self.session.execute(
                sa.select(Partner.participant_id, Partner.id, Partner.support_worker_id).where(
                    Partner.participant_id.in_(chunk)
                )
            ):
                self._partners[row.participant_id][row.id] = row.support_worker_id

    def person(self, participant_id: int) -> tuple[str, str]:
        """(case_id, site_code)"""
        self._load([participant_id])
        return self._people[participant_id]

    def recipients(self, participant_id: int, partner_id: int | None) -> list[Staff]:
        """Her partner-support worker (all his partners' when none is named) and the site's
        supervisors, active ones only, each once, in staff-id order — never his facilitator,
        whatever roles he holds (the partner wall is by person, followup.operations.policy)."""
        site = self.person(participant_id)[1]
        if self._staff is None:
            self._staff = {
                p.id: p
                for p in self.session.execute(sa.select(Staff).where(Staff.active)).scalars()
            }
        partners = self._partners[participant_id]
        workers = {partners.get(partner_id)} if partner_id is not None else set(partners.values())
        his = self._facilitators[participant_id]
        chosen = [
            p
            for p in self._staff.values()
            if (p.id in workers or (p.site_code == site and "supervisor" in p.role_set))
            and p.id != his
        ]
        return sorted(chosen, key=lambda p: p.staff_id)


def after_import(
    session: Session,
    ctx: Context,
    events: Iterable[Mapping],
    interviews: Iterable[Mapping],
    alert_bands: Collection[str] = frozenset(),
) -> int:
    """Alerts for an import: recidivism rows, partner interviews reporting violence, and
    interviews with a score in its alert_at band (their import keys in `alert_bands`,
    whoever answered: the risk is to her), dated within the last IMPORT_ALERT_DAYS days.
    Returns how many were raised."""
    recent: dict[str, str] = {}  # import_key -> "event" | "interview"
    site_of = {}
    # Older than the earliest site's cut-off is old everywhere: most of a history import
    # is left here, before any per-site reckoning.
    earliest = min(
        ctx.site_today(code) - timedelta(days=IMPORT_ALERT_DAYS) for code in ctx.config.sites
    )
    for row in events:
        if row["kind"] == "recidivism":
            on = row["reported_on"] or row["occurred_on"]
            if on >= earliest:
                recent[row["import_key"]] = "event"
                site_of[row["import_key"]] = (row["participant_id"], on)
    for row in interviews:
        if row["conducted_on"] >= earliest and (
            (row["informant"] == "partner" and violence_reported(row))
            or row["import_key"] in alert_bands
        ):
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
    reports: list[Report] = []
    for kind, model in (("event", Event), ("interview", Interview)):
        keys = sorted(k for k, v in recent.items() if v == kind)
        for start in range(0, len(keys), 1000):
            rows = session.execute(
                sa.select(model.id, model.participant_id, model.partner_id)
                .where(model.import_key.in_(keys[start : start + 1000]))
                .order_by(model.id)
            ).all()
            reports.extend(
                Report(row.participant_id, row.partner_id, **{f"{kind}_id": row.id}) for row in rows
            )
    return len(raise_alerts(session, ctx, reports))


def _is_recent(ctx: Context, site_code: str, on: date) -> bool:
    return on >= ctx.site_today(site_code) - timedelta(days=IMPORT_ALERT_DAYS)
