"""Her safe-contact plan as stored on the partner row: opened and sealed with the vault.

The one place that knows where the plan lives (`Partner.plan_sealed`, with
`plan_confirmed_on` beside it in clear). Operations call these after the policy has said
the reader may see her (her worker, a supervisor, an admin); nothing here checks that.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from followup.safe_contact import CHANNEL_DETAIL, SafeContactPlan, parse_safe_times


class _Vault(Protocol):
    def seal(self, value: Any) -> bytes | None: ...
    def open(self, token: bytes | None) -> Any: ...


def plan_of(vault: _Vault, partner: Any) -> SafeContactPlan | None:
    """Her plan, or None when nothing about contacting her was ever recorded. A record
    made before plans existed reads as a plan from its channel and safe hours."""
    if getattr(partner, "plan_sealed", None) is not None:
        return SafeContactPlan.from_json(vault.open(partner.plan_sealed))
    safe_hours = getattr(partner, "safe_hours", None)
    channel = getattr(partner, "channel", None)
    if not safe_hours and not channel:
        return None
    contact = vault.open(partner.contact_sealed) or {} if partner.contact_sealed else {}
    channels = {channel: contact.get(CHANNEL_DETAIL.get(channel, ""), "")} if channel else {}
    return SafeContactPlan(channels=channels, windows=parse_safe_times(safe_hours))


def seal_plan(vault: _Vault, plan: SafeContactPlan) -> dict[str, Any]:
    """The partner columns that store `plan`: set them on the row (or in a bulk write)."""
    return {"plan_sealed": vault.seal(plan.to_json()), "plan_confirmed_on": plan.confirmed_on}


def plan_confirmed_on(partner: Any) -> date | None:
    return getattr(partner, "plan_confirmed_on", None)
