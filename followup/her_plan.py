"""Her safe-contact plan as stored on the partner row: opened and sealed with the vault.

The one place that knows where the plan lives (`Partner.plan_sealed`, with
`plan_confirmed_on` beside it in clear). Operations call these after the policy has said
the reader may see her (her worker, a supervisor, an admin); nothing here checks that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from followup.errors import InvalidRecord
from followup.safe_contact import (
    CHANNEL_DETAIL,
    PLAN_CHANNELS,
    SafeContactPlan,
    needs_confirming,  # noqa: F401  (re-exported: the rule lives with the plan)
    parse_plan_text,
    parse_safe_times,
)
from followup.values import parse_email, parse_phone


class _Vault(Protocol):
    def seal(self, value: Any) -> bytes | None: ...
    def open(self, token: bytes | None) -> Any: ...


def plan_of(vault: _Vault, partner: Any) -> SafeContactPlan | None:
    """Her plan, or None when none was ever recorded (migration 0009_plan sealed one
    for every partner who had a channel or safe hours before plans existed)."""
    if getattr(partner, "plan_sealed", None) is None:
        return None
    return SafeContactPlan.from_json(vault.open(partner.plan_sealed))


def seal_plan(vault: _Vault, plan: SafeContactPlan) -> dict[str, Any]:
    """The partner columns that store `plan`: set them on the row (or in a bulk write)."""
    return {"plan_sealed": vault.seal(plan.to_json()), "plan_confirmed_on": plan.confirmed_on}


# --- a plan from what a form or a file row says ------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """What a form or a file row says about her plan, before it is checked."""

    channels: tuple[str, ...] = ()
    details: dict[str, str] | None = None  # channel -> number or address typed for it
    safe_times: str = ""
    voicemail_ok: bool = False
    may_name_organisation: bool = False
    code_word: str = ""
    if_someone_else_answers: str = ""


def build_plan(
    given: PlanInput, contact: dict, confirmed_on: date | None = None, keep: dict | None = None
) -> SafeContactPlan:
    """The plan from checked-by-field input (pure). A channel's number or address is the
    one typed for it, else the one the plan had (`keep`), else her contact details'; a
    channel with none is refused, naming the field."""
    channels: dict[str, str] = {}
    for channel in given.channels:
        if channel not in PLAN_CHANNELS:
            raise InvalidRecord(
                f"allowed_channels: unknown channel {channel!r}; expected one or more of "
                f"{', '.join(PLAN_CHANNELS)}"
            )
        typed = ((given.details or {}).get(channel) or "").strip()
        detail = typed or (keep or {}).get(channel) or contact.get(CHANNEL_DETAIL[channel]) or ""
        if typed:
            detail = _checked_detail(channel, typed)
        if not detail and CHANNEL_DETAIL[channel] != "address":  # a visit may be at the centre
            raise InvalidRecord(
                f"allowed_channels: {channel} is allowed but she has no "
                f"{CHANNEL_DETAIL[channel]} on file; give it or untick {channel}"
            )
        channels[channel] = detail
    try:
        windows = parse_safe_times(given.safe_times)
    except ValueError as problem:
        raise InvalidRecord(f"safe_times: {problem}") from None
    try:
        code_word = parse_plan_text(given.code_word, "code_word")
        if_else = parse_plan_text(given.if_someone_else_answers, "if_someone_else_answers")
    except ValueError as problem:
        raise InvalidRecord(str(problem)) from None
    return SafeContactPlan(
        channels=channels,
        windows=windows,
        voicemail_ok=given.voicemail_ok,
        may_name_organisation=given.may_name_organisation,
        code_word=code_word,
        if_someone_else_answers=if_else,
        confirmed_on=confirmed_on,
    )


def _checked_detail(channel: str, typed: str) -> str:
    kind = CHANNEL_DETAIL[channel]
    try:
        if kind == "phone":
            return parse_phone(typed) or ""
        if kind == "email":
            return parse_email(typed) or ""
        return parse_plan_text(typed, f"{channel} address")
    except ValueError as problem:
        raise InvalidRecord(f"detail_{channel}: {problem}") from None
