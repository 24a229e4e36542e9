"""The schedule engine: a pure function from a protocol and a person's dates to follow-ups.

Nothing here reads the database or the clock. `plan` says which follow-ups a person
should have given everything known today; `reconcile` compares that with the follow-ups
already stored and says what to add, move, cancel or leave alone. The database layer
(`followup.replan`) runs both after every event, and `schedule plan` shows their output
for a protocol change before `schedule apply` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from followup.protocol import Checkpoint, Programme, Protocol

# A repeat "while the programme runs" can never need more than this; it guards
# against a nonsense protocol (repeat every day for ten years) filling the database.
MAX_OCCURRENCES = 120

PENDING = "scheduled"
COMPLETED = "completed"
MISSED = "missed"
CANCELLED = "cancelled"
UNREACHABLE = "unreachable"  # tried and lost to follow-up (followup.lost)
REFUSED = "refused"  # the person said no to this follow-up
FINAL = (COMPLETED, MISSED, UNREACHABLE, REFUSED)  # never altered by any plan


@dataclass(frozen=True)
class ParticipantDates:
    enrolled_on: date
    admitted_on: date | None = None
    programme_start_on: date | None = None
    completed_on: date | None = None
    ended_on: date | None = None  # dropped out, excluded or transferred (not completed)

    @property
    def left_early(self) -> bool:
        return self.completed_on is None and self.ended_on is not None


@dataclass(frozen=True)
class PartnerState:
    key: int  # the partner's database id
    consent_on: date | None = None
    consent_withdrawn_on: date | None = None
    do_not_contact: bool = False

    @property
    def reachable(self) -> bool:
        return not self.do_not_contact and self.consent_withdrawn_on is None


@dataclass(frozen=True)
class AnchorDate:
    on: date
    provisional: bool  # estimated from the protocol's expected gaps, not yet recorded


@dataclass(frozen=True, slots=True)
class Planned:
    partner_key: int | None  # None: the participant himself
    checkpoint: str
    occurrence: int  # 1, 2, ... for a repeating checkpoint; 1 otherwise
    due_on: date
    window_opens_on: date
    window_closes_on: date
    provisional: bool

    @property
    def slot(self) -> tuple[int | None, str, int]:
        return (self.partner_key, self.checkpoint, self.occurrence)

    @property
    def subject(self) -> str:
        return "participant" if self.partner_key is None else "partner"


@dataclass(slots=True)
class Stored:
    """The part of a stored follow-up that reconciling needs. Mutable: after a re-plan the
    events import applies the changes and then matches interviews to these very objects."""

    id: int
    partner_key: int | None
    checkpoint: str
    occurrence: int
    due_on: date
    window_opens_on: date
    window_closes_on: date
    status: str
    provisional: bool = False
    completed_on: date | None = None

    @property
    def slot(self) -> tuple[int | None, str, int]:
        return (self.partner_key, self.checkpoint, self.occurrence)


@dataclass
class Changes:
    add: list[Planned] = field(default_factory=list)
    reinstate: list[tuple[Stored, Planned]] = field(default_factory=list)  # cancelled, due again
    move: list[tuple[Stored, Planned]] = field(default_factory=list)
    settle: list[tuple[Stored, Planned]] = field(default_factory=list)  # same dates, now certain
    cancel: list[Stored] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.reinstate or self.move or self.settle or self.cancel)

    @property
    def visible(self) -> bool:
        """Whether a person would notice: settling a provisional date changes nothing they see."""
        return bool(self.add or self.reinstate or self.move or self.cancel)


def anchor_dates(programme: Programme, dates: ParticipantDates) -> dict[str, AnchorDate | None]:
    """Each anchor's date: recorded if known, else expected from the one before it.

    A man who left early never reaches the anchors after the day he left.
    """
    left = dates.left_early

    def actual_or_expected(
        recorded: date | None, before: AnchorDate | None, gap
    ) -> AnchorDate | None:
        if recorded is not None:
            return AnchorDate(recorded, False)
        if left or before is None:
            return None
        return AnchorDate(gap.after(before.on), True)

    enrolment = AnchorDate(dates.enrolled_on, False)
    admission = actual_or_expected(dates.admitted_on, enrolment, programme.admission_after)
    start = actual_or_expected(dates.programme_start_on, admission, programme.start_after)
    completion = actual_or_expected(dates.completed_on, start, programme.length)
    if dates.completed_on is None and dates.ended_on is not None:
        end = AnchorDate(dates.ended_on, False)
    else:
        end = completion
    return {
        "enrolment": enrolment,
        "admission": admission,
        "programme_start": start,
        "completion": completion,
        "end_of_participation": end,
    }


def plan(
    protocol: Protocol, dates: ParticipantDates, partners: Iterable[PartnerState] = ()
) -> list[Planned]:
    """Every follow-up this person (and each partner) should have, past and future."""
    anchors = anchor_dates(protocol.programme, dates)
    partners = list(partners)
    planned: list[Planned] = []
    for checkpoint in protocol.checkpoints:
        if checkpoint.subject == "participant":
            planned.extend(_occurrences(checkpoint, anchors, dates, None))
            continue
        for partner in partners:
            # Withdrawn consent: nothing from that day on. A window that had already
            # closed stays (missed or unreachable, followup.lost), so withdrawing cannot
            # shrink the follow-up rate's denominator after the fact. Do-not-contact has
            # no date: every pending contact goes.
            stop_on = partner.consent_withdrawn_on
            if partner.do_not_contact:
                continue
            if checkpoint.needs_consent and partner.consent_on is None:
                continue
            for item in _occurrences(checkpoint, anchors, dates, partner.key):
                if stop_on is not None and item.window_closes_on >= stop_on:
                    continue
                # She cannot be followed up for a window that closed before she consented.
                if checkpoint.needs_consent and item.window_closes_on < partner.consent_on:
                    continue
                planned.append(item)
    return planned


def _occurrences(
    checkpoint: Checkpoint,
    anchors: dict[str, AnchorDate | None],
    dates: ParticipantDates,
    partner_key: int | None,
) -> list[Planned]:
    anchor = anchors[checkpoint.anchor]
    if anchor is None:
        return []
    stops = checkpoint.on_dropout == "stop" and dates.left_early
    if stops and checkpoint.anchor in ("completion", "end_of_participation"):
        return []
    first = checkpoint.offset.after(anchor.on)
    dues = [first]
    if checkpoint.repeat_every is not None:
        # Repeats run while the programme runs: until participation ends (or is expected to).
        end = anchors["end_of_participation"]
        last = end.on if end is not None else first
        dues = []
        for times in range(MAX_OCCURRENCES):
            due = checkpoint.repeat_every.after(first, times)
            if due >= last:
                break  # the end-of-programme contact takes over on the last day
            dues.append(due)
    provisional = anchor.provisional
    items = []
    for number, due in enumerate(dues, start=1):
        opens = due - timedelta(days=checkpoint.window_before_days)
        if stops and opens >= dates.ended_on:
            break  # he had left before this one was due
        closes = due + timedelta(days=checkpoint.window_after_days)
        items.append(Planned(partner_key, checkpoint.name, number, due, opens, closes, provisional))
    return items


def reconcile(stored: Sequence[Stored], planned: Sequence[Planned]) -> Changes:
    """What to do to the stored follow-ups so they match the plan.

    Completed and missed follow-ups are history and never change. A pending follow-up
    that is no longer planned is cancelled; a cancelled one that is planned again is
    reinstated rather than duplicated.
    """
    wanted = {item.slot: item for item in planned}
    changes = Changes()
    seen: set[tuple[int | None, str, int]] = set()
    for row in stored:
        seen.add(row.slot)
        target = wanted.get(row.slot)
        if row.status in FINAL:
            continue
        if row.status == CANCELLED:
            if target is not None:
                changes.reinstate.append((row, target))
            continue
        if target is None:
            changes.cancel.append(row)
        elif (row.due_on, row.window_opens_on, row.window_closes_on) != (
            target.due_on,
            target.window_opens_on,
            target.window_closes_on,
        ):
            changes.move.append((row, target))
        elif row.provisional != target.provisional:
            changes.settle.append((row, target))
    changes.add = [item for slot, item in wanted.items() if slot not in seen]
    return changes
