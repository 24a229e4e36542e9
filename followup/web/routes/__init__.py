"""The web's routers, one module per area. Each route names its policy rule in its guard."""

from __future__ import annotations

from followup.web.routes import (
    account,
    alerts,
    audit_log,
    calendar,
    casework,
    corrections,
    followups,
    login,
    outcomes,
    people,
    schedules,
    staff_accounts,
    worklists,
)

ROUTERS = (
    login.router,
    account.router,
    worklists.router,  # before followups: /followups/mark-missed is not an id
    followups.router,
    casework.router,  # before people: its paths extend people's `{id:path}` ones
    people.router,
    alerts.router,
    outcomes.router,
    schedules.router,
    staff_accounts.router,
    audit_log.router,
    calendar.router,
    corrections.router,
)
