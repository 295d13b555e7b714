"""Indexes for the check of a person's live appointments before a booking

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:30:00

The check page looks for live appointments with the same custody record number (however spaced
or cased) or the same name and mobile. Without these it read every booking there has ever been:
at a million bookings, about 100 ms a check, on every booking. Building them took about two
seconds at a million bookings on PostgreSQL, while bookings wait: not worth CONCURRENTLY (which
cannot run in the migration's transaction).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bookings_custody_record_key",
            [sa.text("lower(replace(custody_record, ' ', ''))")],
            unique=False,
        )
        batch_op.create_index("ix_bookings_mobile", ["mobile"], unique=False)


def downgrade():
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_mobile")
        batch_op.drop_index("ix_bookings_custody_record_key")
