"""The house's words: every closed list of values that a person types or reads.

Dependency-free (standard library only), so the CLI's `--help`, the models, the web
forms and the report options all name the same words without importing SQLAlchemy,
numpy or FastAPI. Each list is a StrEnum (a member *is* its string) and a plain tuple
of strings (`words(...)`), which is what the models and the error messages use.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    facilitator = "facilitator"
    partner_support = "partner_support"
    supervisor = "supervisor"
    evaluator = "evaluator"
    manager = "manager"
    admin = "admin"


class ReferralSource(StrEnum):
    prosecutor = "prosecutor"
    court = "court"
    social_work_centre = "social_work_centre"
    police = "police"
    self = "self"
    other = "other"


class StatusEvent(StrEnum):
    admitted = "admitted"
    programme_start = "programme_start"
    completed = "completed"
    dropped_out = "dropped_out"
    excluded = "excluded"
    transferred = "transferred"


class ViolenceType(StrEnum):
    physical = "physical"
    sexual = "sexual"
    psychological = "psychological"
    economic = "economic"
    coercive = "coercive"
    stalking = "stalking"


class ReportSource(StrEnum):
    """Who reported new violence."""

    partner = "partner"
    participant = "participant"
    police = "police"
    prosecutor = "prosecutor"
    social_services = "social_services"


class Informant(StrEnum):
    participant = "participant"
    partner = "partner"


class Relationship(StrEnum):
    current = "current"
    ex = "ex"
    new = "new"


class ContactChannel(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"
    in_person = "in_person"
    post = "post"


class AttemptOutcome(StrEnum):
    """What came of one try to reach a person for a follow-up (docs/data.md)."""

    reached = "reached"
    no_answer = "no_answer"
    unsafe_to_talk = "unsafe_to_talk"
    someone_else_answered = "someone_else_answered"
    refused = "refused"
    wrong_number = "wrong_number"
    moved = "moved"
    other = "other"


class InterviewMode(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class ImportKind(StrEnum):
    staff = "staff"
    participants = "participants"
    partners = "partners"
    events = "events"
    answers = "answers"
    attempts = "attempts"


class CaseloadStatus(StrEnum):
    """Where a pending follow-up stands (followup.operations.caseload)."""

    overdue = "overdue"  # its window has closed
    due = "due"  # its window is open
    scheduled = "scheduled"  # its window has not opened yet


# --- the report's choices (followup.report.build checks the same lists) -------------------


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    csv = "csv"


class ReportBy(StrEnum):
    site = "site"
    referral_source = "referral_source"
    completion = "completion"


class ReportOrigin(StrEnum):
    completion = "completion"
    admission = "admission"
    enrolment = "enrolment"
    end_of_participation = "end_of_participation"


def words(kind: type[StrEnum]) -> tuple[str, ...]:
    """The values of a vocabulary, in order, as plain strings."""
    return tuple(member.value for member in kind)


ROLES = words(Role)
REFERRAL_SOURCES = words(ReferralSource)
STATUS_EVENTS = words(StatusEvent)
ENDINGS = ("dropped_out", "excluded", "transferred")
VIOLENCE_TYPES = words(ViolenceType)
REPORT_SOURCES = words(ReportSource)
INFORMANTS = words(Informant)
RELATIONSHIPS = words(Relationship)
CONTACT_CHANNELS = words(ContactChannel)
ATTEMPT_OUTCOMES = words(AttemptOutcome)
INTERVIEW_MODES = words(InterviewMode)
RISK_LEVELS = words(RiskLevel)
IMPORT_KINDS = words(ImportKind)
CASELOAD_STATUSES = words(CaseloadStatus)
REPORT_FORMATS = words(ReportFormat)
REPORT_BY = words(ReportBy)
REPORT_ORIGINS = words(ReportOrigin)
REPORT_SOURCE_CHOICES = ("any", *REPORT_SOURCES)

# What was done on acknowledging a safety alert (followup.operations.alerts.acknowledge).
ALERT_ACTIONS = (
    "contacted_her",
    "safety_plan_reviewed",
    "referred_to_services",
    "police_informed",
    "case_conference",
    "tried_no_contact",
    "other",
)
# Why a follow-up will not happen when it is marked missed (audited with it).
MISSED_REASONS = (
    "unreachable",
    "refused",
    "moved_away",
    "unsafe_to_contact",
    "window_passed",
    "other",
)
