"""Which revision of each instrument is in force, and the revisions answers were given in.

The files in schedules/instruments are what managers edit; the `instrument_revision`
table is what is applied. An instrument is applied the first time it is used (or at
`followup init`); after that an edited file changes nothing until `schedule plan` has
shown it and `schedule apply` has applied it, like a protocol.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.instruments import Instrument
from followup.models import InstrumentRevision

_cache: dict[str, Instrument] = {}


def at_revision(session: Session, revision: str) -> Instrument:
    """An instrument exactly as it was at `revision` (answers keep their definition)."""
    if revision not in _cache:
        definition = session.execute(
            sa.select(InstrumentRevision.definition).where(InstrumentRevision.revision == revision)
        ).scalar_one()
        _cache[revision] = Instrument.from_json(definition)
    return _cache[revision]


def applied(
    session: Session, files: dict[str, Instrument], instrument_id: str, now: datetime
) -> Instrument:
    """The revision in force for `instrument_id`: the last applied one, or — the first
    time the instrument is used — the file as it is, applied now."""
    revision = session.execute(
        sa.select(InstrumentRevision.revision)
        .where(InstrumentRevision.instrument_id == instrument_id)
        .order_by(InstrumentRevision.applied_at.desc(), InstrumentRevision.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if revision is not None:
        return at_revision(session, revision)
    instrument = files[instrument_id]
    _store(session, instrument, now)
    return instrument


def pending_changes(session: Session, files: dict[str, Instrument]) -> list[dict]:
    """Each instrument file whose revision differs from the one in force: what `schedule
    plan` shows and `schedule apply` applies. Scores whose definition changed are named
    (reports pool revisions only where a score's definition is the same)."""
    changes = []
    for instrument_id, file in sorted(files.items()):
        rows = session.execute(
            sa.select(InstrumentRevision.revision)
            .where(InstrumentRevision.instrument_id == instrument_id)
            .order_by(InstrumentRevision.applied_at.desc(), InstrumentRevision.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if rows == file.revision:
            continue
        before = at_revision(session, rows) if rows is not None else None
        changes.append(
            {
                "instrument": instrument_id,
                "revision_from": rows,
                "revision_to": file.revision,
                "items_added": _added(before, file),
                "items_removed": _added(file, before) if before is not None else [],
                "scores_redefined": _redefined(before, file),
            }
        )
    return changes


def apply_changes(session: Session, files: dict[str, Instrument], now: datetime) -> list[dict]:
    changes = pending_changes(session, files)
    for change in changes:
        _store(session, files[change["instrument"]], now)
    return changes


def _store(session: Session, instrument: Instrument, now: datetime) -> None:
    known = session.execute(
        sa.select(InstrumentRevision.id).where(InstrumentRevision.revision == instrument.revision)
    ).scalar_one_or_none()
    if known is not None:  # an edit undone: the older revision is in force again
        session.execute(
            sa.update(InstrumentRevision)
            .where(InstrumentRevision.id == known)
            .values(applied_at=now)
        )
        session.flush()
        return
    session.add(
        InstrumentRevision(
            instrument_id=instrument.id,
            revision=instrument.revision,
            definition=instrument.to_json(),
            applied_at=now,
        )
    )
    session.flush()
    _cache[instrument.revision] = instrument


def _added(before: Instrument | None, after: Instrument | None) -> list[str]:
    if after is None:
        return []
    had = {i.id for i in before.items} if before is not None else set()
    return [i.id for i in after.items if i.id not in had]


def _redefined(before: Instrument | None, after: Instrument) -> list[str]:
    if before is None:
        return []
    changed = []
    for score in after.scores:
        if before.score(score.id) is None or before.score_definition(
            score.id
        ) != after.score_definition(score.id):
            changed.append(score.id)
    return changed
