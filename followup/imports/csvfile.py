"""Reading a CSV file and collecting its problems as `FILE:ROW: column: message`.

ROW is the line number a spreadsheet shows (the header is row 1), so a social worker
can go straight to the cell.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from followup.errors import CsvRejected, FollowupError
from followup.values import (
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_NOTES,
    MAX_SHORT,
    limit_length,
    parse_choice,
    refuse_control,
)

MAX_SHOWN = 50  # problems listed; the count of the rest follows
MAX_KEPT = 10_000  # problems kept to sort by row; a file of nothing but errors stays cheap
T = TypeVar("T")
# Columns holding an id (of a person, a site, a protocol or a checkpoint): at most MAX_ID
# characters; `name` MAX_NAME, `email` MAX_EMAIL, every other column MAX_SHORT.
ID_COLUMNS = frozenset(
    {
        "staff_id",
        "case_id",
        "partner_id",
        "site",
        "protocol",
        "checkpoint",
        "facilitator",
        "support_worker",
        "conducted_by",
    }
)


def column_limit(column: str) -> int:
    if column in ID_COLUMNS:
        return MAX_ID
    # `value` (answers.csv) holds a text item's words too: as long as a note may be.
    return {"name": MAX_NAME, "email": MAX_EMAIL, "value": MAX_NOTES}.get(column, MAX_SHORT)


@dataclass
class Row:
    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column) or ""


@dataclass
class Problems:
    path: str
    kept: list[tuple[int, int, str]] = field(default_factory=list)
    total: int = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append((row, self.total, f"{self.path}:{row}: {column}: {message}"))

    @property
    def items(self) -> list[str]:
        """The first problems in file order (checks run in several passes)."""
        return [text for _, _, text in sorted(self.kept)[:MAX_SHOWN]]

    def raise_if_any(self) -> None:
        if self.total:
            raise CsvRejected(self.path, self.items, self.total)


class Cells:
    """Typed access to one row's cells; a bad cell becomes a problem, not an exception."""

    __slots__ = ("row", "problems", "ok", "_values")

    def __init__(self, row: Row, problems: Problems) -> None:
        self.row, self.problems, self.ok = row, problems, True
        self._values = row.values  # read straight: a load reads millions of cells

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.add(self.row.number, column, message)

    def required(self, column: str, parse: Callable[[str], T] = str) -> T | None:
        text = self._values.get(column)
        if not text:
            self.fail(column, "required, but empty")
            return None
        return text if parse is str else self.parse(column, text, parse)

    def optional(self, column: str, parse: Callable[[str], T] = str) -> T | None:
        text = self._values.get(column)
        if not text:
            return None
        return text if parse is str else self.parse(column, text, parse)

    def parse(self, column: str, text: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(text)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None


class Choice:
    """A parser for a column of fixed choices, as `followup.values.parse_choice` reads it
    (stripped, any case). A cell already written as one of the choices is found in one
    set lookup; anything else goes through parse_choice, its normalising and its words."""

    __slots__ = ("choices", "what", "_exact")

    def __init__(self, choices: Iterable[str], what: str) -> None:
        self.choices, self.what = tuple(choices), what
        # Only choices parse_choice would return as they are (stripped, lower case).
        self._exact = frozenset(c for c in self.choices if c == c.strip().lower())

    def __call__(self, text: str) -> str:
        if text in self._exact:
            return text
        return parse_choice(text, self.choices, self.what)


def iter_rows(
    path: Path, required: Iterable[str], optional: Iterable[str], problems: Problems
) -> Iterator[Row]:
    """The data rows one at a time (a file of any size reads in constant memory).

    A header without the required columns raises at once; a bad row becomes a problem
    and is not yielded. Only the columns we read are kept, stripped."""
    columns: list[str] = []
    for number, values in iter_cells(path, required, optional, problems, columns):
        yield Row(number, dict(zip(columns, values, strict=True)))


def iter_cells(
    path: Path,
    required: Iterable[str],
    optional: Iterable[str],
    problems: Problems,
    columns: list[str],
) -> Iterator[tuple[int, list[str]]]:
    """`iter_rows` without the dicts: each row's number and its values, in the order of
    `columns`, which is filled in once the header is read (the columns the file has, in
    `required` + `optional` order, then those it lacks, which read as empty). A load
    that only passes the values on (followup.imports.load) need not build a row."""
    name = str(path)
    required = tuple(required)
    known = (*required, *optional)
    try:
        # utf-8-sig: spreadsheets save a byte-order mark that would otherwise stick to
        # the first column name.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [column.strip() for column in next(reader, [])]
            header_problems = Problems(name)
            _check_header(header, header_problems)
            for column in required:
                if column not in header:
                    header_problems.add(
                        1,
                        column,
                        "missing column in the header. Hint: the header must name "
                        + ", ".join(required),
                    )
            header_problems.raise_if_any()
            width = len(header)
            names = [column for column in known if column in header]
            positions = [header.index(column) for column in names]
            # Columns the file lacks read as empty, so every row has every known column
            # and a row's values can be written out as they are.
            absent = [column for column in known if column not in header]
            columns[:] = [*names, *absent]
            empty = [""] * len(absent)
            pick = itemgetter(*positions) if len(positions) > 1 else None
            for number, cells in enumerate(reader, start=2):
                if len(cells) != width:
                    if len(cells) > width:
                        problems.add(
                            number, "(row)", f"{len(cells)} cells, but the header has {width}"
                        )
                        continue
                    if not any(c.strip() for c in cells):
                        continue  # spreadsheets leave blank lines at the end
                    cells = cells + [""] * (width - len(cells))  # as csv.DictReader reads
                raw = pick(cells) if pick else [cells[at] for at in positions]
                joined = "".join(raw)
                # A cell we read that is not blank makes the row not blank: only a row
                # of blanks looks at every cell.
                if not joined.strip() and not any(c.strip() for c in cells):
                    continue
                # The common row is decided in C: printable ASCII and no cell longer than
                # an id may be (the shortest limit) leaves nothing to refuse, and with no
                # space in it (the only white space printable ASCII has) nothing to strip.
                if joined.isascii() and joined.isprintable() and max(map(len, raw)) <= MAX_ID:
                    values = list(raw) if " " not in joined else [c.strip() for c in raw]
                elif cells_are_clean(number, dict(zip(names, raw, strict=True)), problems):
                    values = [c.strip() for c in raw]
                else:
                    continue
                if empty:
                    values += empty
                yield number, values
    except FileNotFoundError:
        raise FollowupError(f"{name}: file not found; nothing was imported") from None
    except UnicodeDecodeError as exc:
        raise FollowupError(
            f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}); nothing was imported. "
            "Hint: save the sheet as 'CSV UTF-8'"
        ) from None
    except csv.Error as exc:
        raise FollowupError(
            f"{name}: not a readable CSV file ({exc}); nothing was imported"
        ) from None


def _check_header(header: list[str], problems: Problems) -> None:
    """A column named twice would be read from one of its copies, silently: refused."""
    first: dict[str, int] = {}
    for position, column in enumerate(header, start=1):
        if not column:
            continue  # spreadsheets add unnamed empty columns at the end
        if column in first:
            problems.add(
                1,
                column,
                f"the header names this column twice (columns {first[column]} and {position}). "
                "Hint: delete or rename one of them",
            )
        else:
            first[column] = position


def cells_are_clean(number: int, values: dict[str, str], problems: Problems) -> bool:
    """No control characters and no overlong value in the columns we read (the same rule
    as the CLI and the web, followup.values), checked before the cells are stripped."""
    clean = True
    for column, text in values.items():
        try:
            limit_length(refuse_control(text, "the cell").strip(), "the cell", column_limit(column))
        except ValueError as problem:
            problems.add(number, column, str(problem))
            clean = False
    return clean


def first_seen(problems: Problems, rows: Iterable[tuple[Row, Any]], column: str) -> set:
    """Flag repeated keys inside one file; returns the keys seen more than once."""
    seen: dict[Any, int] = {}
    repeated = set()
    for row, key in rows:
        if key is None:
            continue
        if key in seen:
            problems.add(row.number, column, f"{key!r} appears again (first on row {seen[key]})")
            repeated.add(key)
        else:
            seen[key] = row.number
    return repeated
