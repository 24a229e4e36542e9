"""outcomes: the data version the Outcomes page files its cached reports under

Revision ID: 0004_outcomes
Revises: 0003_admin

One table of one row (created by the first write after the upgrade: followup.data_version
inserts it when missing), so no data to move.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_outcomes"
down_revision = "0003_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("data_version")
