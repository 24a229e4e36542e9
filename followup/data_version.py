"""The data version: a number that changes whenever a row a report may read changes.

The Outcomes page keeps built reports in memory by (options, data version)
(followup.report.cache). For that to be correct the version must move with every write,
whoever makes it: the web, the CLI in another process, an import, the service. So it
lives in the database (the one-row table `data_version`) and is bumped by the engine, not
by each operation: every engine is made by followup.db.make_engine, which calls
`track_writes`, so every INSERT, UPDATE or DELETE sent through SQLAlchemy (ORM flushes,
Core statements, followup.db.executemany) is seen.

How: a transaction that sent a write to a table a report may read bumps the version once,
as its last statement before COMMIT, on the same connection. The bump therefore commits
or rolls back with the data, atomically, so a reader that sees the new rows sees the new
version. A reader reads the version before it reads the data (see `current`), so what it
builds is at least as new as the version it files it under: never older. Once per
transaction, not per row, so a 1,000,000-row import pays one statement; and the row is
locked only between that statement and COMMIT, so on PostgreSQL concurrent writers wait
on each other for an instant, never mid-transaction (no deadlock with their other locks).

Writes to the tables no report reads (the audit trail, web sessions, login failures, the
outbox and the dispatch watermark, user accounts) do not count: a page view writes its
audit line and its session, and must not make every cached report stale. Every other
table counts, including tables added later, so a new table read by a report is covered
without anyone remembering to list it. Schema changes (CREATE, ALTER, DROP) do not bump:
a migration needs a restart of the service, which empties the in-memory cache anyway.

Not seen: a write made outside followup (psql, the sqlite3 shell) or through the raw
driver connection (e.g. psycopg's COPY). Such code must call `changed(connection)` in its
transaction. After a hand edit, a kept report is built again within ten minutes (the
cache's age limit); restart the web service to see it sooner.
"""

from __future__ import annotations

import re
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine

TABLE = "data_version"
# Tables no report reads; writes to them leave the version alone.
UNREAD = frozenset(
    {
        "audit",
        "web_session",
        "login_failure",
        "outbox",
        "dispatch_watermark",
        "user_account",
        TABLE,
        "alembic_version",
    }
)
_FLAG = "followup_data_written"
_WRITE = re.compile(r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE|UPSERT|MERGE|TRUNCATE)\b", re.I)
_WITH_WRITE = re.compile(r"^\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b", re.I | re.S)
_TARGET = re.compile(
    r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?',
    re.I,
)
_BUMP = (
    f"INSERT INTO {TABLE} (id, version) VALUES (1, 1) "
    f"ON CONFLICT (id) DO UPDATE SET version = {TABLE}.version + 1"
)


def writes_read_data(statement: str) -> bool:
    """Whether `statement` may change a row some report reads (when unsure: yes)."""
    if not (_WRITE.match(statement) or _WITH_WRITE.match(statement)):
        return False  # SELECT, PRAGMA, SAVEPOINT, DDL ...
    target = _TARGET.match(statement)
    return target is None or target.group(1).lower() not in UNREAD


def track_writes(engine: Engine) -> None:
    """Make every transaction on `engine` that writes report data bump the version."""
    sa.event.listen(engine, "before_cursor_execute", _seen)
    sa.event.listen(engine, "begin", _forget)
    sa.event.listen(engine, "rollback", _forget)
    sa.event.listen(engine, "commit", _bump_if_written)


def changed(connection: sa.Connection) -> None:
    """Count this transaction as a write (for writes SQLAlchemy does not see)."""
    connection.info[_FLAG] = True


def current(connection: sa.Connection) -> int:
    """The data version this transaction sees. Read it before the data it describes."""
    if not _has_table(connection.engine, connection.connection.dbapi_connection):
        return 0
    value = connection.exec_driver_sql(f"SELECT version FROM {TABLE} WHERE id = 1").scalar()
    return int(value or 0)


def _seen(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if writes_read_data(statement):
        conn.info[_FLAG] = True


def _forget(conn) -> None:
    conn.info.pop(_FLAG, None)


def _bump_if_written(conn) -> None:
    if not conn.info.pop(_FLAG, False):
        return
    dbapi = conn.connection.dbapi_connection
    if not _has_table(conn.engine, dbapi):
        return  # a database older than this table (being migrated): nothing caches it yet
    # The raw driver cursor: this runs inside SQLAlchemy's commit, in the same transaction.
    cursor = dbapi.cursor()
    try:
        cursor.execute(_BUMP)
    finally:
        cursor.close()


_KNOWN: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose database has the table


def _has_table(engine: Engine, dbapi) -> bool:
    if engine in _KNOWN:
        return True
    if engine.dialect.name == "sqlite":
        query = f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'"
    else:
        query = f"SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = '{TABLE}'"
    cursor = dbapi.cursor()
    try:
        cursor.execute(query)
        found = cursor.fetchone() is not None
    finally:
        cursor.close()
    if found:
        _KNOWN.add(engine)
    return found
