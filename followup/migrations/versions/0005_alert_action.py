"""safety alerts: what was done on acknowledging (action, sealed note), open-alert index

Revision ID: 0005_alert_action
Revises: 0004_outcomes

No data to move: an alert acknowledged before this revision has no recorded action
(shown as "not recorded"), which is what is known about it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_alert_action"
down_revision = "0004_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("action_note_sealed", sa.LargeBinary(), nullable=True))
        batch_op.create_index(
            "ix_safety_alert_open",
            ["participant_id"],
            unique=False,
            sqlite_where=sa.text("acknowledged_at IS NULL"),
            postgresql_where=sa.text("acknowledged_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_alert_open")
        batch_op.drop_column("action_note_sealed")
        batch_op.drop_column("action")
