"""outbox: retry by time and in-doubt lookups (failing_since, in_doubt_since)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 01:56:19.777608

No data to move: both columns are read with "or now" (a message already failing when
the database is upgraded counts its failing time, or its doubt, from its next attempt),
so existing rows need no value.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_doubt_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbox_failing_since"), ["failing_since"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_failing_since"))
        batch_op.drop_column("failing_since")
        batch_op.drop_column("in_doubt_since")
