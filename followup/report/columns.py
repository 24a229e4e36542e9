"""Reading columns, not objects: Core selects streamed from the driver into numpy arrays.

The selects are built with SQLAlchemy Core and compiled for the connection's dialect, then
run on the transaction's own DBAPI connection and fetched in chunks of plain tuples (a
server-side cursor on PostgreSQL, so a million rows never sit in memory twice). Rows
never become `Row` objects: at ten million rows that alone would cost more than the
database's own work.

Every selected value is a number: dates are whole days since 1970-01-01 (computed by the
database), text is coded into small integers by the database (`coded`), booleans are
0/1, and NULL arrives as NaN.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

CHUNK = 100_000
_cursor_names = itertools.count(1)


class epoch_day(FunctionElement):  # noqa: N801  (reads as the SQL function it stands for)
    """Days since 1970-01-01 of a DATE column; NULL stays NULL."""

    type = sa.Integer()
    inherit_cache = True
    name = "epoch_day"


@compiles(epoch_day, "sqlite")
def _epoch_day_sqlite(element, compiler, **kw) -> str:
    # Dates are stored as 'YYYY-MM-DD' text; julianday('1970-01-01') is 2440587.5.
    (column,) = element.clauses
    return f"CAST(julianday({compiler.process(column, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(epoch_day, "postgresql")
def _epoch_day_postgresql(element, compiler, **kw) -> str:
    (column,) = element.clauses
    return f"({compiler.process(column, **kw)} - DATE '1970-01-01')"


@compiles(epoch_day)
def _epoch_day_other(element, compiler, **kw) -> str:
    raise NotImplementedError(f"epoch_day is not written for {compiler.dialect.name}")


class scanned(FunctionElement):  # noqa: N801
    """A column that must not be looked up through an index.

    The report reads most of a table, and SQLite's planner (once ANALYZE has run) may
    choose a skip-scan of an index on (status, due_on) for "due_on <= ?", then fetch
    seven rows in ten one by one: ten times slower than reading the table. SQLite's unary
    `+` disqualifies a term from index use; elsewhere this is the plain column.
    """

    inherit_cache = True
    name = "scanned"

    @property
    def type(self):  # type: ignore[override]
        return self.clauses.clauses[0].type


@compiles(scanned, "sqlite")
def _scanned_sqlite(element, compiler, **kw) -> str:
    (column,) = element.clauses
    return f"+{compiler.process(column, **kw)}"


@compiles(scanned)
def _scanned_other(element, compiler, **kw) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


def coded(column: sa.ColumnElement, labels: Sequence[str]) -> sa.ColumnElement:
    """Text as its position in `labels`; NULL as NULL, anything else as len(labels)."""
    if not labels:
        return sa.case((column.is_(None), sa.null()), else_=0)
    return sa.case(
        (column.is_(None), sa.null()),
        *((column == label, i) for i, label in enumerate(labels)),
        else_=len(labels),
    )


def flag(condition: sa.ColumnElement) -> sa.ColumnElement:
    """1 where `condition` holds, else 0."""
    return sa.case((condition, 1), else_=0)


def day_number(day: date) -> int:
    """The same count of days for a Python date, to compare with the columns."""
    return int(np.datetime64(day, "D").astype(np.int64))


def as_codes(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """A coded column as integers, NULL (NaN) as -1."""
    return np.where(np.isnan(values), -1, values).astype(np.int64)


def fetch(conn: sa.Connection, query: sa.Select) -> NDArray[np.float64]:
    """Every row of `query` as one row of a float array (NULL as NaN), read in chunks."""
    width = len(query.selected_columns)
    dialect = conn.dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = {name: _driver_value(value, dialect) for name, value in compiled.params.items()}
    params = tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
    dbapi = conn.connection.dbapi_connection
    if dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"followup_report_{next(_cursor_names)}")
        cursor.itersize = CHUNK
    else:
        cursor = dbapi.cursor()
    chunks = []
    try:
        cursor.execute(compiled.string, params)
        while rows := cursor.fetchmany(CHUNK):
            chunks.append(np.array(rows, dtype=np.float64).reshape(len(rows), width))
    finally:
        cursor.close()
    return np.concatenate(chunks) if chunks else np.empty((0, width))


def _driver_value(value, dialect):
    # SQLite stores dates as ISO text (SQLAlchemy's Date type does the same on write);
    # psycopg adapts dates itself.
    if dialect.name == "sqlite" and isinstance(value, date):
        return value.isoformat()
    return value
