"""Alembic's environment for followup.

Run through followup.migrate (``followup db upgrade``, ``followup init``), which hands
over an open connection in ``config.attributes["connection"]``; there is no alembic.ini,
because the database URL lives in config.toml.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import followup.models  # noqa: F401  (registers the tables)
from followup.db import UTCDateTime


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types, so a migration file keeps
    meaning the same DDL whatever later happens to the Python classes."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__name__ == "AutoString":
        length = getattr(obj, "length", None)
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_item=render_item,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
