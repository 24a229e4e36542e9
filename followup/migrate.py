"""Schema migrations: create, upgrade and check the database's schema (Alembic).

The history lives in followup/migrations/versions. A database made before migrations
existed (release 0.1.0, built by `create_all`) has the baseline's tables but no
`alembic_version`; it is stamped at the baseline and upgraded from there, rows kept.

An empty database is built the way Alembic's cookbook recommends ("Building an Up to
Date Database from Scratch"): `create_all` and a stamp at head. tests/test_migrations.py
holds that this is the schema the migrations produce, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from followup.errors import ConfigError

BASELINE = "0001"
SCRIPT_LOCATION = "followup:migrations"
# A table every followup database has had since the first release.
_MARKER_TABLE = "participant"


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no alembic_version (empty, or made before migrations)
    head: str
    has_tables: bool

    @property
    def empty(self) -> bool:
        return not self.has_tables

    @property
    def unversioned(self) -> bool:
        """Made by release 0.1.0 (create_all), before migrations existed."""
        return self.has_tables and self.current is None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(connection: sa.Connection | None = None, vault: Any = None) -> AlembicConfig:
    """`vault` (followup.crypto.Vault) lets a data migration seal partner data
    (0009_plan seals her safe-contact plan); a migration that needs it and finds none
    stops with a one-line hint."""
    config = AlembicConfig()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    if vault is not None:
        config.attributes["vault"] = vault
    return config


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return script().get_current_head()


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        has_tables = sa.inspect(conn).has_table(_MARKER_TABLE)
    return SchemaState(current=current, head=head(), has_tables=has_tables)


def create_or_upgrade(engine: Engine, vault: Any = None) -> tuple[SchemaState, SchemaState]:
    """What `followup init` does: an empty database gets today's schema, an older one
    is upgraded. Returns the state before and after."""
    before = state(engine)
    if before.empty:
        _create_at_head(engine)
    elif not before.up_to_date:
        upgrade(engine, vault=vault)
    return before, state(engine)


def upgrade(engine: Engine, revision: str = "head", vault: Any = None) -> None:
    before = state(engine)
    if before.empty:
        raise ConfigError(
            f"{_url(engine)}: the database has no followup tables. "
            "Hint: run `followup init` to create them"
        )
    _refuse_unknown(engine, before)
    with _migration_connection(engine) as conn:
        config = alembic_config(conn, vault)
        if before.unversioned:
            command.stamp(config, BASELINE)
        command.upgrade(config, revision)


def require_current(engine: Engine, config_path: object) -> None:
    """Refuse to work on a database whose schema is not the code's."""
    now = state(engine)
    if now.empty:
        raise ConfigError(
            f"{config_path}: database.url: the database has no followup tables. "
            "Hint: run `followup init` first"
        )
    _refuse_unknown(engine, now)
    if not now.up_to_date:
        at = now.current or f"{BASELINE} (made before migrations)"
        raise ConfigError(
            f"{config_path}: database.url: the database schema is at revision {at}, this "
            f"version of followup needs {now.head}. Hint: back the database up, then run "
            "`followup db upgrade`"
        )


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down revision, message), oldest first."""
    revisions = list(script().walk_revisions())
    revisions.reverse()
    return [(r.revision, r.down_revision, (r.doc or "").strip()) for r in revisions]


def _refuse_unknown(engine: Engine, now: SchemaState) -> None:
    if now.current is not None and now.current not in {r for r, _, _ in history()}:
        raise ConfigError(
            f"{_url(engine)}: the database schema is at revision {now.current}, which this "
            "version of followup does not know: it was upgraded by a newer release. "
            "Hint: run the newer release, or restore the backup made before the upgrade"
        )


def _create_at_head(engine: Engine) -> None:
    from sqlmodel import SQLModel

    import followup.models  # noqa: F401  (registers the tables)

    with engine.begin() as conn:
        SQLModel.metadata.create_all(conn)
        command.stamp(alembic_config(conn), "head")


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction for the whole upgrade. On SQLite, foreign keys are switched off
    around it: batch migrations copy and drop tables, and with foreign keys on, dropping
    a referenced table would delete or refuse the rows that point at it (SQLite docs,
    "ALTER TABLE", the 12-step procedure). They are checked before commit instead."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # On the driver's connection: through SQLAlchemy the statement would open a
            # transaction, inside which SQLite ignores this pragma.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise ConfigError(
                            f"{_url(engine)}: the upgrade would leave {len(broken)} row(s) "
                            f"pointing at missing rows (first: table {broken[0][0]}); "
                            "nothing was changed. Hint: run `followup doctor`"
                        )
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
