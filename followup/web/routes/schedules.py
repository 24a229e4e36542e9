"""Schedules for managers: the active protocols as a table, `schedule plan` of the files
as they are now, and an Apply button (`schedule apply`).

The protocol files are read afresh for every request (a manager edits them and reloads
the page), not the copy the service loaded at start. Apply carries a fingerprint of the
revisions the manager looked at: if the files changed in between, nothing is applied and
the new plan is shown instead.
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from followup.context import Context
from followup.errors import FollowupError
from followup.operations import policy
from followup.operations import schedules as protocol_changes
from followup.operations.policy import Principal
from followup.schedule_change import ChangePlan
from followup.web.auth import Form, checked_form, context, guard
from followup.web.render import page

router = APIRouter()
PEOPLE_SHOWN = 100


def _files(request: Request) -> Context:
    ctx = context(request)
    return Context.open(str(ctx.config.path), engine=ctx.engine)


def fingerprint(revisions: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(revisions, sort_keys=True).encode()).hexdigest()[:16]


def _page(
    request: Request,
    p: Principal,
    *,
    status: int = 200,
    applied: ChangePlan | None = None,
    notice: str | None = None,
) -> Response:
    problem = plan = protocols = None
    try:
        fresh = _files(request)
        protocols = list(fresh.protocols.values())
        plan = protocol_changes.plan(fresh, p)
    except FollowupError as refused:  # a manager's edit with a mistake in it: say which
        problem = str(refused)
    return page(
        request,
        p,
        "schedules.html",
        status=status if problem is None else 422,
        protocols=protocols,
        plan=plan,
        problem=problem,
        applied=applied,
        notice=notice,
        fingerprint=fingerprint(plan.revisions) if plan else "",
        shown=PEOPLE_SHOWN,
        may_apply=policy.apply_schedules(p),
    )


@router.get("/schedules")
def schedules(request: Request, p: Principal = Depends(guard(policy.plan_schedules))) -> Response:
    return _page(request, p)


@router.post("/schedules/apply")
def apply(
    request: Request,
    p: Principal = Depends(guard(policy.apply_schedules)),
    form: Form = Depends(checked_form),
) -> Response:
    try:
        fresh = _files(request)
        if fingerprint({pid: proto.revision for pid, proto in fresh.protocols.items()}) != form.get(
            "fingerprint"
        ):
            return _page(request, p, status=409, notice="schedules.changed")
        applied = protocol_changes.apply(fresh, p)
    except FollowupError as refused:
        return page(
            request,
            p,
            "schedules.html",
            status=422,
            protocols=None,
            plan=None,
            problem=str(refused),
            applied=None,
            notice=None,
            fingerprint="",
            shown=PEOPLE_SHOWN,
            may_apply=True,
        )
    return _page(request, p, applied=applied)
