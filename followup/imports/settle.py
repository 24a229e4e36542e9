"""The end of a part of a load: plan its people once, match its interviews in memory.

Every follow-up is written once: the re-plan hands each person's follow-ups as they will
stand (new ones included) to `complete`, which marks those the part's interviews fulfil,
and only then are they written (followup.replan, `complete`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from followup.checks import nothing_asked, nothing_asked_problem
from followup.context import Context
from followup.db import executemany
from followup.enrol import protocol_for_enrolment
from followup.errors import InvalidRecord
from followup.imports.csvfile import Row
from followup.models import Interview
from followup.record import pick_followup
from followup.replan import iter_replan
from followup.schedule import COMPLETED, Stored


def settle(
    session: Session, ctx: Context, batch, now: datetime
) -> tuple[int, list[tuple[Row, str, str]]]:
    """Plan `batch.plan`, match and write `batch.interviews`. Returns how many people's
    follow-ups changed, and the interviews that could not be matched (row, column, why)."""
    waiting: dict[int, dict[int | None, list[tuple[Row, dict]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row, item in sorted(batch.interviews, key=lambda pair: pair[1]["conducted_on"]):
        waiting[item["participant_id"]][item["partner_id"]].append((row, item))
    matched: list[tuple[dict, Stored]] = []
    unmatched: list[tuple[Row, str, str]] = []

    def complete(participant_id: int, follow_ups: list[Stored]) -> None:
        theirs = waiting.get(participant_id)
        if not theirs:
            return
        # (subject, checkpoint) -> its follow-ups, and (subject, None) -> all of them: an
        # interview naming its checkpoint is matched among that checkpoint's alone (what
        # pick_followup would keep of all of them, in the same order).
        slots: dict[tuple[int | None, str | None], list[Stored]] = defaultdict(list)
        for f in follow_ups:
            slots[f.partner_key, None].append(f)
            slots[f.partner_key, f.checkpoint].append(f)
        for subject, items in theirs.items():
            for row, item in items:
                on = item["conducted_on"]
                checkpoint = item["checkpoint"]
                try:
                    slot = pick_followup(slots[subject, checkpoint or None], on, checkpoint)
                except InvalidRecord as exc:
                    unmatched.append((row, "checkpoint", str(exc)))
                    continue
                if (
                    slot is not None
                    and item.get("instrument_revision") is None
                    and nothing_asked(item)
                    and not item["nothing_asked_sealed"]
                ):
                    # An instrument's interview (import answers) was checked for an
                    # answer by its importer: its items need not be the columns below.
                    # followup.checks: an untouched form completes nothing (the reason
                    # goes in an optional nothing_asked column).
                    unmatched.append((row, "physical", nothing_asked_problem(slot.checkpoint)))
                    continue
                item["followup_id"] = None
                if slot is not None:
                    slot.status, slot.completed_on = COMPLETED, on
                    item["checkpoint"] = item["checkpoint"] or slot.checkpoint
                    matched.append((item, slot))

    replanned = sum(
        1
        for _ in iter_replan(
            session,
            sorted(batch.plan),
            protocol_for_enrolment(ctx, session),
            reason="imported",
            now=now,
            complete=complete,
            complete_for=set(waiting),
        )
    )
    for item, slot in matched:
        item["followup_id"] = slot.id  # known now: new follow-ups got theirs on insert
    if batch.interviews and not unmatched:
        for _, item in batch.interviews:
            item.setdefault("followup_id", None)
            # One statement for events' interviews and answers' (every row the same keys).
            item.setdefault("instrument", "core")
            item.setdefault("instrument_revision", None)
        executemany(
            session.connection(),
            Interview.__table__.insert(),
            [item for _, item in batch.interviews],
        )
    return replanned, unmatched
