"""The outcome report as an operation: the edges (`followup report`, the Outcomes page)
call `outcome_report`, which holds the evaluator's rules before followup.report builds
and audits the export: only the sites granted, small counts suppressed unless an
administrator asks otherwise."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from followup.context import Context
from followup.errors import Forbidden, NotVisible
from followup.operations import policy
from followup.operations.policy import Principal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from followup.report import Report, ReportOptions
    from followup.report.cache import ReportCache


def outcome_report(
    session: Session,
    ctx: Context,
    p: Principal,
    options: ReportOptions,
    cache: ReportCache | None = None,
) -> Report:
    """The report `p` asked for, after the rules; from `cache` when given and the data
    has not changed since it was built (audited as an export either way)."""
    from followup.report import build_report

    if not policy.view_outcomes(p):
        raise Forbidden(f"{p.username} may not read outcomes")
    allowed = policy.outcome_sites(p, ctx.config.sites)
    if options.site is None and len(allowed) != len(ctx.config.sites):
        raise NotVisible(f"{p.username} may read outcomes only of {', '.join(allowed)}")
    if (
        options.site is not None
        and options.site in ctx.config.sites
        and options.site not in allowed
    ):
        raise NotVisible(f"{p.username} may read outcomes only of {', '.join(allowed)}")
    if not options.suppress and not policy.unsuppressed_outcomes(p):
        raise Forbidden(f"{p.username} may not read unsuppressed outcomes")
    options = replace(options, actor=p.actor)
    if cache is not None:
        return cache.report(ctx, session, options)
    return build_report(ctx, session, options)
