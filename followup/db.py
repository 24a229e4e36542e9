"""Engine and sessions. The one column type for instants, `UTCDateTime`, lives in
followup.coltypes (models import it from there, so models and db do not import each
other); it is re-exported here for the migrations that name it."""

from __future__ import annotations

import operator
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as _sqlite_dialects
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from followup.coltypes import UTCDateTime
from followup.data_version import track_writes

__all__ = ["UTCDateTime", "make_engine", "transaction"]

_SQLITE = _sqlite_dialects.dialect()


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database or an in-memory one."""
    parsed = sa.engine.make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):  # a URI filename (`?uri=true`)
        return None
    return Path(name)


def sqlite_files(url: str) -> list[Path]:
    """The database file and its write-ahead log and shared-memory index (which hold the
    same data), for a SQLite URL."""
    path = sqlite_file(url)
    if path is None:
        return []
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _create_private(path: Path) -> None:
    """Create an empty database file with mode 0600 before SQLite creates it 0644 (less
    the umask); SQLite gives its -wal and -shm files the mode of the database file."""
    if path.exists() or not path.parent.is_dir():
        return  # SQLite reports a missing folder itself, when it connects
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            _create_private(path)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _refuse_nested_transaction)  # before BEGIN is sent
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT and
        # write locking; let SQLAlchemy emit BEGIN itself (SQLAlchemy docs, "Serializable
        # isolation / Savepoints / Transactional DDL"). IMMEDIATE: take the write lock at
        # the start, waiting up to busy_timeout for it. A deferred transaction that reads
        # and then writes (a web page that audits a read, a report that audits its
        # export) fails at once with SQLITE_BUSY if another writer committed meanwhile,
        # and busy_timeout cannot help it.
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    track_writes(engine)  # cached reports are filed by the data version (followup.data_version)
    return engine


class NestedTransaction(RuntimeError):
    """A second transaction opened on a thread that has one open on the same database."""


_open_here = threading.local()


def _refuse_nested_transaction(conn: sa.Connection) -> None:
    """On SQLite a transaction opened while this thread has one open waits for the first
    one's write lock, which this thread holds: 30 s of the whole service standing still,
    then a failure. Fail at once instead, so the mistake shows in the first test that
    takes that path (the fix: finish the first transaction, then open the next, or pass
    its session along)."""
    mine = getattr(_open_here, "connections", None)
    if mine is None:
        mine = _open_here.connections = weakref.WeakSet()
    for other in list(mine):
        if other is not conn and other.engine is conn.engine and other.in_transaction():
            raise NestedTransaction(
                f"a transaction on {conn.engine.url.database} is already open on this thread; "
                "a second one would wait for its write lock. Finish the first one first"
            )
    mine.add(conn)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers (the web pages, reports) never block the writer (the dispatcher).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A 64 MB page cache (the default is 2 MB): imports and reports touch indexes far
    # larger than 2 MB, and random-order index inserts otherwise thrash the cache.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def executemany(conn: sa.Connection, statement: sa.Executable, rows: Sequence[Mapping]) -> None:
    """Run one INSERT or UPDATE for many rows, in bulk.

    SQLAlchemy's own executemany rebuilds a parameter dict per row through the full
    compiler, which costs more than SQLite's work itself on a 100,000-person import.
    Here the statement is compiled once, values fixed in the statement are converted
    once, and each row's values go through the bind processor SQLAlchemy would use (or
    an exact, faster equivalent for SQLite dates and instants, see `bind_processor`),
    then straight to the driver's executemany. Every row must have the same keys.
    """
    if not rows:
        return
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    varying, fixed = [], {}
    for name in names:
        bind = compiled.binds[name]
        process = bind_processor(bind.type, dialect)
        if bind.required:
            varying.append((name, _left_to_driver(bind.type, dialect, process)))
        else:  # written into the statement itself, e.g. .values(status="cancelled")
            value = bind.effective_value
            fixed[name] = process(value) if process is not None and value is not None else value

    if compiled.positional and not fixed:
        # Prepared rows in the statement's order, picked in C (itemgetter); only the
        # columns the driver cannot take as they are (instants) go through Python.
        pick = operator.itemgetter(*[name for name, _ in varying])
        if len(varying) == 1:
            single = pick
            pick = lambda row: (single(row),)  # noqa: E731
        processed = [(n, process) for n, (_, process) in enumerate(varying) if process]
        if not processed:
            params: list = list(map(pick, rows))
        elif len(processed) == 1:
            # One column to convert (a write stamp, usually): the row is the columns
            # before it, it, and the columns after it, each side picked in C.
            n, process = processed[0]
            name = varying[n][0]
            before = _picker([column for column, _ in varying[:n]])
            after = _picker([column for column, _ in varying[n + 1 :]])
            params = [
                (*before(row), None if row[name] is None else process(row[name]), *after(row))
                for row in rows
            ]
        else:
            params = []
            for row in rows:
                values = list(pick(row))
                for n, process in processed:
                    value = values[n]
                    if value is not None:
                        values[n] = process(value)
                params.append(tuple(values))
        conn.exec_driver_sql(compiled.string, params)
        return

    def convert(row: Mapping) -> dict:
        out = dict(fixed)
        for name, process in varying:
            value = row[name]
            out[name] = process(value) if process is not None and value is not None else value
        return out

    converted = [convert(row) for row in rows]
    if compiled.positional:
        params = [tuple(row[name] for name in names) for row in converted]
    else:
        params = converted
    conn.exec_driver_sql(compiled.string, params)


def _picker(names: list[str]) -> Callable[[Mapping], tuple]:
    """A function that picks `names` from a row as a tuple (of one or none too)."""
    if not names:
        return lambda _row: ()
    if len(names) == 1:
        (only,) = names
        return lambda row: (row[only],)
    return operator.itemgetter(*names)


def _left_to_driver(type_, dialect, process: Callable | None) -> Callable | None:
    """None where sqlite3 itself stores the value exactly as the processor would: a date
    through the adapter registered below (its ISO text), a bool as the integer 0 or 1."""
    if dialect.name == "sqlite" and (process is date.isoformat or isinstance(type_, sa.Boolean)):
        return None
    return process


# sqlite3's own adapter for dates (deprecated since Python 3.12) gives the same ISO text;
# this one is the C method itself, so a bulk write adapts dates without a Python call.
sqlite3.register_adapter(date, date.isoformat)


_UTC_TYPE = UTCDateTime()


@lru_cache(maxsize=4096)
def _sqlite_instant(value: datetime) -> str:
    # The format SQLAlchemy's SQLite DATETIME stores ("2026-03-29 01:30:00.000000").
    # Cached: a bulk write stamps most of its rows with the same instant.
    return _UTC_TYPE.process_bind_param(value, _SQLITE).isoformat(" ", "microseconds")


def bind_processor(type_: sa.types.TypeEngine, dialect) -> Callable | None:
    """SQLAlchemy's bind processor for `type_`, except on SQLite for plain dates and our
    instants, where SQLAlchemy formats in Python and `date.isoformat` (in C) gives the
    identical text several times faster. tests/test_storage.py checks they agree."""
    if dialect.name == "sqlite":
        if isinstance(type_, UTCDateTime):
            return _sqlite_instant
        if type(type_) is sa.Date:
            return date.isoformat
    return type_.dialect_impl(dialect).bind_processor(dialect)


def create_schema(engine: Engine) -> None:
    """Today's schema in an empty database, or an older one upgraded (followup.migrate)."""
    from followup.migrate import create_or_upgrade

    create_or_upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed whole, or rolled back whole on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def open_session(engine: Engine) -> Session:
    """A session that commits only when told (followup.demo manages its own commits)."""
    return Session(engine)


def safe_url(url: str) -> str:
    """The database URL as it may be shown: the password hidden."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def database_unavailable(exc: BaseException) -> bool:
    """The database went away, or stayed locked, in the middle of a command."""
    return isinstance(exc, sa.exc.OperationalError)


def code_point_order(column: sa.ColumnElement, dialect_name: str) -> sa.ColumnElement:
    """A text column as ORDER BY should read it to sort as Python sorts strings (by code
    point): SQLite's BINARY collation already does; PostgreSQL's default follows the
    locale (which skips punctuation), so it is asked for "C"."""
    return sa.collate(column, "C") if dialect_name == "postgresql" else column
