"""audit: indexes on action and entity_id (the Audit page's action list and filters)

Revision ID: 0003_admin
Revises: 0002

No data to move: indexes only.
"""

from __future__ import annotations

from alembic import op

revision = "0003_admin"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entity_id"), ["entity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_action"))
