"""Instruments as content: the codebook an evaluator reads beside an export."""

from __future__ import annotations

import sqlalchemy as sa

from followup import codebook as codebook_render
from followup import migrate
from followup.context import Context
from followup.db import transaction
from followup.instruments import Instrument
from followup.models import InstrumentRevision

IN_FORCE = "in force"
EARLIER = "earlier revision"
NOT_APPLIED = "file not yet applied"


def codebook(ctx: Context, fmt: str) -> str:
    """The codebook of every instrument revision answers may have been given in (every
    applied revision in the database, the one in force marked) and of every file edited
    but not yet applied, in `fmt` (md, csv, json). It holds no personal data (structure
    and wording only), so it needs no role and writes no audit. Without a database at
    the current schema it lists the files."""
    versions: dict[str, tuple[Instrument, str]] = {}
    in_force: dict[str, str] = {}
    if migrate.state(ctx.engine).up_to_date:
        with transaction(ctx.engine) as session:
            rows = session.execute(
                sa.select(InstrumentRevision.revision, InstrumentRevision.definition).order_by(
                    InstrumentRevision.instrument_id,
                    InstrumentRevision.applied_at,
                    InstrumentRevision.id,
                )
            ).all()
        for revision, definition in rows:
            instrument = Instrument.from_json(definition)
            versions[revision] = (instrument, EARLIER)
            in_force[instrument.id] = revision  # the last applied one wins
        for revision in in_force.values():
            versions[revision] = (versions[revision][0], IN_FORCE)
    for instrument in ctx.instruments.values():
        if instrument.revision not in versions:
            never_used = instrument.id not in in_force
            versions[instrument.revision] = (instrument, IN_FORCE if never_used else NOT_APPLIED)
    return codebook_render.render(list(versions.values()), fmt)
