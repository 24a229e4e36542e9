"""The web's routers, one module per area. Each route names its policy rule in its guard."""

from __future__ import annotations

from followup.web.routes import (
    account,
    alerts,
    audit_log,
    calendar,
    corrections,
    followups,
    login,
    outcomes,
    people,
    schedules,
)

ROUTERS = (
    login.router,
    account.router,
    followups.router,
    people.router,
    alerts.router,
    outcomes.router,
    schedules.router,
    audit_log.router,
    calendar.router,
    corrections.router,
)
