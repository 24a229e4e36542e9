"""The report's `data_quality` section: people whose status record breaks a rule.

A record that contradicts itself (an ending before the admission, a completion with no
admission; see followup.checks) must never take the report down, nor quietly distort
it: each such person is left out of the measures his record would distort (the rule
says which) and counted here, rule by rule. `followup doctor` lists the same problems
with what to fix; the rules and their masks come from followup.checks, so the two agree.

Its counts are counts of people like any other, so an evaluator sees them under the
same small-cell rule (a count below the threshold, zero included, reads `<5`); the case
ids are shown only in an unsuppressed (administrators') report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray

from followup.checks import DESCRIPTIONS, STATUS_MEASURES, STATUS_RULES, status_masks
from followup.models import Participant
from followup.report.disclosure import Disclosure
from followup.report.queries import DATE_COLUMNS, People
from followup.report.sections import DataQuality, LeftOut, Problem

HINT = "run `followup doctor` for each problem and how to fix it"


@dataclass
class Quality:
    by_rule: dict[str, NDArray[np.bool_]]  # who breaks each rule
    left_out: dict[str, NDArray[np.bool_]]  # who each measure leaves out

    def people_for(self, people: People, measure: str) -> People:
        out = self.left_out[measure]
        return people.where(~out) if out.any() else people


def assess(people: People) -> Quality:
    """Which people break which rule, as of the report's date (a date after it is not
    known yet, so it breaks nothing yet)."""
    end_reason_known = (people.end_reason >= 0) & (
        people.end_reason < len(people.labels.end_reasons)
    )
    by_rule = status_masks({name: getattr(people, name) for name in DATE_COLUMNS}, end_reason_known)
    left_out = {}
    for measure in STATUS_MEASURES:
        out = np.zeros(len(people), dtype=bool)
        for rule, measures in STATUS_RULES.items():
            if measure in measures:
                out |= by_rule[rule]
        left_out[measure] = out
    return Quality(by_rule, left_out)


def section(
    conn: sa.Connection, people: People, quality: Quality, d: Disclosure, *, cases: bool
) -> DataQuality:
    """The report's section; `cases`: name the case ids (administrators only)."""
    anyone = np.zeros(len(people), dtype=bool)
    for mask in quality.by_rule.values():
        anyone |= mask
    names = _case_ids(conn, people.id[anyone]) if cases else {}
    problems: dict[str, Problem] = {}
    for rule, mask in quality.by_rule.items():
        problems[rule] = Problem(
            people=d.count(int(mask.sum())),
            description=DESCRIPTIONS[rule],
            left_out_of=list(STATUS_RULES[rule]),
            case_ids=sorted(names[int(i)] for i in people.id[mask]) if cases else None,
        )
    return DataQuality(
        people=d.count(int(anyone.sum())),
        left_out=LeftOut(**{m: d.count(int(mask.sum())) for m, mask in quality.left_out.items()}),
        problems=problems,
        hint=HINT,
    )


def _case_ids(conn: sa.Connection, ids: NDArray[np.int64]) -> dict[int, str]:
    p = Participant.__table__
    found: dict[int, str] = {}
    wanted = [int(i) for i in ids]
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        found.update(conn.execute(sa.select(p.c.id, p.c.case_id).where(p.c.id.in_(chunk))).all())
    return found
