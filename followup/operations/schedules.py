"""Protocol changes: plan (what the files as they are now would move, add or cancel) and
apply. Managers and administrators only (followup.operations.policy.plan_schedules).

Her rows in a plan are named only to a person who may open her record; the CLI's
operator gets counts (`partner_changes_hidden`): a plan printed at the shell is pasted
into tickets and e-mails, where her partner id has no business.
"""

from __future__ import annotations

from followup.context import Context
from followup.errors import Forbidden
from followup.operations import policy
from followup.operations.acting import acting
from followup.operations.policy import Principal
from followup.schedule_change import ChangePlan, plan_change


def _may_see_her(p: Principal):
    if p.account_id is None:  # the operator: counts only
        return lambda site, facilitator: False
    return lambda site, facilitator: policy.view_partner(p, site, facilitator)


def plan(ctx: Context, p: Principal) -> ChangePlan:
    if not policy.plan_schedules(p):
        raise Forbidden(f"{p.username} may not plan protocol changes")
    return plan_change(acting(ctx, p), apply=False, may_see_her=_may_see_her(p))


def apply(ctx: Context, p: Principal) -> ChangePlan:
    """Apply the protocol files to every enrolment, in one transaction."""
    if not policy.apply_schedules(p):
        raise Forbidden(f"{p.username} may not apply protocol changes")
    return plan_change(acting(ctx, p), apply=True, may_see_her=_may_see_her(p))
