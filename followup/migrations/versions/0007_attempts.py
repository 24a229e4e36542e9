"""contact attempts, lost to follow-up, and the sealed safe-contact plan

Revision ID: 0007_attempts
Revises: 0006_corrections
Create Date: 2026-11-30 08:10:00

No data to move: no attempt was recorded before this release (every follow-up starts
with zero attempts), and no plan was sealed (her safe hours stay where they are until
the plan replaces them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_attempts"
down_revision = "0006_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("followup_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("conducted_by", sa.Integer(), nullable=True),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("override_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("import_key", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conducted_by"], ["staff.id"]),
        sa.ForeignKeyConstraint(["followup_id"], ["followup.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("import_key"),
    )
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        for column in ("followup_id", "participant_id", "partner_id"):
            batch_op.create_index(
                batch_op.f(f"ix_contact_attempt_{column}"), [column], unique=False
            )
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("unreached_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_outcome", sa.String(length=24), nullable=True))
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("plan_confirmed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_column("plan_confirmed_on")
        batch_op.drop_column("plan_sealed")
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_column("last_attempt_outcome")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("unreached_attempts")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        for column in ("partner_id", "participant_id", "followup_id"):
            batch_op.drop_index(batch_op.f(f"ix_contact_attempt_{column}"))
    op.drop_table("contact_attempt")
