"""The tables (SQLModel). See ../shared/DESIGN.md "Data model".

Survivor data is sealed: a partner's contact details and every free-text note are stored
only as ciphertext (`*_sealed`, see followup.crypto), so a copied database file or a
backup leaks no address. Everything else a report needs stays queryable.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from followup.clock import written_at
from followup.coltypes import UTCDateTime

# The closed lists of values live in followup.vocab (dependency-free, for --help).
from followup.vocab import (  # noqa: E402, F401  (re-exported: models is where code looks)
    CONTACT_CHANNELS,
    ENDINGS,
    INFORMANTS,
    INTERVIEW_MODES,
    REFERRAL_SOURCES,
    RELATIONSHIPS,
    REPORT_SOURCES,
    RISK_LEVELS,
    ROLES,
    STATUS_EVENTS,
    VIOLENCE_TYPES,
)


class Site(SQLModel, table=True):
    """A centre. config.toml is the source; `sync_sites` copies it here for joins."""

    code: str = Field(primary_key=True, max_length=16)
    name: str
    timezone: str
    language: str


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(unique=True, max_length=64)
    site_code: str = Field(foreign_key="site.code", index=True)
    name: str
    roles: str = ""  # ";"-separated, as in the CSV
    phone: str | None = None  # E.164
    email: str | None = None
    channel: str = "console"
    language: str | None = None
    active: bool = True
    # Set when a channel failed permanently (invalid number, opted out): reminders use the
    # fallback channel until someone fixes the contact details.
    channel_problem: str | None = None

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(";") if r)


class ProtocolRevision(SQLModel, table=True):
    """Every protocol version ever enrolled into, so old enrolments keep their rules."""

    __tablename__ = "protocol_revision"

    revision: str = Field(primary_key=True, max_length=32)
    protocol_id: str = Field(index=True)
    definition: str  # Protocol.to_json()
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(unique=True, max_length=64)  # pseudonymous
    site_code: str = Field(foreign_key="site.code", index=True)
    referral_source: str
    enrolled_on: date
    admitted_on: date | None = None
    programme_start_on: date | None = None
    completed_on: date | None = None
    ended_on: date | None = None  # left without completing
    end_reason: str | None = None  # dropped_out | excluded | transferred
    facilitator_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    protocol_id: str
    protocol_revision: str = Field(foreign_key="protocol_revision.revision")
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)

    @property
    def status(self) -> str:
        if self.completed_on:
            return "completed"
        if self.ended_on:
            return self.end_reason or "dropped_out"
        if self.programme_start_on:
            return "in_programme"
        if self.admitted_on:
            return "admitted"
        return "enrolled"


class Partner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(unique=True, max_length=64)  # pseudonymous
    participant_id: int = Field(foreign_key="participant.id", index=True)
    relationship: str = "current"
    consent_on: date | None = None
    consent_withdrawn_on: date | None = None
    do_not_contact: bool = False
    channel: str | None = None  # how she may be contacted
    # Her safe-contact plan (followup.safe_contact.SafeContactPlan.to_json), sealed: her
    # worker only. The date it was last confirmed with her stays readable so the lists can
    # flag a plan due for re-confirming without opening it.
    plan_sealed: bytes | None = None
    plan_confirmed_on: date | None = None
    support_worker_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    contact_sealed: bytes | None = None  # {"phone": ..., "email": ..., "address": ...}
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)


class FollowUp(SQLModel, table=True):
    """One due interview. partner_id NULL: the participant himself is interviewed."""

    __tablename__ = "followup"
    __table_args__ = (
        # One row per (person, checkpoint, occurrence). Two partial indexes because a
        # NULL partner_id would make a plain unique constraint let duplicates through.
        sa.Index(
            "ux_followup_participant_slot",
            "participant_id",
            "checkpoint",
            "occurrence",
            unique=True,
            sqlite_where=sa.text("partner_id IS NULL"),
            postgresql_where=sa.text("partner_id IS NULL"),
        ),
        sa.Index(
            "ux_followup_partner_slot",
            "partner_id",
            "checkpoint",
            "occurrence",
            unique=True,
            sqlite_where=sa.text("partner_id IS NOT NULL"),
            postgresql_where=sa.text("partner_id IS NOT NULL"),
        ),
        # `due` and the dispatcher: pending follow-ups by date, per worker.
        sa.Index("ix_followup_status_due", "status", "due_on"),
        sa.Index("ix_followup_assigned_status_due", "assigned_staff_id", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    checkpoint: str = Field(max_length=64)
    occurrence: int = 1
    due_on: date
    window_opens_on: date
    window_closes_on: date
    provisional: bool = False  # anchored on an expected, not a recorded, date
    assigned_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    status: str = Field(default="scheduled", max_length=16)
    completed_on: date | None = None
    cancelled_reason: str | None = None
    # Contact attempts so far (followup.lost): all of them, those that count towards
    # lost_after_attempts, and the last one, so lists and the report need no join.
    # server defaults: the bulk writers (imports, re-planning) insert without them.
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    unreached_attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_outcome: str | None = Field(default=None, max_length=24)
    updated_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)

    @property
    def subject(self) -> str:
        return "participant" if self.partner_id is None else "partner"


class Interview(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    followup_id: int | None = Field(default=None, foreign_key="followup.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    informant: str  # participant | partner
    checkpoint: str | None = None
    conducted_on: date
    conducted_by: int | None = Field(default=None, foreign_key="staff.id")
    mode: str | None = None
    # Violence since the last contact: True yes, False no, None not asked.
    physical: bool | None = None
    sexual: bool | None = None
    psychological: bool | None = None
    economic: bool | None = None
    coercive: bool | None = None
    stalking: bool | None = None
    felt_safety: int | None = None  # 1 (very unsafe) .. 5 (very safe)
    risk_level: str | None = None
    notes_sealed: bytes | None = None
    # The instrument asked (schedules/instruments) and its revision. An interview recorded
    # through the columns above (the events CSV, `record interview --physical …`, and
    # every interview from before instruments) is `core` with no revision: its answers
    # ARE those columns (followup.answers). Any other has InstrumentAnswer rows, and the
    # columns above hold what its items' counts_as / felt_safety / risk_level say.
    instrument: str = Field(
        default="core",
        sa_column=sa.Column(sa.String(64), nullable=False, server_default="core"),
    )
    instrument_revision: str | None = Field(default=None, max_length=16)
    # "Held, nothing asked": the reason, sealed (it may say why she could not talk). An
    # interview with no answer completes its follow-up only with this set.
    nothing_asked_sealed: bytes | None = None
    import_key: str | None = Field(default=None, unique=True, max_length=64)
    recorded_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
    # Voided (recorded in error): kept, shown struck through, read by nothing that counts.
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ContactAttempt(SQLModel, table=True):
    """One try to reach a person for a follow-up: a call that rang out, a visit, a text.
    Attempts decide `unreachable` (followup.lost); `missed` means nobody tried."""

    __tablename__ = "contact_attempt"

    id: int | None = Field(default=None, primary_key=True)
    followup_id: int = Field(foreign_key="followup.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    channel: str = Field(max_length=16)  # followup.safe_contact.PLAN_CHANNELS
    outcome: str = Field(max_length=24)  # followup.vocab.ATTEMPT_OUTCOMES
    conducted_by: int | None = Field(default=None, foreign_key="staff.id")
    note_sealed: bytes | None = None
    # Outside her safe times or by a channel she did not allow: the worker's reason,
    # sealed (it may say why). NULL: within her plan.
    override_sealed: bytes | None = None
    import_key: str | None = Field(default=None, unique=True, max_length=64)
    recorded_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)


class InstrumentRevision(SQLModel, table=True):
    """An instrument file as applied (`schedule apply`): answers name their revision, so
    an edited file changes nothing until applied, and old answers keep their definition."""

    __tablename__ = "instrument_revision"

    id: int | None = Field(default=None, primary_key=True)
    instrument_id: str = Field(max_length=64, index=True)
    revision: str = Field(max_length=16, unique=True)
    definition: str  # Instrument.to_json()
    applied_at: datetime = Field(sa_type=UTCDateTime)


class InstrumentAnswer(SQLModel, table=True):
    """One item's answer in an interview: its value as text (a code, a number, a date) or a
    missing code; a text item's words are sealed and its value is NULL."""

    __tablename__ = "instrument_answer"
    __table_args__ = (sa.UniqueConstraint("interview_id", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    item: str = Field(max_length=64)
    value: str | None = Field(default=None, max_length=64)
    value_sealed: bytes | None = None


class InterviewScore(SQLModel, table=True):
    """A score of an interview as computed when it was recorded, and a professional's
    override of its band (both kept; the reason sealed)."""

    __tablename__ = "interview_score"
    __table_args__ = (sa.UniqueConstraint("interview_id", "score"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    score: str = Field(max_length=64)
    value: float | None = None
    band: str | None = Field(default=None, max_length=32)
    withheld: str | None = None  # why no value (too many items missing)
    override_band: str | None = Field(default=None, max_length=32)
    override_reason_sealed: bytes | None = None
    overridden_by: str | None = None


class Event(SQLModel, table=True):
    """Status changes, recidivism reports, police record checks, consent changes."""

    __table_args__ = (sa.Index("ix_event_kind_participant", "kind", "participant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    kind: str = Field(max_length=32)
    occurred_on: date  # the date of the violence, the status change, the check
    reported_on: date | None = None
    source: str | None = None
    physical: bool | None = None
    sexual: bool | None = None
    psychological: bool | None = None
    economic: bool | None = None
    coercive: bool | None = None
    stalking: bool | None = None
    new_offence: bool | None = None  # police record check: a check with none is information too
    recorded_by: str | None = None
    notes_sealed: bytes | None = None
    import_key: str | None = Field(default=None, unique=True, max_length=64)
    recorded_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecordVersion(SQLModel, table=True):
    """An earlier version of an interview or event, kept when it was corrected or voided
    (followup.operations.corrections): records are corrected, never deleted.

    The interview or event row always holds the current version, so every reader that
    skips voided rows reads only what is true now; this table is the history the
    timeline shows (who, when, why). `data` holds the superseded plain values (dates,
    codes, yes/no answers) as JSON; sealed text stays sealed in its own columns.
    """

    __tablename__ = "record_version"
    __table_args__ = (sa.Index("ix_record_version_record", "record", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    record: str = Field(max_length=16)  # interview | event
    record_id: int
    version: int  # the superseded version's number: 1 is the one first recorded
    change: str = Field(max_length=16)  # corrected | voided
    data: str
    notes_sealed: bytes | None = None
    reason_sealed: bytes
    changed_by: str
    changed_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)


class Audit(SQLModel, table=True):
    """Who read or changed what, when. Never holds survivor data itself."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime, index=True)
    actor: str
    # Indexed for the Audit page: its list of actions (DISTINCT) and its action and record
    # filters read the index, not the whole trail.
    action: str = Field(max_length=64, index=True)
    entity: str | None = None
    entity_id: str | None = Field(default=None, index=True)
    detail: str | None = None  # JSON


class SafetyAlert(SQLModel, table=True):
    """New violence reported: her partner-support worker and the supervisors are told at once.

    Raised in the same transaction as the interview or recidivism report behind it, with
    its outbox messages (followup.alerts). Holds ids only, never what was said.
    """

    __tablename__ = "safety_alert"
    __table_args__ = (
        # The navigation's count and the banners read open alerts on every page: a
        # partial index keeps that read as small as the number of open alerts.
        sa.Index(
            "ix_safety_alert_open",
            "participant_id",
            sqlite_where=sa.text("acknowledged_at IS NULL"),
            postgresql_where=sa.text("acknowledged_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    interview_id: int | None = Field(default=None, foreign_key="interview.id")
    event_id: int | None = Field(default=None, foreign_key="event.id")
    raised_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime, index=True)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = None
    # What was done on acknowledging (followup.operations.alerts.ACTIONS), and a note
    # sealed like interview notes: it may say what she said.
    action: str | None = None
    action_note_sealed: bytes | None = None


OUTBOX_STATUSES = ("pending", "sent", "delivered", "failed", "dead", "cancelled")


class Outbox(SQLModel, table=True):
    """One message to one member of staff (followup.dispatch).

    Written in the same transaction as the change that causes it; `key` makes queueing
    the same message twice a no-op. A sender claims due rows with a lease (`claimed_by`,
    `lease_until`), so a crash mid-send is retried when the lease runs out. Rows carry
    ids, dates and counts only: the text is rendered from templates when it is sent, and
    `last_error` is a provider's meaning ("Invalid phone number"), never an address.
    """

    __table_args__ = (
        # The sender's claim: pending rows by when they may next go.
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(
        max_length=32
    )  # reminder | digest | catch_up | escalation | alert | delivery_problem
    staff_id: int = Field(foreign_key="staff.id", index=True)  # the recipient
    channel: str = Field(max_length=16)
    followup_id: int | None = Field(default=None, foreign_key="followup.id", index=True)
    alert_id: int | None = Field(default=None, foreign_key="safety_alert.id")
    payload: str | None = None  # JSON: ids, dates, counts
    not_before: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last claim was never settled (its sender died): it may have reached the provider.
    in_doubt: bool = False
    # Since when it has been in doubt (it is resent without an answer from the provider
    # only after channels.in_doubt_resend_after_minutes).
    in_doubt_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The first failed attempt (kept once sent): retries go on by time, the fallback
    # channel is used after channels.fallback_after_minutes, supervisors' digests list it.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    provider_id: str | None = Field(default=None, max_length=200, index=True)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)


class DispatchWatermark(SQLModel, table=True):
    """How far the planner has looked: everything due up to `planned_until` is queued.

    One row per planner; its UPDATE at the start of a pass also serialises planners
    across service instances (a row lock on PostgreSQL, the write lock on SQLite).
    """

    __tablename__ = "dispatch_watermark"

    name: str = Field(primary_key=True, max_length=32)
    planned_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    planned_by: str | None = None
    planned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DataVersion(SQLModel, table=True):
    """One row (id 1): bumped by every transaction that writes data a report reads, in
    that transaction (followup.data_version). Cached reports are filed under it."""

    __tablename__ = "data_version"

    id: int = Field(primary_key=True)
    version: int = Field(default=0, sa_type=sa.BigInteger)


class UserAccount(SQLModel, table=True):
    """A login to the web app (followup.web), always a member of staff.

    What someone may do is the account's roles *and* the staff member's roles (the staff
    file says what a person does; an account can only narrow it), at the staff member's
    site — so a re-import that takes a role away takes it away from the web at once.
    Secrets are stored only as hashes: the password (argon2), the invite link and the
    calendar-feed token (SHA-256 of a random token; followup.tokens).
    """

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    roles: str  # ";"-separated, a subset of the staff member's
    # Evaluators: sites whose aggregates they may read, ";"-separated, or "*" for every
    # site. None: the staff member's own site.
    sites: str | None = None
    password_hash: str | None = None  # None until an invite link is used
    invite_hash: str | None = Field(default=None, unique=True, max_length=64)
    invite_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    language: str | None = None  # None: the staff member's language, else the site's
    active: bool = True
    failed_logins: int = 0  # consecutive, since the last successful login (shown to admins)
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calendar_token_hash: str | None = Field(default=None, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(";") if r)


class WebSession(SQLModel, table=True):
    """A browser's session, kept on the server: the cookie holds a random token and only
    its SHA-256 is stored, so logout, deactivation and password resets end sessions at
    once and a copied database holds no usable cookie. A signed-out visitor's session
    (account_id NULL) only carries the login form's CSRF token."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    account_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class LoginFailure(SQLModel, table=True):
    """One failed login, for throttling per user name and per address. Kept for the
    throttling window only. Names that match no account are counted the same way, so the
    throttle does not tell anyone which user names exist."""

    __tablename__ = "login_failure"
    __table_args__ = (
        sa.Index("ix_login_failure_username_at", "username", "at"),
        sa.Index("ix_login_failure_ip_at", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)  # as typed, lower-cased
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=written_at, sa_type=UTCDateTime)
