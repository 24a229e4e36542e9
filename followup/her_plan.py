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


@dataclass(frozen=True)
class FilePlanOutcome:
    plan: SafeContactPlan | None  # the plan to store
    kept_worker_change: bool  # the file's plan differed, and her worker's newer one stays


def plan_from_file(
    stored: SafeContactPlan | None, from_file: SafeContactPlan | None, says_plan: bool
) -> FilePlanOutcome:
    """Which plan a partners-file row leaves on her record (pure).

    A file is often an old spreadsheet exported again. It must never quietly put back a
    number he has found or a time that is no longer safe:
    - a row whose plan columns are all empty (`says_plan` False) leaves a stored plan as
      it is (its `channel` column alone does not replace her plan);
    - a row whose plan differs from the stored one replaces it, unless her worker changed
      or confirmed the stored plan (`worker_changed_on`) on or after the row's
      `plan_confirmed_on` (a row without a date is older than any such change): then
      her worker's plan stays, and the import says so;
    - an empty `plan_confirmed_on` keeps the date already recorded (a file does not
      unconfirm a plan), and the same plan with a later date in the file is confirmed
      as of that date."""
    if stored is None:
        return FilePlanOutcome(from_file, False)
    if from_file is None or not says_plan:
        return FilePlanOutcome(stored, False)
    if from_file.same_content(stored):
        later = max(filter(None, (stored.confirmed_on, from_file.confirmed_on)), default=None)
        if later == stored.confirmed_on:
            return FilePlanOutcome(stored, False)  # nothing to write
        return FilePlanOutcome(stored.confirmed(later), False)
    changed = stored.worker_changed_on
    if changed is not None and (
        from_file.confirmed_on is None or from_file.confirmed_on <= changed
    ):
        return FilePlanOutcome(stored, True)
    if from_file.confirmed_on is None and stored.confirmed_on is not None:
        from_file = from_file.confirmed(stored.confirmed_on)
    return FilePlanOutcome(from_file, False)


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
