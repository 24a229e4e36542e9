"""corrections: record versions, voided interviews and events, "held, nothing asked"

Revision ID: 0006_corrections
Revises: 0005_alert_action
Create Date: 2026-11-30 04:40:00

No data to move: every existing interview and event is current (voided_at NULL), has
no earlier version, and was recorded before "held, nothing asked" existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_corrections"
down_revision = "0005_alert_action"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("notes_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_version_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index("ix_record_version_record", ["record", "record_id"], unique=False)
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nothing_asked_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("voided_at")
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.drop_column("voided_at")
        batch_op.drop_column("nothing_asked_sealed")
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_version_record")
        batch_op.drop_index(batch_op.f("ix_record_version_participant_id"))
    op.drop_table("record_version")
