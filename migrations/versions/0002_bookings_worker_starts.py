"""An index on bookings (worker_id, starts_at) for workers' calendar feeds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:45:00

The partial unique index on the same columns leaves out cancelled bookings, which a worker's
feed lists too; without this index the feed scans every booking in its window.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_worker_starts", ["worker_id", "starts_at"], unique=False)


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_worker_starts")
