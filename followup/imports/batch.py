"""What the files of one load share while its parts are processed (followup.imports.load)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from followup.imports.csvfile import Row
from followup.models import Staff

IN_CHUNK = 2000  # values per IN (...) list: well inside every driver's parameter limit


@dataclass
class Batch:
    """What the files of one load share while its parts are processed."""

    staff: dict[str, Any] | None = None  # staff_id -> row, read once
    plan: set[int] = field(default_factory=set)  # this part's people to plan
    interviews: list[tuple[Row, dict]] = field(default_factory=list)  # to match after
    events: list[dict] = field(default_factory=list)  # written, for safety alerts
    answers: dict[str, Any] = field(default_factory=dict)  # import key -> answers to write

    def next_part(self) -> None:
        self.plan, self.interviews, self.events, self.answers = set(), [], [], {}

    def staff_rows(self, conn) -> dict[str, Any]:
        """Every member of staff (a few per hundred cases), read once per load."""
        if self.staff is None:
            table = Staff.__table__
            query = sa.select(table.c.id, table.c.staff_id, table.c.site_code, table.c.roles)
            self.staff = {r.staff_id: r for r in conn.execute(query)}
        return self.staff


def chunks(values: Iterable, size: int = IN_CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def rows_where_in(conn, query, column, values: Iterable) -> Iterator:
    """`query` run for `column IN values`, in chunks."""
    for chunk in chunks(sorted(set(values))):
        yield from conn.execute(query.where(column.in_(chunk)))
