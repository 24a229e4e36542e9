"""The schedule engine: a pure function from a protocol and a person's dates to follow-ups.

Nothing here reads the database or the clock. `plan` says which follow-ups a person
should have given everything known today; `reconcile` compares that with the follow-ups
already stored and says what to add, move, cancel or leave alone. The database layer
(`followup.replan`) runs both after every event, and `schedule plan` shows their output
for a protocol change before `schedule apply` writes it.
"""

from __future__ import annotations

from bisect import bisect_left
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
    left = dates.left_early
    planned: list[Planned] = []
    for rule in _rules(protocol):
        anchor = anchors[rule.anchor]
        if anchor is None:
            continue
        stops = left and rule.stops_on_dropout
        if stops and rule.anchor in ("completion", "end_of_participation"):
            continue
        last = None
        if rule.repeats:
            # Repeats run while the programme runs: until participation ends (or is expected to).
            end = anchors["end_of_participation"]
            last = end.on if end is not None else None
        if rule.participant and not stops:
            planned.extend(rule.participant_items(anchor.on, last, anchor.provisional))
            continue
        timing = rule.timing(anchor.on, last)
        if stops:
            timing = _before(timing, dates.ended_on)
        if rule.participant:
            planned.extend(
                Planned(None, rule.name, number, due, opens, closes, anchor.provisional)
                for number, due, opens, closes in timing
            )
            continue
        for partner in partners:
            # Withdrawn consent: nothing from that day on. A window that had already
            # closed stays (missed or unreachable, followup.lost), so withdrawing cannot
            # shrink the follow-up rate's denominator after the fact. Do-not-contact has
            # no date: every pending contact goes.
            if partner.do_not_contact:
                continue
            stop_on = partner.consent_withdrawn_on
            consent_on = partner.consent_on
            if rule.needs_consent and consent_on is None:
                continue
            for number, due, opens, closes in timing:
                if stop_on is not None and closes >= stop_on:
                    continue
                # She cannot be followed up for a window that closed before she consented.
                if rule.needs_consent and closes < consent_on:
                    continue
                planned.append(
                    Planned(partner.key, rule.name, number, due, opens, closes, anchor.provisional)
                )
    return planned


def _before(timing: Sequence[tuple], ended_on: date) -> list[tuple]:
    """The occurrences whose window opened before he left (he had left before the rest
    were due); `timing` is in date order, as _Rule.timing gives it."""
    kept = []
    for item in timing:
        if item[2] >= ended_on:  # the day its window opens
            break
        kept.append(item)
    return kept


class _Rule:
    """A checkpoint as `plan` reads it, with the dates it gives memoised.

    A checkpoint's dates depend only on its anchor's date (and, for a repeat, the end of
    participation): an import plans a hundred thousand people over a few hundred
    distinct dates, so most people's dates are already known. The participant's own
    follow-ups (immutable) are kept too, to be shared."""

    MEMO = 65_536  # entries kept per checkpoint; a service planning for years starts over

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.name = checkpoint.name
        self.anchor = checkpoint.anchor
        self.participant = checkpoint.subject == "participant"
        self.needs_consent = checkpoint.needs_consent
        self.stops_on_dropout = checkpoint.on_dropout == "stop"
        self.offset = checkpoint.offset
        self.repeat_every = checkpoint.repeat_every
        self.repeats = checkpoint.repeat_every is not None
        self.before = timedelta(days=checkpoint.window_before_days)
        self.after = timedelta(days=checkpoint.window_after_days)
        self._timings: dict[date, tuple] = {}  # anchor date -> occurrences (a repeat's: a series)
        self._items: dict[tuple, tuple[Planned, ...]] = {}

    def timing(
        self, anchor_on: date, last: date | None
    ) -> tuple[tuple[int, date, date, date], ...]:
        """(occurrence, due, window opens, window closes) of each occurrence."""
        found = self._timings.get(anchor_on)
        if found is None:
            if len(self._timings) >= self.MEMO:
                self._timings.clear()
            if self.repeats:
                found = ((), ())  # a series of occurrences and their due dates, grown below
            else:
                due = self.offset.after(anchor_on)
                found = ((1, due, due - self.before, due + self.after),)
            self._timings[anchor_on] = found
        if not self.repeats:
            return found
        if last is None:
            return ()
        # A repeat runs from the anchor until participation ends (the end-of-programme
        # contact takes over on the last day): one series per anchor date, grown when a
        # later end needs more of it. Due dates only grow (repeat_every is positive).
        series, dues = found
        count = bisect_left(dues, last)
        if count == len(dues) and count < MAX_OCCURRENCES:
            # Grown into new tuples, then swapped in whole: a thread planning at the same
            # time sees the old series or the new one, never half of one.
            series, dues = self._grow(anchor_on, list(series), list(dues), last)
            self._timings[anchor_on] = (series, dues)
            count = bisect_left(dues, last)
        return series[:count]

    def _grow(self, anchor_on: date, series: list, dues: list[date], last: date) -> tuple:
        first = dues[0] if dues else self.offset.after(anchor_on)
        while len(dues) < MAX_OCCURRENCES and (not dues or dues[-1] < last):
            count = len(dues)
            due = self.repeat_every.after(first, count)
            dues.append(due)
            series.append((count + 1, due, due - self.before, due + self.after))
        return tuple(series), tuple(dues)

    def participant_items(
        self, anchor_on: date, last: date | None, provisional: bool
    ) -> tuple[Planned, ...]:
        key = (anchor_on, last, provisional)
        found = self._items.get(key)
        if found is None:
            if len(self._items) >= self.MEMO:
                self._items.clear()
            found = self._items[key] = tuple(
                Planned(None, self.name, number, due, opens, closes, provisional)
                for number, due, opens, closes in self.timing(anchor_on, last)
            )
        return found


_RULES: dict[int, tuple[Protocol, tuple[_Rule, ...]]] = {}  # id(protocol) -> its rules


def _rules(protocol: Protocol) -> tuple[_Rule, ...]:
    found = _RULES.get(id(protocol))
    if found is None or found[0] is not protocol:  # an id is reused once its object is gone
        if len(_RULES) >= 64:
            _RULES.clear()
        found = _RULES[id(protocol)] = (
            protocol,
            tuple(_Rule(checkpoint) for checkpoint in protocol.checkpoints),
        )
    return found[1]


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
