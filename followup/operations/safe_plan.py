"""Her safe-contact plan: show it, edit it, confirm it with her.

Only those who may see her record see her plan (operations.policy.view_partner: her
partner-support workers at her site, never his facilitator — followup.wall); every read
is audited (`read_safe_plan`), every change too (`edit_safe_plan`, `confirm_safe_plan`),
never with the plan's contents. The plan itself is sealed on her row
(followup.her_plan) and read through the pure core followup.safe_contact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from followup import her_plan
from followup.audit import audit
from followup.context import Context
from followup.errors import InvalidRecord
from followup.her_plan import PlanInput, build_plan
from followup.models import Partner
from followup.operations.people import check_partner_change
from followup.operations.policy import Principal
from followup.safe_contact import SafeContactPlan


@dataclass(frozen=True)
class PlanView:
    """Her plan as her worker sees it at `local_now` (her site's zone, naive)."""

    plan: SafeContactPlan
    channels: tuple[tuple[str, str | None], ...]  # (channel, number or address if revealed)
    safe_now: bool  # inside a safe window now (True also when no safe times are recorded)
    until: datetime | None  # the open window's end, when safe_now and windows exist
    next_window: tuple[datetime, datetime] | None  # when not safe now
    needs_confirming: bool
    confirmed_on: date | None
    revealed: bool

    @property
    def has_times(self) -> bool:
        return bool(self.plan.windows)


def plan_view(
    plan: SafeContactPlan, local_now: datetime, today: date, every_days: int, *, reveal: bool
) -> PlanView:
    """What the plan says at this moment (pure)."""
    safe_now = plan.is_safe_at(local_now)
    window = plan.next_window(local_now)
    return PlanView(
        plan=plan,
        channels=tuple((c, plan.channels[c] if reveal else None) for c in plan.channels),
        safe_now=safe_now,
        until=window[1] if safe_now and window else None,
        next_window=None if safe_now else window,
        needs_confirming=plan.needs_confirming(today, every_days),
        confirmed_on=plan.confirmed_on,
        revealed=reveal,
    )


def plan_at(
    plan: SafeContactPlan, now: datetime, zone: ZoneInfo, every_days: int, *, reveal: bool
) -> PlanView:
    """The plan at the UTC instant `now`, read in her site's zone (pure): the windows are
    wall-clock times there, so they follow its daylight-saving changes."""
    local = now.astimezone(zone)
    return plan_view(plan, local.replace(tzinfo=None), local.date(), every_days, reveal=reveal)


def read_safe_plan(
    session: Session,
    ctx: Context,
    p: Principal,
    partner_id: str,
    *,
    reveal: bool = False,
    followup_id: int | None = None,
) -> PlanView | None:
    """Her plan, or None when none was recorded. `reveal` also shows each channel's
    number or address (the same audited reveal as her contact details)."""
    her, person = check_partner_change(session, p, partner_id)
    detail = {"followup": followup_id} if followup_id is not None else {}
    audit(session, p.actor, "read_safe_plan", "partner", partner_id, **detail)
    return _view(ctx, her, person.site_code, reveal=reveal)


def _view(ctx: Context, her: Partner, site: str, *, reveal: bool) -> PlanView | None:
    plan = her_plan.plan_of(ctx.vault, her)
    if plan is None:
        return None
    zone = ctx.config.sites[site].zone
    return plan_at(plan, ctx.now(), zone, ctx.config.partner.reconfirm_plan_days, reveal=reveal)


def store_plan(her: Partner, sealed: dict) -> None:
    """Her row's plan columns, and `channel` as the plan's first channel (the lists and
    the dispatch read it)."""
    her.plan_sealed = sealed["plan_sealed"]
    her.plan_confirmed_on = sealed["plan_confirmed_on"]


def edit_safe_plan(
    session: Session, ctx: Context, p: Principal, partner_id: str, given: PlanInput
) -> SafeContactPlan:
    """Record or change her plan. When it was last confirmed with her is kept (editing
    is not confirming: `confirm_safe_plan` says that)."""
    her, person = check_partner_change(session, p, partner_id)
    before = her_plan.plan_of(ctx.vault, her)
    contact = (ctx.vault.open(her.contact_sealed) or {}) if her.contact_sealed else {}
    plan = build_plan(
        given,
        contact,
        confirmed_on=before.confirmed_on if before else None,
        keep=before.channels if before else None,
    )
    # Dated, so a partners file made before this change does not put the old plan back.
    plan = replace(plan, worker_changed_on=ctx.site_today(person.site_code))
    store_plan(her, her_plan.seal_plan(ctx.vault, plan))
    her.channel = next(iter(plan.channels), None)
    audit(session, p.actor, "edit_safe_plan", "partner", partner_id)
    return plan


def confirm_safe_plan(
    session: Session, ctx: Context, p: Principal, partner_id: str, *, followup_id: int | None = None
) -> date:
    """Her plan was gone through with her today (her site's today)."""
    her, person = check_partner_change(session, p, partner_id)
    plan = her_plan.plan_of(ctx.vault, her)
    if plan is None:
        raise InvalidRecord(
            f"partner {partner_id}: she has no safe-contact plan yet; record it on her page first"
        )
    today = ctx.site_today(person.site_code)
    store_plan(her, her_plan.seal_plan(ctx.vault, plan.confirmed_by_worker(today)))
    detail = {"followup": followup_id} if followup_id is not None else {}
    audit(session, p.actor, "confirm_safe_plan", "partner", partner_id, **detail)
    return today
