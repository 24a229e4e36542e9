"""`followup init --demo`: a small synthetic cohort so a new user sees a working service."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from followup import her_plan
from followup.context import Context
from followup.db import transaction
from followup.imports import import_files
from followup.models import FollowUp, Participant, Partner
from followup.schedule import PENDING
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
        attempts = _attempts_file(ctx, Path(folder), today)
        if attempts is not None:
            import_files(ctx, [("attempts", attempts)])
    from followup.operations.accounts import create_demo_accounts

    with transaction(ctx.engine) as accounts_session:
        logins = create_demo_accounts(accounts_session, ctx, next(iter(sites)))
    return (
        f"Demo cohort loaded: {len(data.participants)} participants, {len(data.partners)} "
        f"partners, {len(data.staff)} staff across {', '.join(sites)}.\n{logins}"
    )


# What the demo's workers tried on a third of the follow-ups already open or overdue: so
# the work lists show attempts, and the report unreachable, refused and missed apart.
OUTCOMES = (
    ("no_answer",),
    ("no_answer", "someone_else_answered"),
    ("no_answer", "no_answer", "no_answer"),  # lost to follow-up (lost_after_attempts 3)
    ("unsafe_to_talk",),
    ("refused",),
)


def _attempts_file(ctx: Context, folder: Path, today) -> Path | None:
    """attempts.csv for the demo: each attempt on a weekday inside the follow-up's window
    before today, at a time inside her safe windows (for her follow-ups), so none needs
    an override."""
    with transaction(ctx.engine) as session:
        rows = session.execute(
            sa.select(FollowUp, Participant.case_id, Partner)
            .join(Participant, Participant.id == FollowUp.participant_id)
            .outerjoin(Partner, Partner.id == FollowUp.partner_id)
            .where(FollowUp.status == PENDING, FollowUp.window_opens_on < today)
            .order_by(FollowUp.id)
        ).all()
        found = []
        for number, (followup, case_id, partner) in enumerate(rows):
            if number % 3:
                continue
            plan = her_plan.plan_of(ctx.vault, partner) if partner is not None else None
            outcomes = OUTCOMES[(number // 3) % len(OUTCOMES)]
            times = _times(followup, plan, today, len(outcomes))
            for at, outcome in zip(times, outcomes, strict=False):
                found.append(
                    {
                        "case_id": case_id,
                        "partner_id": partner.partner_id if partner is not None else "",
                        "checkpoint": followup.checkpoint,
                        "attempted_at": at.strftime("%Y-%m-%dT%H:%M"),  # her site's time
                        "channel": "phone",
                        "outcome": outcome,
                        "conducted_by": "",
                    }
                )
    if not found:
        return None
    path = folder / "attempts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(found[0]))
        writer.writeheader()
        writer.writerows(found)
    return path


def _times(followup: FollowUp, plan, today, wanted: int) -> list[datetime]:
    """Up to `wanted` local times on different days inside the follow-up's window (and
    her safe windows), before today. Only the one follow-up's window: a check-in's
    attempts must not fall into the next check-in's."""
    times = []
    day = followup.window_opens_on
    last = min(followup.window_closes_on, today - timedelta(days=1))
    while day <= last and len(times) < wanted:
        if plan is None:
            times.append(datetime.combine(day, time(10, 30)))
        else:
            spans = plan.windows_on(day)
            if spans:
                times.append(spans[0][0] + timedelta(minutes=15))
            elif not plan.windows:
                times.append(datetime.combine(day, time(10, 30)))
        day += timedelta(days=1)
    return times
