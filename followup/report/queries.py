"""The report's reads: one Core select per table, of exactly the columns it needs.

Each read is a `*_query` function that builds the select (bench/report.py runs the same
SQL through raw sqlite3 for its lower bound) and a function that fetches it.

Every query takes the as-of date and an optional site; nothing recorded after the as-of
date is read as having happened (a date after it is read as not reached yet). Each returns
plain numpy arrays (see columns.py); the measures count and estimate from those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray

from followup.models import (
    ENDINGS,
    INFORMANTS,
    REFERRAL_SOURCES,
    REPORT_SOURCES,
    VIOLENCE_TYPES,
    Event,
    FollowUp,
    Interview,
    Participant,
    ProtocolRevision,
    Site,
)
from followup.report.columns import as_codes, coded, day_number, epoch_day, fetch, flag, scanned
from followup.schedule import CANCELLED, COMPLETED, MISSED, REFUSED, UNREACHABLE

P = Participant.__table__
F = FollowUp.__table__
I = Interview.__table__  # noqa: E741
E = Event.__table__

DATE_COLUMNS = ("enrolled_on", "admitted_on", "programme_start_on", "completed_on", "ended_on")
UNKNOWN = "(unknown)"


@dataclass
class Labels:
    """What the coded columns' integers stand for; the last label is for unexpected text."""

    sites: list[str]
    referral_sources: list[str]
    end_reasons: list[str]
    revisions: list[str]
    checkpoints: list[str]
    sources: list[str]

    @classmethod
    def read(cls, conn: sa.Connection, checkpoints: Sequence[str]) -> Labels:
        sites = sorted(conn.execute(sa.select(Site.code)).scalars())
        revisions = sorted(conn.execute(sa.select(ProtocolRevision.revision)).scalars())
        return cls(
            sites,
            list(REFERRAL_SOURCES),
            list(ENDINGS),
            revisions,
            list(checkpoints),
            list(REPORT_SOURCES),
        )

    @staticmethod
    def name(labels: list[str], code: int) -> str:
        return labels[code] if 0 <= code < len(labels) else UNKNOWN


def _in_site(participant_id: sa.ColumnElement, site: str | None) -> list[sa.ColumnElement]:
    if site is None:
        return []
    return [participant_id.in_(sa.select(P.c.id).where(P.c.site_code == site))]


# --- participants --------------------------------------------------------------------


@dataclass
class People:
    """One entry per participant enrolled by the as-of date, in id order.

    Dates are days since 1970-01-01, NaN when not (yet) reached by the as-of date; codes
    index into `labels` (-1: none).
    """

    id: NDArray[np.int64]
    site: NDArray[np.int64]
    referral_source: NDArray[np.int64]
    end_reason: NDArray[np.int64]
    revision: NDArray[np.int64]
    enrolled_on: NDArray[np.float64]
    admitted_on: NDArray[np.float64]
    programme_start_on: NDArray[np.float64]
    completed_on: NDArray[np.float64]
    ended_on: NDArray[np.float64]
    labels: Labels

    def __len__(self) -> int:
        return int(self.id.size)

    def where(self, keep: NDArray[np.bool_]) -> People:
        """Only the people where `keep` is True (still in id order)."""
        arrays = ("id", "site", "referral_source", "end_reason", "revision", *DATE_COLUMNS)
        return replace(self, **{name: getattr(self, name)[keep] for name in arrays})

    def index_of(self, participant_ids: NDArray) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Positions of `participant_ids` here, and which of them are here at all."""
        if not len(self):
            return np.zeros(participant_ids.size, np.intp), np.zeros(participant_ids.size, bool)
        position = np.minimum(np.searchsorted(self.id, participant_ids), len(self) - 1)
        return position, self.id[position] == participant_ids

    def reason_is(self, reasons: Sequence[str]) -> NDArray[np.bool_]:
        """Ended (by the as-of date) for one of `reasons`."""
        wanted = [self.labels.end_reasons.index(r) for r in reasons]
        return np.isin(self.end_reason, wanted) & ~np.isnan(self.ended_on)


def people_query(as_of: date, site: str | None, labels: Labels) -> sa.Select:
    return (
        sa.select(
            P.c.id,
            coded(P.c.site_code, labels.sites),
            coded(P.c.referral_source, labels.referral_sources),
            coded(P.c.end_reason, labels.end_reasons),
            coded(P.c.protocol_revision, labels.revisions),
            *(epoch_day(P.c[name]) for name in DATE_COLUMNS),
        )
        .where(P.c.enrolled_on <= as_of, *([P.c.site_code == site] if site else []))
        .order_by(P.c.id)
    )


def people(conn: sa.Connection, as_of: date, site: str | None, labels: Labels) -> People:
    rows = fetch(conn, people_query(as_of, site, labels))
    found = People(
        id=rows[:, 0].astype(np.int64),
        **{
            name: as_codes(rows[:, i + 1])
            for i, name in enumerate(("site", "referral_source", "end_reason", "revision"))
        },
        **{name: rows[:, i + 5].copy() for i, name in enumerate(DATE_COLUMNS)},
        labels=labels,
    )
    # What happened after the as-of date had not happened yet on it.
    cut = day_number(as_of)
    for name in DATE_COLUMNS[1:]:
        values = getattr(found, name)
        values[values > cut] = np.nan
    found.end_reason[np.isnan(found.ended_on)] = -1
    return found


# --- recidivism reports and record checks ----------------------------------------------


@dataclass
class OutcomeEvents:
    """Recidivism reports and police record checks up to the as-of date."""

    participant_id: NDArray[np.int64]
    is_check: NDArray[np.bool_]  # a police record check (else a recidivism report)
    source: NDArray[np.int64]  # code in labels.sources
    day: NDArray[np.float64]  # the date of the violence, or of the check
    new_offence: NDArray[np.bool_]  # record checks: found a new offence
    labels: Labels


def outcome_events_query(as_of: date, site: str | None, labels: Labels) -> sa.Select:
    return sa.select(
        E.c.participant_id,
        flag(E.c.kind == "record_check"),
        coded(E.c.source, labels.sources),
        epoch_day(E.c.occurred_on),
        flag(E.c.new_offence == sa.true()),
    ).where(
        E.c.kind.in_(("recidivism", "record_check")),
        E.c.occurred_on <= as_of,
        E.c.voided_at.is_(None),  # a voided report counts nowhere (operations.corrections)
        *_in_site(E.c.participant_id, site),
    )


def outcome_events(
    conn: sa.Connection, as_of: date, site: str | None, labels: Labels
) -> OutcomeEvents:
    rows = fetch(conn, outcome_events_query(as_of, site, labels))
    return OutcomeEvents(
        participant_id=rows[:, 0].astype(np.int64),
        is_check=rows[:, 1] == 1,
        source=as_codes(rows[:, 2]),
        day=rows[:, 3],
        new_offence=rows[:, 4] == 1,
        labels=labels,
    )


# --- interviews ----------------------------------------------------------------------

NO, YES, NOT_ASKED = 0, 1, 2  # an answer, per violence type


@dataclass
class Interviews:
    """Completed interviews up to the as-of date, one entry each."""

    participant_id: NDArray[np.int64]
    checkpoint: NDArray[np.int64]  # code in labels.checkpoints; -1: matched no follow-up
    informant: NDArray[np.int64]  # index in INFORMANTS
    day: NDArray[np.float64]
    answers: dict[str, NDArray[np.int8]]  # violence type -> NO / YES / NOT_ASKED

    def __len__(self) -> int:
        return int(self.participant_id.size)


def interviews_query(as_of: date, site: str | None, labels: Labels) -> sa.Select:
    # The six answers travel as one number, two bits each, to keep the rows narrow.
    packed = sum(
        sa.case((I.c[t] == sa.false(), NO), (I.c[t] == sa.true(), YES), else_=NOT_ASKED) * (4**k)
        for k, t in enumerate(VIOLENCE_TYPES)
    )
    return sa.select(
        I.c.participant_id,
        coded(I.c.checkpoint, labels.checkpoints),
        coded(I.c.informant, list(INFORMANTS)),
        epoch_day(I.c.conducted_on),
        packed,
    ).where(
        scanned(I.c.conducted_on) <= as_of,
        I.c.voided_at.is_(None),
        *_in_site(I.c.participant_id, site),
    )


def interviews(conn: sa.Connection, as_of: date, site: str | None, labels: Labels) -> Interviews:
    rows = fetch(conn, interviews_query(as_of, site, labels))
    bits = rows[:, 4].astype(np.int64)
    return Interviews(
        participant_id=rows[:, 0].astype(np.int64),
        checkpoint=as_codes(rows[:, 1]),
        informant=as_codes(rows[:, 2]),
        day=rows[:, 3],
        answers={t: ((bits >> (2 * k)) & 3).astype(np.int8) for k, t in enumerate(VIOLENCE_TYPES)},
    )


# --- follow-ups ----------------------------------------------------------------------

# The outcomes of a due follow-up (their sum is `due`), then the one left out of `due`.
FOLLOWUP_OUTCOMES = ("in_window", "late", "unreachable", "refused", "missed", "open")
CANCELLED_OUTCOME = len(FOLLOWUP_OUTCOMES)


@dataclass
class FollowupOutcomes:
    """Follow-ups due by the as-of date, one entry each (cancelled ones included, with
    outcome CANCELLED_OUTCOME)."""

    checkpoint: NDArray[np.int64]  # code in labels.checkpoints
    informant: NDArray[np.int64]  # index in INFORMANTS
    outcome: NDArray[np.int64]  # index in FOLLOWUP_OUTCOMES, or CANCELLED_OUTCOME
    attempts: NDArray[np.int64]  # contact attempts recorded (FollowUp.attempts)


def followup_outcomes_query(as_of: date, site: str | None, labels: Labels) -> sa.Select:
    """Follow-ups due by the as-of date: checkpoint code, informant index, outcome index,
    contact attempts.

    Due: due on or before the as-of date and placed on a recorded date (a provisional
    follow-up waits for an anchor that has not happened); a cancelled one is read apart
    (outcome CANCELLED_OUTCOME, never in `due`). Completed by the as-of date within the
    window (or before it) is in_window; after the window closed, late; unreachable or
    refused as recorded; marked missed, missed; otherwise, once its window has closed, it
    reads as followup.lost.status_on says (unreachable after at least one attempt, missed
    after none); else still open. The attempts are FollowUp's own counter: no join to
    contact_attempt.
    """
    done = sa.and_(F.c.status == COMPLETED, F.c.completed_on <= as_of)
    closed = F.c.window_closes_on < as_of
    outcome = sa.case(
        (F.c.status == CANCELLED, CANCELLED_OUTCOME),
        (sa.and_(done, F.c.completed_on <= F.c.window_closes_on), 0),
        (done, 1),
        (F.c.status == UNREACHABLE, 2),
        (F.c.status == REFUSED, 3),
        (F.c.status == MISSED, 4),
        (sa.and_(closed, F.c.attempts > 0), 2),
        (closed, 4),
        else_=5,
    )
    return sa.select(
        coded(F.c.checkpoint, labels.checkpoints),
        flag(F.c.partner_id.is_not(None)),
        outcome,
        F.c.attempts,
    ).where(
        scanned(F.c.due_on) <= as_of,
        F.c.provisional == sa.false(),
        *_in_site(F.c.participant_id, site),
    )


def followup_outcomes(
    conn: sa.Connection, as_of: date, site: str | None, labels: Labels
) -> FollowupOutcomes:
    rows = fetch(conn, followup_outcomes_query(as_of, site, labels)).astype(np.int64)
    return FollowupOutcomes(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])
