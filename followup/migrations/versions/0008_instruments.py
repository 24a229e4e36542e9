"""instruments: applied instrument revisions, answers per item, interview scores

Revision ID: 0008_instruments
Revises: 0007_attempts
Create Date: 2026-11-30 08:00:00

Every existing interview becomes a `core` interview (the column's server default): its
answers are its columns — violence by type, felt safety, risk level — exactly as
followup.answers reads any interview recorded through them, so nothing is copied and
nothing can disagree. It has no instrument revision (NULL: "the core columns").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_instruments"
down_revision = "0007_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instrument_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.String(length=16), nullable=False),
        sa.Column("definition", sa.String(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("revision"),
    )
    with op.batch_alter_table("instrument_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instrument_revision_instrument_id"), ["instrument_id"], unique=False
        )
    op.create_table(
        "instrument_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=True),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interview_id", "item"),
    )
    with op.batch_alter_table("instrument_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instrument_answer_interview_id"), ["interview_id"], unique=False
        )
    op.create_table(
        "interview_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=32), nullable=True),
        sa.Column("withheld", sa.String(), nullable=True),
        sa.Column("override_band", sa.String(length=32), nullable=True),
        sa.Column("override_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("overridden_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interview_id", "score"),
    )
    with op.batch_alter_table("interview_score", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_score_interview_id"), ["interview_id"], unique=False
        )
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("instrument", sa.String(length=64), server_default="core", nullable=False)
        )
        batch_op.add_column(sa.Column("instrument_revision", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.drop_column("instrument_revision")
        batch_op.drop_column("instrument")
    for table in ("interview_score", "instrument_answer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_interview_id"))
        op.drop_table(table)
    with op.batch_alter_table("instrument_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instrument_revision_instrument_id"))
    op.drop_table("instrument_revision")
