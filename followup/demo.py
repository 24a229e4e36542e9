"""`followup init --demo`: a small synthetic cohort so a new user sees a working service."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup.context import Context
from followup.imports import import_files
from followup.models import Participant
from followup.synthetic import cohort

DEMO_SIZE = 60


def load_demo(session: Session, ctx: Context, size: int = DEMO_SIZE) -> str:
    if session.execute(sa.select(Participant.id).limit(1)).first():
        return "Demo cohort not loaded: the database already has participants."
    today = max(ctx.site_today(code) for code in ctx.config.sites)
    sites = {code: site.language for code, site in ctx.config.sites.items()}
    data = cohort(ctx.protocols, sites, size, today, seed=2026)
    session.commit()  # the imports run their own transactions
    with tempfile.TemporaryDirectory() as folder:
        files = data.write(Path(folder))
        import_files(ctx, files.items())
    from followup.db import transaction
    from followup.operations.accounts import create_demo_accounts

    with transaction(ctx.engine) as accounts_session:
        logins = create_demo_accounts(accounts_session, ctx, next(iter(sites)))
    return (
        f"Demo cohort loaded: {len(data.participants)} participants, {len(data.partners)} "
        f"partners, {len(data.staff)} staff across {', '.join(sites)}.\n{logins}"
    )
